"""Reassociate: move a call to the Opportunity or Account a person chose, and keep that choice.

The rule (docs/operations.md, "reassociate"; docs/matching.md, "Manual association"):

1. The choice is checked (the record must exist and be visible to the integration user) and recorded as the
   call's ``Reassociate`` step at its latest revision (a change with role ``association``): MatchOpportunity
   of this and every later revision uses it, until a newer explicit choice (``domain.association``).
2. In one composite read and one composite write: the logged activity and the follow-up Tasks get the new
   ``WhatId`` (where it is still the one callsync wrote), the note's links to the old Opportunity/Account
   are deleted (a link cannot be re-parented), and the field values callsync wrote on the old
   Opportunity/Account (and the via-records hanging on them, created or appended to) are reverted where
   nobody changed them since (``domain.revert_plan``); what is left alone is listed with the reason.
3. The latest revision runs again from its stored input (a new execution ``<name>-move<n>`` through the
   consumer's rules, like ``callsync replay``): MatchOpportunity takes the chosen record, SyncFields applies
   the call's fields to it, LogActivity finds its activity already moved and links the existing note to
   it (a link on its own, in its one write). Before that run, the revision's step reports are kept in the
   ledger as ``"<step> (before reassociate <n>)"``, so what the first run created is still known
   (``callsync revert`` needs it), and its LogActivity report no longer names the deleted links
   (LogActivity trusts its ledger: a link it names is not written again).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, Field

from callsync.domain.association import MOVED_KEY, REASSOCIATE_STEP, Association, association_change
from callsync.domain.revert_plan import (
    BEFORE_MOVE,
    CurrentState,
    RecordRef,
    WrittenRecord,
    lease_keys,
    parent_ids,
    plan_revert,
    records_to_read,
    still_written,
    written_records,
)
from callsync.errors import PermanentError
from callsync.models.event import call_key
from callsync.models.ledger import CallHistory, FieldChange, RecordChange, StepReport
from callsync.ports import Leases, Ledger, SettingsStore
from callsync.ports.revert import RecordReverter
from callsync.services.record_leases import WAIT_SECONDS, holding
from callsync.services.replay import ExecutionInputs, last_run
from callsync.services.revert import refuse_in_preview
from callsync.services.start_sync import Message, StartSync

Target = Literal["Opportunity", "Account"]
PIPELINE_STEPS = ("CreateContacts", "SyncFields", "LogActivity")
MOVED_ROLES = ("activity", "follow_up")
MOVE_PREFIX = "reassociate-"


class CannotReassociate(PermanentError):
    """The call has no run to move, or the chosen record does not exist or is not visible."""


class ReassociateResult(BaseModel):
    org_id: str
    call_id: str
    revision: int
    target_object: Target
    target_id: str
    status: str  # the consumer's decision for the run again: STARTED | SKIPPED | DUPLICATE | REJECTED
    reason: str | None = None
    execution_arn: str | None = None
    changes: list[RecordChange] = Field(default_factory=list)
    api_requests: int = 0


class ReassociateCall:
    def __init__(
        self,
        ledger: Ledger,
        records: RecordReverter,
        inputs: ExecutionInputs,
        consumer: StartSync,
        *,
        now: Callable[[], str],
        leases: Leases | None = None,
        settings: SettingsStore | None = None,
        api_requests: Callable[[], int] = lambda: 0,
        lease_wait_seconds: float = WAIT_SECONDS,
    ) -> None:
        self._settings = settings
        self._leases = leases
        self._lease_wait_seconds = lease_wait_seconds
        self._ledger = ledger
        self._records = records
        self._inputs = inputs
        self._consumer = consumer
        self._now = now
        self._api_requests = api_requests

    def run(self, org_id: str, call_id: str, target: Target, target_id: str) -> ReassociateResult:
        """Move the call (see module doc).

        Raises:
            RefusedInPreview: the org's settings say ``"preview": true`` (nothing is read or written).
            CannotReassociate: no run of the call, no stored input, or the chosen record is not there.
            RetryableError / PermanentError: from Salesforce (nothing is recorded then).
        """
        refuse_in_preview(self._settings, org_id, "reassociate")
        history = self._ledger.history(org_id, call_id)
        revision, _ended, execution_arn = last_run(history)
        if not revision or execution_arn is None:
            raise CannotReassociate(f"no run of call {call_id} (org {org_id}) is in the ledger")
        written = [r for r in written_records(history) if r.role in ("fields", *MOVED_ROLES, "note", "note_link")]
        owner = f"reassociate#{call_key(org_id, call_id, revision)}"
        keys = lease_keys(org_id, call_id, written, parent_ids(history))
        # From the read to the write no pipeline step of any call writes these records (the same leases);
        # they are given back before the call runs again.
        with holding(self._leases, keys, owner, wait_seconds=self._lease_wait_seconds) as held:
            target_fields = ("Id", "AccountId") if target == "Opportunity" else ("Id",)
            chosen = RecordRef(target, target_id, target_fields)
            now = self._records.read([chosen, *records_to_read(written)], [], [])
            found = now.records.get(target_id)
            if found is None:
                raise CannotReassociate(
                    f"{target} {target_id} does not exist or is not visible to the integration user"
                )
            new_ids = {target_id, *([str(found["AccountId"])] if found.get("AccountId") else [])}
            old = [r for r in written if _on_old_target(r, new_ids, now)]
            plan = plan_revert(old, now, call_id)
            moves, move_changes = _moves(written, now, target_id)
            stale_links = _stale_links(written, now, new_ids)
            updates, deletes = [*plan.updates, *moves], [*plan.deletes, *(r.id for r in stale_links)]
            outcome = None
            if updates or deletes:
                held.written.update(held.grants)
                outcome = self._records.write(updates, deletes, [])
            failures = outcome.failures if outcome else {}
        changes = [
            association_change(Association(target, target_id, "reassociate", self._now()), MOVED_KEY),
            *plan.changes,
            *move_changes,
            *(_link_change(r) for r in stale_links),
        ]
        changes = [_refused(c, failures) for c in changes]
        attempt = 1 + _moves_so_far(history, revision)
        key = call_key(org_id, call_id, revision)
        for step in PIPELINE_STEPS:  # what the first run of this revision wrote, kept before it runs again
            report = history.step(revision, step)
            if report is not None:
                archived = {"step": f"{step}{BEFORE_MOVE}{attempt})", "archived": True}
                self._ledger.record_step(key, report.model_copy(update=archived))
        logged = history.step(revision, "LogActivity")
        if logged is not None and stale_links:  # LogActivity trusts its report: the deleted links leave it
            gone = {r.id for r in stale_links}
            kept = [c for c in logged.changes if c.id not in gone]
            self._ledger.record_step(key, logged.model_copy(update={"changes": kept}))
        report = StepReport(step=REASSOCIATE_STEP, changes=changes, api_requests=self._api_requests())
        report.warnings = [f"{c.object} {c.id} kept: {c.note}" for c in changes if c.action == "kept"]
        self._ledger.record_step(key, report)
        stored = self._inputs.input_of(execution_arn)
        message = Message(
            message_id=f"{MOVE_PREFIX}{attempt}-{execution_arn.rsplit(':', 1)[-1]}"[:120],
            body=json.dumps(stored["call"]),
        )
        decision = self._consumer.handle(message, name_suffix=f"-move{attempt}")
        return ReassociateResult(
            org_id=org_id,
            call_id=call_id,
            revision=revision,
            target_object=target,
            target_id=target_id,
            status=decision.status,
            reason=decision.report.reason,
            execution_arn=decision.report.execution_arn,
            changes=changes,
            api_requests=report.api_requests,
        )


def _on_old_target(record: WrittenRecord, new_ids: set[str], now: CurrentState) -> bool:
    """Field writes that belonged to the old association: the old Opportunity/Account, and the via-records
    (created or updated by the call) that hang on another record than the new one."""
    if record.role != "fields" or record.id in new_ids:
        return False
    if record.object in ("Opportunity", "Account"):
        return not record.created
    if record.via_field is None:  # a record written by id (the primary Contact): not the association's
        return False
    written = record.fields.get(record.via_field)
    parent = (now.records.get(record.id) or {}).get(record.via_field) or (written.last_after if written else None)
    return parent is not None and str(parent)[:15] not in {i[:15] for i in new_ids}


def _moves(
    written: list[WrittenRecord], now: CurrentState, what_id: str
) -> tuple[list[dict[str, object]], list[RecordChange]]:
    """The activity and follow-ups whose WhatId is still the one callsync wrote: to ``what_id``."""
    updates: list[dict[str, object]] = []
    changes: list[RecordChange] = []
    for record in written:
        writes = record.fields.get("WhatId")
        current = now.records.get(record.id)
        if record.role not in MOVED_ROLES or writes is None or current is None:
            continue
        value = current.get("WhatId")
        base = {"object": record.object, "id": record.id, "url": record.url, "label": record.label, "role": record.role}
        if value == what_id:
            continue
        if not still_written(value, writes.last_after):
            note = "WhatId changed since callsync wrote it"
            kept = FieldChange(field="WhatId", before=value, after=value, note=note)
            changes.append(RecordChange.model_validate({**base, "action": "kept", "note": note, "fields": [kept]}))
            continue
        updates.append({"attributes": {"type": record.object}, "Id": record.id, "WhatId": what_id})
        moved = FieldChange(field="WhatId", before=value, after=what_id, note="moved")
        changes.append(RecordChange.model_validate({**base, "action": "updated", "fields": [moved]}))
    return updates, changes


def _stale_links(written: list[WrittenRecord], now: CurrentState, new_ids: set[str]) -> list[WrittenRecord]:
    """The note's links callsync created to an Opportunity/Account that is no longer the call's."""
    out = []
    for record in written:
        writes = record.fields.get("LinkedEntityId")
        if record.role != "note_link" or not record.created or writes is None or now.records.get(record.id) is None:
            continue
        linked = str(writes.last_after or "")
        if linked.startswith(("006", "001")) and linked not in new_ids:
            out.append(record)
    return out


def _link_change(record: WrittenRecord) -> RecordChange:
    return RecordChange(
        action="reverted", object=record.object, id=record.id, role=record.role, note="link to the old record removed"
    )


def _refused(change: RecordChange, failures: dict[str, str]) -> RecordChange:
    error = failures.get(change.id or "")
    if error is None or change.action == "kept" or change.role == "association":
        return change
    return change.model_copy(update={"action": "kept", "note": f"Salesforce refused the change: {error}"})


def _moves_so_far(history: CallHistory, revision: int) -> int:
    return sum(
        1
        for e in history.entries
        if e.revision == revision and e.delivery is not None and e.delivery.message_id.startswith(MOVE_PREFIX)
    )
