"""The state machine's last task: write how the run ended to the ledger."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from callsync.models.event import CallProcessed
from callsync.models.ledger import LedgerEntry, Outcome
from callsync.ports import Ledger


class OutcomeInput(BaseModel):
    """What RecordSuccess / RecordFailure pass (see statemachine/post_call_sync.asl.json).

    ``error`` is the Catch result ``{"Error": name, "Cause": text}``; for a Lambda error the
    cause is the JSON ``{"errorMessage", "errorType", ...}`` the runtime produced.
    """

    model_config = ConfigDict(extra="ignore")

    status: Literal["SUCCEEDED", "FAILED", "DEFERRED"]
    call: CallProcessed
    error: dict[str, Any] | None = None
    reason: str | None = None  # DEFERRED: the budget guard's reason (``$.budget.reason``)
    execution_arn: str | None = None
    preview: bool = False  # the org's settings said preview: a run that got through wrote nothing (PREVIEWED)


def failure_cause(error: dict[str, Any] | None) -> str | None:
    """The readable cause: the Lambda ``errorMessage`` when the Cause is a Lambda error document."""
    if not error:
        return None
    cause = error.get("Cause")
    if isinstance(cause, str):
        try:
            parsed = json.loads(cause)
        except json.JSONDecodeError:
            return cause
        if isinstance(parsed, dict) and "errorMessage" in parsed:
            return str(parsed["errorMessage"])
        return cause
    return None if cause is None else json.dumps(cause)


WRITES = frozenset({"created", "updated"})


class RunSummary(BaseModel):
    """What the whole run cost and changed, summed from the steps' ledger entries (for metrics)."""

    api_requests: int = 0
    records_written: int = 0
    features_skipped: int = 0  # features a missing permission stopped (each step's ``skipped_features``)


def summarize(entries: list[LedgerEntry]) -> RunSummary:
    summary = RunSummary()
    for entry in entries:
        if entry.report is None or entry.report.archived:  # kept by a re-association: counted once
            continue
        summary.api_requests += entry.report.api_requests
        summary.records_written += sum(1 for c in entry.report.changes if c.action in WRITES)
        summary.features_skipped += len(entry.report.skipped_features)
    return summary


class RecordOutcome:
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def run(self, data: OutcomeInput) -> tuple[Outcome, RunSummary]:
        """Write the outcome; return it with the run's totals read back from the ledger."""
        outcome = Outcome(
            status="PREVIEWED" if data.status == "SUCCEEDED" and data.preview else data.status,
            error=(data.error or {}).get("Error") if data.status == "FAILED" else None,
            cause=failure_cause(data.error) if data.status == "FAILED" else None,
            execution_arn=data.execution_arn,
            reason=data.reason if data.status == "DEFERRED" else None,
        )
        self._ledger.record_outcome(data.call.call_key, outcome)
        return outcome, summarize(self._ledger.entries(data.call.call_key))
