"""LogActivity: the step's report — each record written, kept or refused, with its role, before → after and fixes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from callsync.domain.activity_plan import (
    same_value,
)
from callsync.domain.permissions import object_permission_fix
from callsync.models.activity import ActivityResult
from callsync.models.ledger import FieldChange, RecordChange, RecordRole, record_url
from callsync.ports.activity import (
    SaveResult,
    WriteOutcome,
    WritePlan,
)
from callsync.services.activity_context import ActivityContext
from callsync.services.activity_history import REUSED, PriorWrites

ACTIVITY_NOTE = "the logged call"
FOLLOW_UP_NOTE = "follow-up "  # + key
NOTE_NOTE = "call notes"
PREVIEW = 300
NOT_READ = "its value before was not read"


REFUSAL_FIXES = {
    "REQUIRED_FIELD_MISSING": "a field required on {obj} gets no value from callsync: give it a default value in "
    "Salesforce (Object Manager → {obj} → Fields & Relationships)",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": "a validation rule on {obj} refuses it: exempt the integration user from "
    "the rule (e.g. a custom permission checked in the rule) or relax it",
    "INSUFFICIENT_ACCESS_OR_READONLY": "the integration user cannot write {obj}: " + "{permission}",
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": "the integration user cannot see a record it links to: "
    "share it with the integration user",
}


def preview(value: Any) -> Any:
    if isinstance(value, str) and len(value) > PREVIEW:
        return f"{value[:PREVIEW]}… ({len(value)} characters)"
    return value


def field_changes(fields: dict[str, Any], before: dict[str, Any] | None, *, update: bool) -> list[FieldChange]:
    """Each written field as before → after; an update leaves out the fields that keep their value.

    ``before``: the record as a query read it (a field missing from it was not
    selected: its before is unknown and said so).
    """
    if not update:
        return [FieldChange(field=k, after=preview(v)) for k, v in fields.items()]
    read = {str(k).lower(): v for k, v in (before or {}).items()}
    out: list[FieldChange] = []
    for name, value in fields.items():
        if name.lower() not in read:
            out.append(FieldChange(field=name, after=preview(value), note=NOT_READ))
        elif not same_value(name, read[name.lower()], value):
            out.append(FieldChange(field=name, before=preview(read[name.lower()]), after=preview(value)))
    return out


def refused_warning(obj: str, what: str, saved: SaveResult) -> str:
    """The warning for one refused part: what, Salesforce's error, and the fix an admin can apply."""
    code = (saved.error or "").split(":", 1)[0]
    template = REFUSAL_FIXES.get(code)
    if saved.retryable:
        fix = "transient: the step is retried"
    elif template is not None:
        fix = template.format(obj=obj, permission=object_permission_fix(obj, "edit"))
    else:
        fix = "see Salesforce's message; the rest of the call is logged"
    return f"{obj}: {what} was not saved: {saved.error} — {fix}"


