"""A call's status: how its sync ended and every Salesforce record related to it, from one ledger query.

Pure mapping from ``Ledger.history(org, call)`` (every entry of every revision: one DynamoDB query) to a
``CallStatus``. A record several steps touched (the matched Opportunity, then its fields) is one record: its
action is the strongest of theirs and each field shows its first *before* and its last *after*; what a later
``Revert`` / ``Reassociate`` did to it (``reverted``, ``kept``) replaces that action, those steps applied in the
order they were recorded. A change the pipeline did not make (``failed``, ``skipped``) is not a record: its note
becomes a warning.
"""

from __future__ import annotations

from callsync.domain.revert_plan import AFTER_PIPELINE
from callsync.models.call_status import STATUS_ACTIONS, CallStatus, FieldBeforeAfter, StatusRecord
from callsync.models.ledger import CallHistory, LedgerEntry, RecordChange, StepReport
from callsync.ports import Ledger

STEP_ORDER = ("MatchOpportunity", "CreateContacts", "SyncFields", "LogActivity")
LINK_ROLES = frozenset({"relation", "note_link"})
# What a step run after the pipeline (revert, reassociate) did to a record replaces what the pipeline did.
UNDO_ACTIONS = frozenset({"reverted", "kept"})
# When several steps touched one record, the record shows the first of these its changes hold.
ACTION_STRENGTH = (
    "created",
    "would_create",
    "updated",
    "would_update",
    "reverted",
    "kept",
    "linked",
    "reused",
    "unchanged",
)


class CallStatusService:
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def run(self, org_id: str, call_id: str, revision: int | None = None) -> CallStatus:
        """The status of ``revision`` of the call (default: its latest), from one ledger query."""
        return call_status(self._ledger.history(org_id, call_id), org_id, call_id, revision)


def call_status(history: CallHistory, org_id: str, call_id: str, revision: int | None = None) -> CallStatus:
    revisions = history.revisions()
    base = CallStatus(org_id=org_id, call_id=call_id, revision=revision, status="NOT_FOUND", revisions=revisions)
    if not revisions:
        base.reason = f"no run of call {call_id} (org {org_id}) is in the ledger"
        return base
    chosen = revision if revision is not None else revisions[-1]
    base.revision = chosen
    if chosen not in revisions:
        listed = ", ".join(str(r) for r in revisions)
        base.reason = f"revision {chosen} of call {call_id} (org {org_id}) is not in the ledger (revisions: {listed})"
        return base
    entries = [e for e in history.entries if e.revision == chosen]
    _ended(base, entries)
    # A re-association keeps the reports it replaced under an archived step name: not the call's records now.
    current = [e for e in entries if e.report is not None and not e.report.archived]
    reports = [e.report for e in sorted(current, key=_entry_rank) if e.report is not None]
    base.api_requests = sum(r.api_requests for r in reports)
    base.records, notes = _records(reports)
    base.warnings = list(dict.fromkeys([w for r in reports for w in r.warnings] + notes))
    return base


def _entry_rank(entry: LedgerEntry) -> tuple[int, str, str]:
    """Pipeline steps in pipeline order, then the steps run after it (revert, reassociate) as recorded."""
    step = entry.report.step if entry.report is not None else ""
    if step in STEP_ORDER:
        return STEP_ORDER.index(step), "", step
    if step in AFTER_PIPELINE:
        return len(STEP_ORDER) + 1, entry.recorded_at or "", step
    return len(STEP_ORDER), "", step


def _ended(status: CallStatus, entries: list[LedgerEntry]) -> None:
    """Status, reason, error and execution of the run: its outcome, else the consumer's last decision."""
    entry = next((e for e in entries if e.outcome is not None), None)
    deliveries = sorted((e.delivery for e in entries if e.delivery is not None), key=lambda d: d.received_at)
    starts = [d for d in deliveries if d.status == "STARTED"]
    if entry is not None and entry.outcome is not None:
        outcome = entry.outcome
        restarted = starts and (entry.recorded_at or "") < starts[-1].received_at  # a replay is running
        if not restarted:
            status.status = outcome.status
            status.execution_arn = outcome.execution_arn
            status.reason = getattr(outcome, "reason", None)  # an outcome that says why (DEFERRED)
            if outcome.error or outcome.cause:
                status.error = ": ".join(p for p in (outcome.error, outcome.cause) if p)
            return
    if starts:
        status.status = "RUNNING"
        status.execution_arn = starts[-1].execution_arn
        status.reason = "the execution has recorded no outcome yet (running, or it timed out or was stopped)"
        return
    if deliveries:
        last = deliveries[-1]
        status.status = last.status
        status.reason = last.reason
        if last.status == "REJECTED":
            status.error = last.reason


def _key(change: RecordChange, index: int) -> tuple[str, str]:
    return (change.object, change.id) if change.id else (change.object, f"#{index}")


def _action(change: RecordChange) -> str:
    if change.action == "created" and change.role in LINK_ROLES:
        return "linked"
    return change.action


def _records(reports: list[StepReport]) -> tuple[list[StatusRecord], list[str]]:
    records: dict[tuple[str, str], StatusRecord] = {}
    notes: list[str] = []
    index = 0
    for report in reports:
        for change in report.changes:
            index += 1
            action = _action(change)
            if action not in STATUS_ACTIONS:  # failed, skipped: nothing was done to a record
                what = f"{change.object} '{change.label}'" if change.label else change.object
                notes.append(f"{report.step}: {what} {action}" + (f": {change.note}" if change.note else ""))
                continue
            record = records.get(_key(change, index))
            if record is None:
                record = records[_key(change, index)] = StatusRecord(
                    object=change.object,
                    id=change.id,
                    url=change.url,
                    label=change.label,
                    action=action,  # type: ignore[arg-type]
                )
            elif report.step in AFTER_PIPELINE and action in UNDO_ACTIONS:
                record.action = action  # type: ignore[assignment]
                record.note = change.note or record.note
            elif ACTION_STRENGTH.index(action) < ACTION_STRENGTH.index(record.action):
                record.action = action  # type: ignore[assignment]
            record.url = record.url or change.url
            record.label = record.label or change.label
            record.note = record.note or change.note
            if report.step not in record.steps:
                record.steps.append(report.step)
            for field in change.fields:
                seen = record.fields.get(field.field)
                if seen is None:
                    record.fields[field.field] = FieldBeforeAfter(
                        before=field.before, after=field.after, policy=field.policy, note=field.note
                    )
                else:
                    seen.after, seen.policy, seen.note = field.after, field.policy or seen.policy, field.note
    return list(records.values()), notes
