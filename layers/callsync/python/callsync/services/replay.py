"""Replay: run a call that ended FAILED (or DEFERRED) again, from its stored input, writing nothing twice.

The stored input is the call as its execution received it (Step Functions keeps an execution's input for
90 days). The replay goes through the consumer's own rules (``StartSync.replay``): the event is validated
again, the org's settings are read as they are now — the cause of the failure may have been fixed there —
and a new execution ``<name>-replay<n>`` starts. Every step finds what earlier attempts wrote (ledger roles,
Salesforce lookups), so nothing is written twice. A message the consumer rejected never started an
execution: it is in the dead-letter queue, and SQS's own redrive (docs/operations.md) sends it back through
the consumer once its cause is fixed.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from pydantic import BaseModel

from callsync.errors import PermanentError
from callsync.models.ledger import CallHistory
from callsync.ports import Ledger
from callsync.services.api_budget import REPLAY_MARKER
from callsync.services.call_status import call_status
from callsync.services.start_sync import Decision, Message, StartSync

REPLAYABLE = ("FAILED", "DEFERRED")


class NothingToReplay(PermanentError):
    """The call has no run that ended FAILED or DEFERRED (or no stored input to run it from)."""


class ReplayRunning(NothingToReplay):
    """The latest execution of the call's revision (its first run or a replay) is still running: replaying
    now would run the call twice at once. Asked again once it has ended."""


class ExecutionInputs(Protocol):
    def input_of(self, execution_arn: str) -> dict[str, Any]:
        """The input the execution was started with."""

    def status_of(self, execution_arn: str) -> str:
        """RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED (an execution that timed out or was stopped
        wrote no outcome to the ledger)."""


class ReplayResult(BaseModel):
    org_id: str
    call_id: str
    revision: int
    replayed_status: str  # how the replayed run had ended (FAILED | DEFERRED)
    status: str  # the consumer's decision for the replay: STARTED | SKIPPED | DUPLICATE | REJECTED
    reason: str | None = None
    execution_arn: str | None = None
    attempt: int


def last_run(history: CallHistory) -> tuple[int, str | None, str | None]:
    """(latest revision, how its run ended or None, the execution ARN of its latest start or None)."""
    revisions = history.revisions()
    if not revisions:
        return 0, None, None
    revision = revisions[-1]
    entries = [e for e in history.entries if e.revision == revision]
    outcome = next((e.outcome for e in entries if e.outcome is not None), None)
    starts = sorted(
        (
            e.delivery
            for e in entries
            if e.delivery is not None and e.delivery.execution_arn and e.delivery.status == "STARTED"
        ),
        key=lambda d: d.received_at,
    )
    return revision, outcome.status if outcome else None, starts[-1].execution_arn if starts else None


class ReplayCall:
    def __init__(self, ledger: Ledger, inputs: ExecutionInputs, consumer: StartSync) -> None:
        self._ledger = ledger
        self._inputs = inputs
        self._consumer = consumer

    def run(self, org_id: str, call_id: str) -> ReplayResult:
        """Replay the call's latest revision if its run ended FAILED or DEFERRED.

        Raises:
            ReplayRunning: the revision's latest execution (its first run or a replay) is still running.
            NothingToReplay: the run succeeded, was skipped, or was never started.
        """
        history = self._ledger.history(org_id, call_id)
        revision, ended, execution_arn = last_run(history)
        if not revision:
            raise NothingToReplay(f"no run of call {call_id} (org {org_id}) is in the ledger")
        current = call_status(history, org_id, call_id, revision)
        if current.status == "RUNNING" and current.execution_arn:
            # No outcome since the latest start (the first run, or a replay newer than a stale FAILED/DEFERRED
            # outcome): still running, or it timed out or was stopped before RecordOutcome.
            execution_arn = current.execution_arn
            status = self._inputs.status_of(execution_arn)
            if status == "RUNNING":
                name = execution_arn.rsplit(":", 1)[-1]
                run = "a replay" if REPLAY_MARKER in name else "its run"
                raise ReplayRunning(
                    f"a replay is running: {run} of call {call_id} revision {revision} (execution {name}) "
                    "has not ended; replay it again once it has"
                )
            ended = status if status in ("TIMED_OUT", "ABORTED", "FAILED") else None
        if ended not in (*REPLAYABLE, "TIMED_OUT", "ABORTED") or execution_arn is None:
            state = ended or "not finished (still running, or never started: see the dead-letter queue)"
            raise NothingToReplay(f"call {call_id} revision {revision} is {state}: nothing to replay")
        stored = self._inputs.input_of(execution_arn)
        attempt = 1 + sum(
            1
            for e in history.entries
            if e.revision == revision and e.delivery is not None and e.delivery.message_id.startswith("replay-")
        )
        message = Message(
            message_id=f"replay-{attempt}-{execution_arn.rsplit(':', 1)[-1]}"[:120], body=json.dumps(stored["call"])
        )
        decision: Decision = self._consumer.replay(message, attempt)
        return ReplayResult(
            org_id=org_id,
            call_id=call_id,
            revision=revision,
            replayed_status=str(ended),
            status=decision.status,
            reason=decision.report.reason,
            execution_arn=decision.report.execution_arn,
            attempt=attempt,
        )