class ActivityReporter:
    """Writes the step's record changes into ``ctx.report`` (URLs from the instance URL getter)."""

    def __init__(self, instance_url: Callable[[], str]) -> None:
        self.instance_url = instance_url

    def unchanged(
        self,
        ctx: ActivityContext,
        obj: str,
        rid: str,
        note: str,
        role: RecordRole,
        *,
        label: str | None = None,
        key: str | None = None,
    ) -> None:
        ctx.report.changes.append(
            RecordChange(
                action="unchanged",
                object=obj,
                id=rid,
                url=record_url(self.instance_url(), obj, rid),
                label=label,
                note=note,
                role=role,
                key=key,
            )
        )

    def account(self, ctx: ActivityContext, plan: WritePlan, outcome: WriteOutcome, result: ActivityResult) -> None:
        url = self.instance_url()
        changes = ctx.report.changes
        if plan.activity is not None:
            act = plan.activity
            saved = outcome.activity or SaveResult(act.id, True)
            rid = saved.id or act.id if saved.ok else act.id
            result.activity_id, result.kind = rid, act.object  # type: ignore[assignment]
            label = act.fields.get("Subject") or (ctx.before or {}).get("Subject")
            changes.append(
                RecordChange(
                    action=("updated" if act.id else "created") if saved.ok else "failed",
                    object=act.object,
                    id=rid,
                    url=record_url(url, act.object, str(rid)) if rid else None,
                    label=label,
                    fields=[
                        *field_changes(act.fields, ctx.before if act.id else None, update=bool(act.id)),
                        *ctx.kept,
                    ],
                    note=f"{ACTIVITY_NOTE}; owner: {ctx.owner_reason}" if saved.ok else saved.error,
                    role="activity",
                    key=REUSED if ctx.activity_reused else None,
                )
            )
            if not saved.ok:
                ctx.report.warnings.append(refused_warning(act.object, "the call's activity", saved))
        rel_obj = "EventRelation" if result.kind == "Event" else "TaskRelation"
        parent_field = "EventId" if rel_obj == "EventRelation" else "TaskId"
        for contact_id, saved in outcome.relations.items():
            changes.append(
                RecordChange(
                    action="created" if saved.ok else "failed",
                    object=rel_obj,
                    id=saved.id,
                    url=record_url(url, rel_obj, saved.id) if saved.id else None,
                    label=ctx.rel.contact_emails.get(contact_id),
                    fields=[
                        FieldChange(field=parent_field, after=result.activity_id),
                        FieldChange(field="RelationId", after=contact_id),
                    ],
                    note=saved.error,
                    role="relation",
                    key=contact_id,
                )
            )
            if not saved.ok:
                ctx.report.warnings.append(refused_warning(rel_obj, f"contact {contact_id} on the activity", saved))
                result.linked_contact_ids = [i for i in result.linked_contact_ids if i != contact_id]
        if plan.note is not None:
            saved = outcome.note or SaveResult(plan.note.id, True)
            rid = (saved.id or plan.note.id) if saved.ok else plan.note.id
            result.note_id = rid if saved.ok else None
            changes.append(
                RecordChange(
                    action=("updated" if plan.note.id else "created") if saved.ok else "failed",
                    object="ContentNote",
                    id=rid,
                    url=record_url(url, "ContentNote", str(rid)) if rid else None,
                    label=plan.note.fields["Title"],
                    fields=[
                        FieldChange(field="Title", after=plan.note.fields["Title"]),
                        FieldChange(field="Content", after=f"HTML, {len(plan.note.fields['Content'])} base64 chars"),
                    ],
                    note=NOTE_NOTE if saved.ok else saved.error,
                    role="note",
                )
            )
            if not saved.ok:
                ctx.report.warnings.append(refused_warning("ContentNote", "the call notes", saved))
        for entity_id, saved in outcome.note_links.items():
            changes.append(
                RecordChange(
                    action="created" if saved.ok else "failed",
                    object="ContentDocumentLink",
                    id=saved.id,
                    fields=[
                        FieldChange(field="ContentDocumentId", after=result.note_id),
                        FieldChange(field="LinkedEntityId", after=entity_id),
                        FieldChange(field="ShareType", after="V"),
                    ],
                    note=saved.error,
                    role="note_link",
                    key=entity_id,
                )
            )
            if not saved.ok and (outcome.note is None or outcome.note.ok):
                ctx.report.warnings.append(
                    refused_warning("ContentDocumentLink", f"the notes' link to {entity_id}", saved)
                )
        for write in plan.follow_ups:
            saved = outcome.follow_ups.get(str(write.key)) or SaveResult(write.id, True)
            rid = (saved.id or write.id) if saved.ok else write.id
            if rid and saved.ok:
                result.follow_up_task_ids.append(rid)
            changes.append(
                RecordChange(
                    action=("updated" if write.id else "created") if saved.ok else "failed",
                    object="Task",
                    id=rid,
                    url=record_url(url, "Task", str(rid)) if rid else None,
                    label=write.fields.get("Subject"),
                    fields=field_changes(write.fields, ctx.follow_up_rows.get(str(write.id)), update=bool(write.id)),
                    note=f"{FOLLOW_UP_NOTE}{write.key}" if saved.ok else saved.error,
                    role="follow_up",
                    key=write.key,
                )
            )
            if not saved.ok:
                ctx.report.warnings.append(refused_warning("Task", f"follow-up '{write.fields.get('Subject')}'", saved))

    def carry_over(self, ctx: ActivityContext, prior: PriorWrites, plan: WritePlan, result: ActivityResult) -> None:
        """Relations, links and follow-ups of earlier attempts stay in the ledger's picture of the call."""
        url = self.instance_url()
        written = {(c.object, str(c.id)) for c in ctx.report.changes}
        attached = {f.after for c in ctx.report.changes for f in c.fields if f.field == "RelationId"}
        rel_obj = "EventRelation" if result.kind == "Event" else "TaskRelation"
        for contact_id in sorted(prior.relations - attached - set(plan.relations)):
            ctx.report.changes.append(
                RecordChange(
                    action="unchanged",
                    object=rel_obj,
                    label=ctx.rel.contact_emails.get(contact_id),
                    fields=[FieldChange(field="RelationId", after=contact_id)],
                    role="relation",
                    key=contact_id,
                )
            )
        linked = {f.after for c in ctx.report.changes for f in c.fields if f.field == "LinkedEntityId"}
        if result.note_id and result.note_id == prior.note_id:
            for entity_id in sorted(prior.note_links - linked):
                ctx.report.changes.append(
                    RecordChange(
                        action="unchanged",
                        object="ContentDocumentLink",
                        fields=[
                            FieldChange(field="ContentDocumentId", after=result.note_id),
                            FieldChange(field="LinkedEntityId", after=entity_id),
                        ],
                        role="note_link",
                        key=entity_id,
                    )
                )
        for key, task_id in prior.follow_ups.items():
            if ("Task", task_id) not in written:
                ctx.report.changes.append(
                    RecordChange(
                        action="unchanged",
                        object="Task",
                        id=task_id,
                        url=record_url(url, "Task", task_id),
                        note=f"{FOLLOW_UP_NOTE}{key} (no longer among the action items)",
                        role="follow_up",
                        key=key,
                    )
                )
