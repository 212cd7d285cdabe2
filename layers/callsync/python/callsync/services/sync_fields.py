"""SyncFields: write the call's insights into the Salesforce fields an admin mapped.

One use case, written against three ports: ``FieldStore`` (this step's narrow
Salesforce port, below; adapter ``callsync.adapters.salesforce_fields``),
``DescribeSource`` (cached field metadata) and ``Ledger``.

Flow (see docs/field-sync.md):

1. Jobs: one per mapping (when field sync is enabled) plus the Account link
   field (``company.url``, fill-empty) when ``account_link_field`` is set.
2. Targets (``domain.field_targets``); a mapping without a record for this call
   is skipped and reported; an object the user cannot see/edit fails its target.
3. Field checks from describe: a hidden or read-only field is skipped with the
   fix (Object.Field, field-level security); everything else still syncs.
4. Current values: from the match step's read-ahead (``MatchResult.current_values``, with who last
   modified each record: ``MatchResult.last_modified``); what is missing — a record whose modifier was not
   read ahead when people's edits are protected, and every via-object lookup — in one ``FieldStore.read``,
   which reads each record's modifier too. A person's edit of a record after the call started
   (``domain.person_edits``) keeps the values this call would overwrite there (``field_policies``).
   Every record this call may write is leased (``ports.Leases``, ``services.record_leases``) from
   this read to the confirmed write, so two calls never read-modify-write one record at once. The
   read-ahead is trusted only when the lease says no write was sent under it since the read-ahead
   was taken (``LeaseGrant.read_is_current``) and no earlier attempt of this step recorded itself
   (a retry or replay); otherwise the record is read afresh under the lease.
   Under the leases the call's ledger history is read (one query): when a newer revision of the call
   already synced its fields, this one writes nothing; otherwise what earlier revisions wrote
   (``services.field_history``) lets this revision replace its own contribution, and a record this
   call wrote before is read afresh with who last modified it, so a person's later edit is kept
   (``protect_human_edits``, ``domain.field_revisions``).
5. Coerce (``domain.value_coercion``) and decide (``domain.field_policies``).
6. One ``FieldStore.write``: updates and via-object creates. A failed write fails
   its target only; a retryable one (lock, 5xx) raises after the ledger entry is
   written, and the retry is idempotent (the policies see what was written). The
   ledger entry is recorded before the leases are given back (the next revision to hold them sees it);
   the leases are given back on every path, stamped when a write was sent.
"""

from __future__ import annotations

from callsync.domain.field_targets import Unresolved, fields_lease_key, resolve_target
from callsync.domain.person_edits import PersonEdit, person_edit
from callsync.errors import RetryableError
from callsync.models.fields import FieldSyncResult, LastModified, ReadOutcome, RecordRead, RecordWrite, WriteOutcome
from callsync.models.ledger import FieldChange, RecordAction, RecordChange, StepReport, record_url
from callsync.models.state import SyncState
from callsync.ports import DescribeSource, Leases, Ledger
from callsync.ports.fields import FieldStore
from callsync.services.field_history import newer_revision_synced, prior_writes
from callsync.services.field_plan import (
    FieldPlan,
    check_access,
    decide_plan,
    plan_jobs,
    report_unresolved,
)
from callsync.services.record_leases import WAIT_SECONDS, HeldLeases, holding

STEP = "SyncFields"
CLOCK_SKEW_SECONDS = 0.25  # margin between a writer's clock (its lease stamp) and the match step's (read_at)


