"""SyncFields: what to write where — the jobs, each target's access, and the decisions (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from callsync.domain.field_policies import Decision, decide
from callsync.domain.field_revisions import PriorWrite, call_mark
from callsync.domain.field_targets import Target, Unresolved, target_key
from callsync.domain.permissions import Check, Feature, check_field, check_object
from callsync.domain.person_edits import PersonEdit
from callsync.domain.value_coercion import coerce_value
from callsync.models.describe import FieldDescribe, ObjectDescribe
from callsync.models.fields import FieldSyncResult
from callsync.models.ledger import FieldChange, RecordAction, RecordChange, StepReport, ledger_value
from callsync.models.state import SyncState

ACCOUNT_LINK_SOURCE = "company.url"


@dataclass
class FieldJob:
    source: str  # "insight pain" or "company.url"
    field: str
    policy: str
    raw: Any


@dataclass
class FieldPlan:
    target: Target
    describe: ObjectDescribe
    jobs: list[tuple[FieldJob, FieldDescribe, Any]] = field(default_factory=list)  # job, field, coerced value
    changes: list[FieldChange] = field(default_factory=list)
    pending_notes: dict[int, tuple[str, ...]] = field(default_factory=dict)
    record_id: str | None = None
    current: dict[str, Any] = field(default_factory=dict)  # lower-case API name -> value
    values: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None
    gate: Check | None = None  # the missing permission behind ``failure``: the target is skipped, not failed
    creating: bool = False
    contended: bool = False  # a write was sent under the lease after the read-ahead: read it afresh
    lease_key: str | None = None  # the record's lease, held from the read to the confirmed write
    priors: dict[str, PriorWrite] = field(default_factory=dict)  # lower-case API name -> this call's earlier write
    edit: PersonEdit | None = None  # a person changed the record after the call started (protect_human_edits)


def plan_jobs(state: SyncState, report: StepReport) -> dict[str, tuple[str, str | None, list[FieldJob]]]:
    call, settings = state.call, state.settings
    groups: dict[str, tuple[str, str | None, list[FieldJob]]] = {}

    def add(obj: str, via: str | None, job: FieldJob) -> None:
        groups.setdefault(target_key(obj, via), (obj, via, []))[2].append(job)

    mappings = settings.field_sync.mappings
    if settings.field_sync.enabled:
        for m in mappings:
            value = _insight(call.insights, m.insight)
            add(m.object, m.via, FieldJob(f"insight {m.insight}", m.field, m.policy, value))
    elif mappings:
        report.warnings.append(f"field sync is disabled for this org: {len(mappings)} mapping(s) not applied")
    if settings.account_link_field:
        url = call.company.url if call.company else None
        if url is not None:
            add("Account", None, FieldJob(ACCOUNT_LINK_SOURCE, settings.account_link_field, "fill_empty", str(url)))
        else:
            report.warnings.append("account link field: the call has no company.url; nothing to link")
    return groups


def report_unresolved(target: Unresolved, jobs: list[FieldJob], result: FieldSyncResult) -> None:
    fields = [FieldChange(field=j.field, policy=j.policy, note=f"not written: {target.reason}") for j in jobs]
    action: RecordAction = "failed" if target.failed else "skipped"
    change = RecordChange(action=action, object=target.object, fields=fields, note=target.reason)
    result.report.changes.append(change)
    if target.failed:
        result.records_failed += 1
        result.report.warnings.append(f"{target.key}: {target.reason}")


def check_access(
    target: Target, describe: ObjectDescribe | None, jobs: list[FieldJob], result: FieldSyncResult
) -> FieldPlan | None:
    """The target's plan with the jobs the integration user may write (``domain.permissions``'s checks)."""
    seen = check_object(Feature.FIELD_SYNC, target.object, describe, "read", fix_access="edit")
    if describe is None or not seen.ok:
        report_unresolved(Unresolved(target.key, target.object, seen.message, failed=True), jobs, result)
        return None
    plan = FieldPlan(target=target, describe=describe, record_id=target.record_id)
    if target.record_id is not None:
        edit = check_object(Feature.FIELD_SYNC, target.object, describe, "edit")
        if not edit.ok:
            plan.failure, plan.gate = edit.message, edit
    for job in jobs:
        check = check_field(Feature.FIELD_SYNC, target.object, describe, job.field, "edit")
        if not check.ok and target.via is not None:  # a via-record may be created: createable is enough
            created = check_field(Feature.FIELD_SYNC, target.object, describe, job.field, "create")
            check = created if created.ok else check
        fd = describe.field(job.field)
        if fd is None or not check.ok:
            skip_field(plan, job, "hidden" if fd is None else "read-only", check.message, result)
            continue
        if job.policy == "skip":
            plan.changes.append(FieldChange(field=fd.name, policy="skip", note="policy skip: never written"))
            continue
        coerced = coerce_value(job.raw, fd)
        if coerced.value is None:
            plan.changes.append(FieldChange(field=fd.name, policy=job.policy, note=_note(job, coerced.notes)))
            continue
        plan.pending_notes[len(plan.jobs)] = coerced.notes
        plan.jobs.append((job, fd, coerced.value))
    return plan


def skip_field(plan: FieldPlan, job: FieldJob, kind: str, message: str, result: FieldSyncResult) -> None:
    plan.changes.append(FieldChange(field=job.field, policy="skip", note=f"{kind}: {message}"))
    result.report.warnings.append(message)
    result.fields_skipped += 1


def decide_plan(plan: FieldPlan, call_date: date, state: SyncState, result: FieldSyncResult) -> None:
    describe, target = plan.describe, plan.target
    if plan.record_id is not None and target.via is not None:  # an existing via-record is edited
        edit = check_object(Feature.FIELD_SYNC, target.object, describe, "edit")
        if not edit.ok:
            plan.failure, plan.gate = edit.message, edit
            return
    for index, (job, fd, value) in enumerate(plan.jobs):
        check = check_field(Feature.FIELD_SYNC, target.object, describe, fd.name, "create" if plan.creating else "edit")
        if not check.ok:
            skip_field(plan, job, "read-only", check.message, result)
            continue
        before = plan.current.get(fd.name.lower())
        decision: Decision = decide(
            fd,
            before,
            value,
            policy=job.policy,
            call_date=call_date,
            mark=call_mark(state.call.call_id),
            prior=plan.priors.get(fd.name.lower()),
            edit=plan.edit,
        )
        notes = (*plan.pending_notes.get(index, ()), *decision.notes)
        plan.changes.append(
            FieldChange(
                field=fd.name,
                before=ledger_value(before),
                after=ledger_value(decision.after),
                policy=decision.policy,
                note=_note(job, notes),
            )
        )
        if decision.write:
            plan.values[fd.name] = decision.after
            plan.current[fd.name.lower()] = decision.after
    if plan.creating and plan.values:
        prepare_create(plan, state)


def prepare_create(plan: FieldPlan, state: SyncState) -> None:
    describe, target = plan.describe, plan.target
    assert target.via is not None and target.parent_id is not None
    create = check_object(Feature.FIELD_SYNC, target.object, describe, "create")
    link = check_field(Feature.FIELD_SYNC, target.object, describe, target.via, "create")
    lookup = describe.field(target.via)
    if not create.ok or not link.ok or lookup is None:
        blocked = create if not create.ok else link
        plan.failure = f"cannot create {target.object}: {blocked.message}"
        plan.gate = None if blocked.ok else blocked
        return
    plan.values[lookup.name] = target.parent_id
    missing: list[str] = []
    for fd in describe.fields.values():
        if not fd.required_on_create or fd.name in plan.values:
            continue
        if fd.name == "Name" and fd.type == "string":
            title = state.call.title[: fd.length or None]
            plan.values["Name"] = title
            plan.changes.append(
                FieldChange(field="Name", after=title, policy="fill", note="required on create: the call title")
            )
            continue
        missing.append(fd.name)
    if missing:
        plan.failure = (
            f"cannot create {target.object} for {target.parent_object} {target.parent_id}: required "
            f"field(s) {', '.join(missing)} get no value from this call — map an insight to them or give "
            "them a default value in Salesforce"
        )


def _insight(insights: dict[str, Any], name: str) -> Any:
    """The insight ``name`` (exact key first, then case-insensitive)."""
    if name in insights:
        return insights[name]
    lowered = name.lower()
    return next((v for k, v in insights.items() if k.lower() == lowered), None)


def _note(job: FieldJob, notes: Sequence[str]) -> str | None:
    parts = [n for n in notes if n]
    if job.source == ACCOUNT_LINK_SOURCE:
        parts.insert(0, "account link (company.url)")
    return "; ".join(parts) or None
