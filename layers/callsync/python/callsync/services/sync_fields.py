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
4. Current values: from the match step's read-ahead (``MatchResult.current_values``);
   what is missing — and every via-object lookup — in one ``FieldStore.read``.
   The read-ahead is not trusted (everything is read afresh) when an earlier
   attempt of this step recorded itself (a retry or replay), or when another call
   wrote the same record after the match step read it: each record is claimed
   (``Claims``, first writer wins, ``WRITE_CLAIM_SECONDS``); a claim held by another
   call that is still writing raises ``ConcurrentUpdate`` (retried shortly). A finished
   writer leaves ``"written@<epoch seconds>"`` on the claim (taken after its write
   returned; a call that wrote a record whose claim another call holds stamps that
   claim too): when ``MatchResult.read_at`` (taken before the read-ahead's request)
   is later than that stamp by ``CLOCK_SKEW_SECONDS``, the read-ahead already shows
   the write and is trusted; otherwise (older, unstamped or unknown) the record is
   read afresh. This keeps two calls on one deal from overwriting each other's
   appended entries, and from creating two via-records.
5. Coerce (``domain.value_coercion``) and decide (``domain.field_policies``).
6. One ``FieldStore.write``: updates and via-object creates. A failed write fails
   its target only; a retryable one (lock, 5xx) raises after the ledger entry is
   written, and the retry is idempotent (the policies see what was written).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from callsync.domain.field_policies import Decision, decide
from callsync.domain.field_targets import Target, Unresolved, field_fix, object_fix, resolve_target, target_key
from callsync.domain.value_coercion import coerce_value
from callsync.errors import ConcurrentUpdate, RetryableError
from callsync.models.describe import FieldDescribe, ObjectDescribe
from callsync.models.fields import FieldSyncResult, ReadOutcome, RecordRead, RecordWrite, WriteOutcome
from callsync.models.ledger import FieldChange, RecordAction, RecordChange, StepReport, record_url
from callsync.models.state import SyncState
from callsync.ports import Claims, DescribeSource, Ledger

STEP = "SyncFields"
ACCOUNT_LINK_SOURCE = "company.url"
WRITE_CLAIM_SECONDS = 600  # another call's write within this window makes our read-ahead suspect
WRITER_GONE_SECONDS = 120  # an unfinished claim older than this was left by a crashed attempt: stop waiting
WRITTEN = "written"  # claim value prefix once the writer has finished: "written@<epoch seconds>"
CLOCK_SKEW_SECONDS = 0.1  # margin between the writer's clock (stamp) and the match step's (read_at)


class FieldStore(Protocol):
    """What SyncFields needs from Salesforce: one batched read, one batched write."""

    @property
    def instance_url(self) -> str: ...

    @property
    def api_requests(self) -> int:
        """Salesforce API requests made so far (as counted against the daily limit)."""

    def read(self, reads: Sequence[RecordRead]) -> dict[str, ReadOutcome]:
        """Current values for each read, keyed by ``RecordRead.key``; one request for all of them.

        A read by ``via`` returns the newest record (LastModifiedDate) whose ``via``
        equals ``parent_id``, or ``record=None``. A failed query is returned as
        ``ReadOutcome.error``.

        Raises:
            RetryableError: the request as a whole failed transiently.
        """

    def write(self, writes: Sequence[RecordWrite]) -> dict[str, WriteOutcome]:
        """Apply updates and creates in one request (not all-or-none), outcome per ``RecordWrite.key``.

        Raises:
            RetryableError: the request as a whole failed transiently (nothing was written).
        """


@dataclass
class _Job:
    source: str  # "insight pain" or "company.url"
    field: str
    policy: str
    raw: Any


@dataclass
class _Plan:
    target: Target
    describe: ObjectDescribe
    jobs: list[tuple[_Job, FieldDescribe, Any]] = field(default_factory=list)  # job, field, coerced value
    changes: list[FieldChange] = field(default_factory=list)
    pending_notes: dict[int, tuple[str, ...]] = field(default_factory=dict)
    record_id: str | None = None
    current: dict[str, Any] = field(default_factory=dict)  # lower-case API name -> value
    values: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None
    creating: bool = False
    contended: bool = False  # another call wrote this record after the read-ahead: read it afresh
    claim_key: str | None = None  # the record's write claim (ours or another call's)
    shared: bool = False  # the claim is another call's: we stamp it after our write


class SyncFields:
    """The SyncFields step. ``run`` returns the step's result and records it in the ledger."""

    def __init__(
        self,
        store: FieldStore,
        describes: DescribeSource,
        ledger: Ledger,
        claims: Claims | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.describes = describes
        self.ledger = ledger
        self.claims = claims
        self.clock = clock

    def run(self, state: SyncState) -> FieldSyncResult:
        """Sync the mapped fields of one call.

        Raises:
            RetryableError: Salesforce failed transiently (after the ledger entry is written).
            ConcurrentUpdate: another call is writing one of the same records right now.
        """
        report = StepReport(step=STEP)
        result = FieldSyncResult(report=report)
        groups = self._jobs(state, report)
        if not groups:
            return self._finish(state, result)
        objects = list(dict.fromkeys(obj for obj, _, _ in groups.values()))
        describes = self.describes.describe(objects)

        plans: list[_Plan] = []
        for obj, via, jobs in groups.values():
            target = resolve_target(obj, via, state.match, state.contacts, describes)
            if isinstance(target, Unresolved):
                self._unresolved(target, jobs, result)
                continue
            plan = self._check_access(target, describes.get(target.object), jobs, result)
            if plan is not None:
                plans.append(plan)

        owned = self._claim_records(state, plans)
        try:
            self._load_current(state, plans)
            call_date = state.call.started_at.date()
            for plan in plans:
                if plan.failure is None:
                    self._decide(plan, call_date, state, result)
            self._write(state, plans, result)
        finally:
            for key in [*owned, *(p.claim_key for p in plans if p.shared and p.claim_key)]:
                self._release(key)
        return self._finish(state, result)

    # -- concurrency -----------------------------------------------------------------------------------

    def _claim_records(self, state: SyncState, plans: list[_Plan]) -> list[str]:
        """Claim every record this call may write; the keys we hold (to mark written afterwards).

        Raises:
            ConcurrentUpdate: another call holds a record's claim and has not finished writing.
        """
        if self.claims is None:
            return []
        owner = state.call.call_key
        owned: list[str] = []
        for plan in plans:
            if plan.failure is not None or not plan.jobs:
                continue
            target = plan.target
            record = target.record_id or f"{target.object}:{target.via}:{target.parent_id}"
            key = f"{state.call.org_id}#fields#{record}"
            plan.claim_key = key
            holder = self.claims.claim(key, owner, ttl_seconds=WRITE_CLAIM_SECONDS)
            if holder == owner:
                owned.append(key)
                continue
            held = self.claims.get(key) or {}
            if held and held.get("value") is None and not self._abandoned(held):
                for mine in owned:
                    self._release(mine)
                raise ConcurrentUpdate(
                    f"another call ({holder}) is writing fields of {target.object} {record} right now; retry"
                )
            plan.shared = bool(held)
            plan.contended = not _read_after(state.match.read_at if state.match else None, held.get("value"))
        return owned

    def _abandoned(self, held: dict[str, Any]) -> bool:
        """An unfinished claim taken so long ago that its writer cannot still be running."""
        claimed_at = float(held.get("expires_at", 0)) - WRITE_CLAIM_SECONDS
        return self.clock() - claimed_at > WRITER_GONE_SECONDS

    def _release(self, key: str) -> None:
        """Stamp the claim "written@<now>": later calls stop waiting, and re-read unless they read after now."""
        if self.claims is not None:
            with contextlib.suppress(ConcurrentUpdate):  # expired meanwhile: nobody waits on it any more
                self.claims.resolve(key, f"{WRITTEN}@{self.clock():.3f}")

    # -- 1. jobs ---------------------------------------------------------------------------------------

    def _jobs(self, state: SyncState, report: StepReport) -> dict[str, tuple[str, str | None, list[_Job]]]:
        call, settings = state.call, state.settings
        groups: dict[str, tuple[str, str | None, list[_Job]]] = {}

        def add(obj: str, via: str | None, job: _Job) -> None:
            groups.setdefault(target_key(obj, via), (obj, via, []))[2].append(job)

        mappings = settings.field_sync.mappings
        if settings.field_sync.enabled:
            for m in mappings:
                value = _insight(call.insights, m.insight)
                add(m.object, m.via, _Job(f"insight {m.insight}", m.field, m.policy, value))
        elif mappings:
            report.warnings.append(f"field sync is disabled for this org: {len(mappings)} mapping(s) not applied")
        if settings.account_link_field:
            url = call.company.url if call.company else None
            if url is not None:
                add("Account", None, _Job(ACCOUNT_LINK_SOURCE, settings.account_link_field, "fill_empty", str(url)))
            else:
                report.warnings.append("account link field: the call has no company.url; nothing to link")
        return groups

    # -- 2./3. targets and permissions ----------------------------------------------------------------

    def _unresolved(self, target: Unresolved, jobs: list[_Job], result: FieldSyncResult) -> None:
        fields = [FieldChange(field=j.field, policy=j.policy, note=f"not written: {target.reason}") for j in jobs]
        action: RecordAction = "failed" if target.failed else "skipped"
        change = RecordChange(action=action, object=target.object, fields=fields, note=target.reason)
        result.report.changes.append(change)
        if target.failed:
            result.records_failed += 1
            result.report.warnings.append(f"{target.key}: {target.reason}")

    def _check_access(
        self, target: Target, describe: ObjectDescribe | None, jobs: list[_Job], result: FieldSyncResult
    ) -> _Plan | None:
        if describe is None:
            reason = f"the integration user cannot see {target.object}: {object_fix(target.object)}"
            self._unresolved(Unresolved(target.key, target.object, reason, failed=True), jobs, result)
            return None
        plan = _Plan(target=target, describe=describe, record_id=target.record_id)
        if target.record_id is not None and not describe.updateable:
            plan.failure = f"the integration user cannot edit {target.object} records: {object_fix(target.object)}"
        for job in jobs:
            fd = describe.field(job.field)
            if fd is None:
                self._skip_field(plan, job, "hidden", f"{target.object}.{job.field} is not visible to the "
                                 f"integration user (or does not exist): {field_fix(target.object, job.field)}", result)
                continue
            editable = fd.updateable or (target.via is not None and fd.createable)
            if not editable:
                self._skip_field(plan, job, "read-only", f"{target.object}.{fd.name} is read-only for the "
                                 f"integration user: {field_fix(target.object, fd.name)}", result)
                continue
            if job.policy == "skip":
                plan.changes.append(FieldChange(field=fd.name, policy="skip", note="policy skip: never written"))
                continue
            coerced = coerce_value(job.raw, fd)
            if coerced.value is None:
                plan.changes.append(
                    FieldChange(field=fd.name, policy=job.policy, note=_note(job, coerced.notes))
                )
                continue
            plan.pending_notes[len(plan.jobs)] = coerced.notes
            plan.jobs.append((job, fd, coerced.value))
        return plan

    def _skip_field(self, plan: _Plan, job: _Job, kind: str, message: str, result: FieldSyncResult) -> None:
        plan.changes.append(FieldChange(field=job.field, policy="skip", note=f"{kind}: {message}"))
        result.report.warnings.append(message)
        result.fields_skipped += 1

    # -- 4. current values -----------------------------------------------------------------------------

    def _load_current(self, state: SyncState, plans: list[_Plan]) -> None:
        retried = self._retried(state)
        known_by_id = {} if retried or state.match is None else state.match.current_values
        reads: list[RecordRead] = []
        for plan in plans:
            if plan.failure is not None or not plan.jobs:
                continue
            names = list(dict.fromkeys(fd.name for _, fd, _ in plan.jobs))
            target = plan.target
            if target.via is not None:
                reads.append(RecordRead(target.key, target.object, tuple(names), via=target.via,
                                        parent_id=target.parent_id))
                continue
            if target.created_by_call and not (retried or plan.contended):
                plan.current = {n.lower(): None for n in names}  # created moments ago by this call
                continue
            known_values = {} if plan.contended else known_by_id.get(target.record_id or "") or {}
            known = {k.lower(): v for k, v in known_values.items()}
            plan.current = known
            missing = tuple(n for n in names if n.lower() not in known)
            if missing:
                reads.append(RecordRead(target.key, target.object, missing, record_id=target.record_id))
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

    def _retried(self, state: SyncState) -> bool:
        """Whether an earlier attempt of this step recorded itself for this call (retry or replay)."""
        return any(e.get("sk") == f"step#{STEP}" for e in self.ledger.entries(state.call.call_key))

    # -- 5. decisions ----------------------------------------------------------------------------------

    def _decide(self, plan: _Plan, call_date: date, state: SyncState, result: FieldSyncResult) -> None:
        describe, target = plan.describe, plan.target
        if plan.record_id is not None and target.via is not None and not describe.updateable:
            plan.failure = f"the integration user cannot edit {target.object} records: {object_fix(target.object)}"
            return
        for index, (job, fd, value) in enumerate(plan.jobs):
            allowed = fd.createable if plan.creating else fd.updateable
            if not allowed:
                verb = "create" if plan.creating else "edit"
                message = (f"{target.object}.{fd.name} cannot be set on {verb} by the integration user: "
                           f"{field_fix(target.object, fd.name)}")
                self._skip_field(plan, job, "read-only", message, result)
                continue
            before = plan.current.get(fd.name.lower())
            decision: Decision = decide(fd, before, value, policy=job.policy, call_date=call_date)
            notes = (*plan.pending_notes.get(index, ()), *decision.notes)
            plan.changes.append(FieldChange(field=fd.name, before=before, after=decision.after,
                                            policy=decision.policy, note=_note(job, notes)))
            if decision.write:
                plan.values[fd.name] = decision.after
                plan.current[fd.name.lower()] = decision.after
        if plan.creating and plan.values:
            self._prepare_create(plan, state)

    def _prepare_create(self, plan: _Plan, state: SyncState) -> None:
        describe, target = plan.describe, plan.target
        assert target.via is not None and target.parent_id is not None
        if not describe.createable:
            plan.failure = f"the integration user cannot create {target.object} records: {object_fix(target.object)}"
            return
        lookup = describe.field(target.via)
        if lookup is None or not lookup.createable:
            plan.failure = (f"cannot create {target.object}: {target.object}.{target.via} cannot be set by the "
                            f"integration user: {field_fix(target.object, target.via)}")
            return
        plan.values[lookup.name] = target.parent_id
        missing: list[str] = []
        for fd in describe.fields.values():
            if not fd.required_on_create or fd.name in plan.values:
                continue
            if fd.name == "Name" and fd.type == "string":
                title = state.call.title[: fd.length or None]
                plan.values["Name"] = title
                plan.changes.append(FieldChange(field="Name", after=title, policy="fill",
                                                note="required on create: the call title"))
                continue
            missing.append(fd.name)
        if missing:
            plan.failure = (
                f"cannot create {target.object} for {target.parent_object} {target.parent_id}: required "
                f"field(s) {', '.join(missing)} get no value from this call — map an insight to them or give "
                "them a default value in Salesforce"
            )

    # -- 6. write --------------------------------------------------------------------------------------

    def _write(self, state: SyncState, plans: list[_Plan], result: FieldSyncResult) -> None:
        writes = [
            RecordWrite(p.target.key, p.target.object, dict(p.values), None if p.creating else p.record_id)
            for p in plans
            if p.failure is None and p.values
        ]
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

    def _record_change(self, plan: _Plan, outcome: WriteOutcome | None, result: FieldSyncResult) -> RecordChange:
        target = plan.target
        url = record_url(self.store.instance_url, target.object, plan.record_id) if plan.record_id else None
        if plan.failure is not None:
            result.records_failed += 1
            result.report.warnings.append(f"{target.key}: {plan.failure}")
            return RecordChange(action="failed", object=target.object, id=plan.record_id, url=url,
                                label=target.label, fields=plan.changes, note=plan.failure)
        if outcome is None:
            note = f"no {target.object} linked through {target.via}; nothing to create" if plan.creating else None
            action: RecordAction = "skipped" if plan.creating else "unchanged"
            return RecordChange(action=action, object=target.object, id=plan.record_id, url=url,
                                label=target.label, fields=plan.changes, note=note)
        if plan.creating:
            result.records_created += 1
            note = f"created, linked to {target.parent_object} {target.parent_id} through {target.via}"
            return RecordChange(action="created", object=target.object, id=plan.record_id, url=url,
                                label=target.label, fields=plan.changes, note=note)
        result.records_updated += 1
        return RecordChange(action="updated", object=target.object, id=plan.record_id, url=url,
                            label=target.label, fields=plan.changes)

    def _finish(self, state: SyncState, result: FieldSyncResult) -> FieldSyncResult:
        result.report.api_requests = self.store.api_requests
        self.ledger.record_step(state.call.call_key, result.report)
        return result


def _read_after(read_at: datetime | None, claim_value: Any) -> bool:
    """Whether a read taken at ``read_at`` already shows the write a claim's ``"written@<epoch>"`` stamps."""
    if read_at is None or not isinstance(claim_value, str) or not claim_value.startswith(f"{WRITTEN}@"):
        return False
    try:
        written_at = float(claim_value.removeprefix(f"{WRITTEN}@"))
    except ValueError:
        return False
    return read_at.timestamp() > written_at + CLOCK_SKEW_SECONDS


def _insight(insights: dict[str, Any], name: str) -> Any:
    """The insight ``name`` (exact key first, then case-insensitive)."""
    if name in insights:
        return insights[name]
    lowered = name.lower()
    return next((v for k, v in insights.items() if k.lower() == lowered), None)


def _note(job: _Job, notes: Sequence[str]) -> str | None:
    parts = [n for n in notes if n]
    if job.source == ACCOUNT_LINK_SOURCE:
        parts.insert(0, "account link (company.url)")
    return "; ".join(parts) or None