class SyncFields:
    """The SyncFields step. ``run`` returns the step's result and records it in the ledger."""

    def __init__(
        self,
        store: FieldStore,
        describes: DescribeSource,
        ledger: Ledger,
        leases: Leases | None = None,
        *,
        lease_wait_seconds: float = WAIT_SECONDS,
    ) -> None:
        self.store = store
        self.describes = describes
        self.ledger = ledger
        self.leases = leases
        self.lease_wait_seconds = lease_wait_seconds

    def run(self, state: SyncState) -> FieldSyncResult:
        """Sync the mapped fields of one call.

        Raises:
            RetryableError: Salesforce failed transiently (after the ledger entry is written).
            ConcurrentUpdate: another call kept one of the same records leased for the whole wait.
        """
        report = StepReport(step=STEP)
        result = FieldSyncResult(report=report)
        groups = plan_jobs(state, report)
        if not groups:
            return self._finish(state, result)
        objects = list(dict.fromkeys(obj for obj, _, _ in groups.values()))
        describes = self.describes.describe(objects)

        plans: list[FieldPlan] = []
        for obj, via, jobs in groups.values():
            target = resolve_target(obj, via, state.match, state.contacts, describes)
            if isinstance(target, Unresolved):
                report_unresolved(target, jobs, result)
                continue
            plan = check_access(target, describes.get(target.object), jobs, result)
            if plan is not None:
                plans.append(plan)

        keys = [self._lease_key(state, plan) for plan in plans if plan.failure is None and plan.jobs]
        with holding(self.leases, keys, state.call.call_key, wait_seconds=self.lease_wait_seconds) as held:
            # Read under the leases: another revision of this call that wrote these records has recorded itself.
            history = self.ledger.history(state.call.org_id, state.call.call_id)
            newer = newer_revision_synced(history, state.call.revision)
            if newer is not None:
                self._skip_older(state, plans, newer, result)
                return self._finish(state, result)
            priors = prior_writes(history, state.call.revision)
            for plan in plans:
                plan.priors = priors.get(plan.target.key, {})
            self._check_leases(state, plans, held)
            self._load_current(state, plans, retried=history.step(state.call.revision, STEP) is not None)
            call_date = state.call.started_at.date()
            for plan in plans:
                if plan.failure is None:
                    decide_plan(plan, call_date, state, result)
            self._write(state, plans, result, held)
            return self._finish(state, result)  # recorded before the leases are given back

    # -- revisions -------------------------------------------------------------------------------------

    def _skip_older(self, state: SyncState, plans: list[FieldPlan], newer: int, result: FieldSyncResult) -> None:
        """A newer revision of this call already synced its fields: this older one writes nothing."""
        note = (
            f"revision {newer} of this call already synced its fields: revision {state.call.revision} is older "
            "and writes nothing"
        )
        for plan in plans:
            target = plan.target
            url = record_url(self.store.instance_url, target.object, plan.record_id) if plan.record_id else None
            result.report.changes.append(
                RecordChange(
                    action="skipped",
                    object=target.object,
                    id=plan.record_id,
                    url=url,
                    label=target.label,
                    fields=[FieldChange(field=fd.name, policy="skip", note=note) for _, fd, _ in plan.jobs],
                    note=note,
                    role="fields",
                    key=target.key,
                )
            )

    # -- concurrency -----------------------------------------------------------------------------------

    @staticmethod
    def _lease_key(state: SyncState, plan: FieldPlan) -> str:
        """One lease per Salesforce record; a via-record by its parent (it may not exist yet)."""
        target = plan.target
        plan.lease_key = fields_lease_key(
            state.call.org_id, target.object, target.record_id, target.via, target.parent_id
        )
        return plan.lease_key

    @staticmethod
    def _check_leases(state: SyncState, plans: list[FieldPlan], held: HeldLeases) -> None:
        """Mark the records whose read-ahead may miss a write sent under their lease since it was taken."""
        read_at = state.match.read_at.timestamp() if state.match and state.match.read_at else None
        for plan in plans:
            grant = held.grants.get(plan.lease_key or "")
            if grant is None:
                continue
            if plan.target.created_by_call:  # created moments ago by this call: any stamp is a later write
                plan.contended = grant.taken_over or grant.last_written_at is not None
            else:
                plan.contended = not grant.read_is_current(read_at, skew_seconds=CLOCK_SKEW_SECONDS)

    # -- 1. jobs ---------------------------------------------------------------------------------------

    # -- 2./3. targets and permissions ----------------------------------------------------------------

    # -- 4. current values -----------------------------------------------------------------------------

    def _load_current(self, state: SyncState, plans: list[FieldPlan], *, retried: bool) -> None:
        protect = state.settings.protect_human_edits
        ahead = None if retried else state.match
        known_by_id = ahead.current_values if ahead is not None else {}
        modifiers = ahead.last_modified if ahead is not None else {}
        reads: list[RecordRead] = []
        for plan in plans:
            if plan.failure is not None or not plan.jobs:
                continue
            names = list(dict.fromkeys(fd.name for _, fd, _ in plan.jobs))
            target = plan.target
            # Under protect_human_edits every read also reads who last modified the record (same query).
            if target.via is not None:
                reads.append(
                    RecordRead(
                        target.key,
                        target.object,
                        tuple(names),
                        via=target.via,
                        parent_id=target.parent_id,
                        last_modified=protect,
                    )
                )
                continue
            # A record this call wrote before is read afresh, with who last modified it: a person's edit is kept.
            modified = protect and bool(plan.priors)
            if target.created_by_call and not (retried or plan.contended or modified):
                plan.current = {n.lower(): None for n in names}  # created moments ago by this call
                continue
            fresh = plan.contended or modified
            known_values = {} if fresh else known_by_id.get(target.record_id or "") or {}
            known = {k.lower(): v for k, v in known_values.items()}
            plan.current = known
            missing = tuple(n for n in names if n.lower() not in known)
            # who last modified it, from the read-ahead (read with the values: domain.person_edits)
            last = None if fresh or not known else modifiers.get(target.record_id or "")
            if protect and last is not None:
                plan.edit = self._person_edit(state, last)
            if missing or (protect and last is None):
                fields = missing or tuple(names)
                reads.append(
                    RecordRead(target.key, target.object, fields, record_id=target.record_id, last_modified=protect)
                )
        if not reads:
            return
        outcomes = self.store.read(reads)
        by_key = {p.target.key: p for p in plans}
        for read in reads:
            plan = by_key[read.key]
            outcome = outcomes.get(read.key) or ReadOutcome(error=None)
            if outcome.error is not None:
                if isinstance(outcome.error, RetryableError):
                    raise outcome.error
                plan.failure = f"could not read {plan.target.object}: {outcome.error}"
                continue
            record = outcome.record
            if record is None and plan.target.via is not None:
                plan.creating = True
                plan.current = {n.lower(): None for n in read.fields}
                continue
            if record is None:
                plan.failure = f"{plan.target.object} {plan.target.record_id} was not found (deleted?)"
                continue
            if plan.target.via is not None:
                plan.record_id = str(record.get("Id"))
            plan.current.update({k.lower(): v for k, v in record.items() if k != "attributes"})
            last = outcome.last_modified
            if protect and last is not None:
                plan.edit = self._person_edit(state, last)

    def _person_edit(self, state: SyncState, last: LastModified) -> PersonEdit | None:
        return person_edit(last, integration_user_id=self.store.integration_user_id, since=state.call.started_at_utc)

    # -- 5. decisions ----------------------------------------------------------------------------------

    # -- 6. write --------------------------------------------------------------------------------------

    def _write(self, state: SyncState, plans: list[FieldPlan], result: FieldSyncResult, held: HeldLeases) -> None:
        sending = [p for p in plans if p.failure is None and p.values]
        writes = [
            RecordWrite(p.target.key, p.target.object, dict(p.values), None if p.creating else p.record_id)
            for p in sending
        ]
        for plan in sending:  # whatever the answer, a write may have landed: the next holder reads afresh
            held.mark_written(plan.lease_key or "")
        outcomes: dict[str, WriteOutcome] = self.store.write(writes) if writes else {}
        retry: RetryableError | None = None
        for plan in plans:
            outcome = outcomes.get(plan.target.key)
            if outcome is not None and isinstance(outcome.error, RetryableError):
                retry = retry or outcome.error
                plan.failure = f"{outcome.error} (will be retried)"
            elif outcome is not None and outcome.error is not None:
                plan.failure = f"Salesforce rejected the {plan.target.object} write: {outcome.error}"
            elif outcome is not None:
                plan.record_id = outcome.record_id or plan.record_id
            result.report.changes.append(self._record_change(plan, outcome, result))
        if retry is not None:
            self._finish(state, result)  # the ledger explains what the failed attempt did write
            raise retry

    def _record_change(self, plan: FieldPlan, outcome: WriteOutcome | None, result: FieldSyncResult) -> RecordChange:
        target = plan.target
        action: RecordAction
        note: str | None = None
        if plan.gate is not None:  # a missing permission: skipped before any write, with doctor's fix
            action, note = "skipped", plan.failure
            result.report.warnings.append(f"{target.key}: {plan.failure}")
            result.report.skipped_features.append(plan.gate.skipped())
        elif plan.failure is not None:
            action, note = "failed", plan.failure
            result.records_failed += 1
            result.report.warnings.append(f"{target.key}: {plan.failure}")
        elif outcome is None and plan.creating:
            action, note = "skipped", f"no {target.object} linked through {target.via}; nothing to create"
        elif outcome is None:
            action = "unchanged"
        elif plan.creating:
            action, note = (
                "created",
                f"created, linked to {target.parent_object} {target.parent_id} through {target.via}",
            )
            result.records_created += 1
        else:
            action = "updated"
            result.records_updated += 1
        url = record_url(self.store.instance_url, target.object, plan.record_id) if plan.record_id else None
        return RecordChange(
            action=action,
            object=target.object,
            id=plan.record_id,
            url=url,
            label=target.label,
            fields=plan.changes,
            note=note,
            role="fields",
            key=target.key,
        )

    def _finish(self, state: SyncState, result: FieldSyncResult) -> FieldSyncResult:
        result.report.api_requests = self.store.api_requests
        self.ledger.record_step(state.call.call_key, result.report)
        return result
