"""Revert: undo what callsync wrote to Salesforce for a call, wherever nobody changed it since.

The ledger says what was written (every revision); Salesforce says what is there now (one composite read);
``domain.revert_plan`` decides; one composite request writes (collections update + delete). The revert is
recorded as the call's ``Revert`` step report at its latest revision (``reverted`` / ``kept`` changes, each
kept one with its reason), so ``callsync status`` shows it. Each Contact/Lead it deletes loses its org-wide
claim (``services.create_contacts``), so no later call reuses the deleted id. Running it again reads again
and writes only what is still to revert: nothing, once a revert has finished.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, Field

from callsync.domain.revert_plan import (
    PEOPLE,
    REVERT_STEP,
    RevertPlan,
    WrittenRecord,
    lease_keys,
    parent_ids,
    people_ids,
    plan_revert,
    records_to_read,
    written_records,
)
from callsync.errors import PermanentError
from callsync.models.event import call_key
from callsync.models.ledger import RecordChange, StepReport
from callsync.ports import Claims, Leases, Ledger, SettingsStore
from callsync.ports.revert import RecordReverter
from callsync.services.create_contacts import claim_key
from callsync.services.record_leases import WAIT_SECONDS, holding

RevertStatus = Literal["REVERTED", "PARTLY_REVERTED"]


class NothingToRevert(PermanentError):
    """The ledger holds no run of the call."""


class RefusedInPreview(PermanentError):
    """The org's settings say ``"preview": true``: callsync writes nothing to its Salesforce org."""


def refuse_in_preview(settings: SettingsStore | None, org_id: str, command: str) -> None:
    """Raise ``RefusedInPreview`` while the org is in preview mode (before anything is read or written).

    Revert and reassociate write to Salesforce and a reassociate runs the call again: in preview mode that
    run would only be previewed while the move itself was written, so both are refused as a whole.
    """
    if settings is not None and settings.get(org_id).preview:
        raise RefusedInPreview(
            f'{command} refused: the settings of org {org_id} say "preview": true, so callsync writes nothing '
            f'to its Salesforce org; set "preview": false, then run {command} again'
        )


class RevertResult(BaseModel):
    org_id: str
    call_id: str
    revision: int
    status: RevertStatus  # PARTLY_REVERTED: something was left alone (see the kept changes)
    changes: list[RecordChange] = Field(default_factory=list)
    writes: int = 0  # records updated or deleted by this revert
    api_requests: int = 0


class RevertCall:
    def __init__(
        self,
        ledger: Ledger,
        records: RecordReverter,
        *,
        leases: Leases | None = None,
        settings: SettingsStore | None = None,
        shared_activities: Callable[[], bool] = lambda: False,
        claims: Claims | None = None,
        api_requests: Callable[[], int] = lambda: 0,
        lease_wait_seconds: float = WAIT_SECONDS,
    ) -> None:
        self._settings = settings
        self._shared_activities = shared_activities
        self._claims = claims
        self._ledger = ledger
        self._records = records
        self._leases = leases
        self._api_requests = api_requests
        self._lease_wait_seconds = lease_wait_seconds

    def run(self, org_id: str, call_id: str) -> RevertResult:
        """Revert the call (see module doc).

        Raises:
            RefusedInPreview: the org's settings say ``"preview": true`` (nothing is read or written).
            NothingToRevert: no run of the call is in the ledger.
            ConcurrentUpdate: a call kept writing one of the records for the whole wait (run it again).
            RetryableError / PermanentError: from Salesforce; nothing is recorded then.
        """
        refuse_in_preview(self._settings, org_id, "revert")
        history = self._ledger.history(org_id, call_id)
        revisions = history.revisions()
        if not revisions:
            raise NothingToRevert(f"no run of call {call_id} (org {org_id}) is in the ledger")
        written = written_records(history)
        people = people_ids(written)
        relation_objects = {r.object for r in written if r.role == "relation"}
        if people and self._shared_activities():
            # A person callsync created may since be related to other activities (by a person, another
            # call): both relation objects are asked, whichever this call wrote.
            relation_objects |= {"EventRelation", "TaskRelation"}
        owner = f"revert#{call_key(org_id, call_id, revisions[-1])}"
        keys = lease_keys(org_id, call_id, written, parent_ids(history))
        # From the read to the write no pipeline step of any call writes these records (the same leases)
        with holding(self._leases, keys, owner, wait_seconds=self._lease_wait_seconds) as held:
            now = self._records.read(records_to_read(written), people, sorted(relation_objects))
            plan = plan_revert(written, now, call_id)
            failures: dict[str, str] = {}
            if plan.updates or plan.deletes:
                held.written.update(held.grants)
                failures = self._records.write(plan.updates, plan.deletes).failures
        gone = [d for d in plan.deletes if d not in failures] + [p for p in people if now.records.get(p) is None]
        self._forget_claims(org_id, written, gone)
        changes = _with_failures(plan, failures)
        report = StepReport(step=REVERT_STEP, changes=changes, api_requests=self._api_requests())
        report.warnings = [f"{c.object} {c.id} kept: {c.note}" for c in changes if c.action == "kept"]
        self._ledger.record_step(call_key(org_id, call_id, revisions[-1]), report)
        return RevertResult(
            org_id=org_id,
            call_id=call_id,
            revision=revisions[-1],
            status="PARTLY_REVERTED" if any(c.action == "kept" for c in changes) else "REVERTED",
            changes=changes,
            writes=len(plan.updates) + len(plan.deletes) - len(failures),
            api_requests=report.api_requests,
        )

    def _forget_claims(self, org_id: str, written: list[WrittenRecord], deleted: list[str]) -> None:
        """Drop the claims naming the people just deleted (a claim naming another record is left alone)."""
        if self._claims is None:
            return
        gone = set(deleted)
        for record in written:
            email = record.fields.get("Email")
            if record.object in PEOPLE and record.id in gone and email is not None and email.last_after:
                self._claims.forget(claim_key(org_id, str(email.last_after)), f"{record.object}:{record.id}")


def _with_failures(plan: RevertPlan, failures: dict[str, str]) -> list[RecordChange]:
    """The plan's changes, a record whose write (update or delete) Salesforce refused turned into ``kept``
    with Salesforce's reason (``failures`` is keyed by the ids the plan wrote)."""
    if not failures:
        return plan.changes
    out: list[RecordChange] = []
    for change in plan.changes:
        error = failures.get(change.id or "")
        if error and change.action == "reverted":
            out.append(change.model_copy(update={"action": "kept", "note": f"Salesforce refused the revert: {error}"}))
        else:
            out.append(change)
    return out
