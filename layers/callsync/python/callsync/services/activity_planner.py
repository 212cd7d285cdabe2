"""LogActivity: what to write — the activity, its relations, the note, the follow-ups.

Planned from what the match step read, the ledger and the lookup.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from callsync.domain.activity_kind import activity_subject, candidate_subjects
from callsync.domain.activity_plan import (
    activity_description,
    activity_parts,
    call_date,
    call_ref,
    choose_owner,
    completed_status,
    event_duration_warning,
    event_times,
    existing_contact_ids,
    existing_relation_ids,
    one_line,
    pick_existing_activity,
    picklist_match,
    record_kind,
    split_shared_contacts,
)
from callsync.domain.activity_section import has_section, merge_section
from callsync.domain.notes_html import note_content, note_title
from callsync.domain.permissions import Feature, check_field, field_permission_fix
from callsync.domain.person_edits import last_modified_of, person_edit
from callsync.models.activity import ActivityResult
from callsync.models.describe import ObjectDescribe
from callsync.models.ledger import FieldChange
from callsync.ports import DescribeSource
from callsync.ports.activity import (
    LookupResult,
    RecordWrite,
    WritePlan,
)
from callsync.services.activity_context import ActivityContext
from callsync.services.activity_history import KEPT, REUSED, WRITTEN_FIELDS, PriorWrites
from callsync.services.activity_report import ACTIVITY_NOTE, FOLLOW_UP_NOTE, NOTE_NOTE, ActivityReporter

NO_NOTE_TARGET = "no Opportunity, Account or Contact matched: no record to attach the note to, the note is not written"
EVENT_WINDOW = timedelta(hours=18)


def stub_record(obj: str, record_id: str) -> dict[str, Any]:
    return {"Id": record_id, "attributes": {"type": obj}}


def same_id(a: Any, b: Any) -> bool:
    return bool(a) and bool(b) and str(a)[:15] == str(b)[:15]


def read_row(stub: dict[str, Any], pool: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The row a query read for the record the ledger names, if any (same request, no extra one)."""
    return next((r for r in pool if same_id(r.get("Id"), stub["Id"])), None)


class ActivityPlanner:
    """Plans the write; reads describes of an existing record of the other kind (cached)."""

    def __init__(self, describes: DescribeSource, reporter: ActivityReporter) -> None:
        self.describes = describes
        self.reporter = reporter

    @staticmethod
    def related(ctx: ActivityContext) -> list[str]:
        ids = list(ctx.rel.entity_ids)
        if ctx.match.account is not None:
            ids.append(ctx.match.account.id)
        return list(dict.fromkeys(ids))

    @staticmethod
    def note_entities(ctx: ActivityContext) -> list[str]:
        ids = [ctx.rel.what_id, ctx.rel.who_id if ctx.rel.who_object == "Contact" else None]
        return list(dict.fromkeys(i for i in ids if i))

    @staticmethod
    def rows_to_read(ctx: ActivityContext, prior: PriorWrites) -> list[tuple[str, str]]:
        """The activity the ledger names, when no query of this run read it and its values matter: a reused
        record's Description (callsync replaces its own section only) or a person's re-association."""
        if not ctx.kind or prior.activity is None or prior.pending or prior.revision == ctx.call.revision:
            return []
        if not (prior.activity_reused or ctx.state.settings.protect_human_edits):
            return []
        rows = ctx.match.activity_candidates
        if rows is not None and any(same_id(r.get("Id"), prior.activity[1]) for r in rows):
            return []
        return [prior.activity]

    @staticmethod
    def is_ours(ctx: ActivityContext, record: dict[str, Any]) -> bool:
        """Created by callsync: its marker outside a reuse section, or callsync's own prefixed subject."""
        description = str(record.get("Description") or "")
        if has_section(description, ctx.call.call_id):
            return False
        subject = one_line(str(record.get("Subject") or "")).casefold()
        ours = one_line(activity_subject(ctx.state.settings, ctx.call)).casefold()
        return call_ref(ctx.call) in description.splitlines() or subject == ours

    def plan(
        self, ctx: ActivityContext, prior: PriorWrites, lookup: LookupResult | None, gone: set[str]
    ) -> tuple[WritePlan, ActivityResult]:
        plan = WritePlan()
        result = ActivityResult(kind=ctx.kind)  # type: ignore[arg-type]
        same_revision_done = prior.revision == ctx.call.revision and not prior.pending
        if ctx.kind:
            self._plan_activity(ctx, prior, lookup, plan, result, same_revision_done, gone)
        if ctx.notes_on:
            self._plan_note(ctx, prior, lookup, plan, result, same_revision_done)
        if ctx.follow_ups:
            self._plan_follow_ups(ctx, prior, lookup, plan, result, same_revision_done)
        return plan, result

    def _plan_activity(
        self,
        ctx: ActivityContext,
        prior: PriorWrites,
        lookup: LookupResult | None,
        plan: WritePlan,
        result: ActivityResult,
        done: bool,
        gone: set[str],
    ) -> None:
        call, settings, kind = ctx.call, ctx.state.settings, str(ctx.kind)
        existing: dict[str, Any] | None = None
        ours = True
        queried = lookup is not None and lookup.activities_queried
        pool = lookup.activities if lookup is not None and queried else ctx.match.activity_candidates or []
        pool = [r for r in pool if str(r.get("Id")) not in gone]
        ctx.before = None
        if prior.activity and not prior.pending:
            existing, result.deduped_with = stub_record(*prior.activity), "ledger"
            ours = not prior.activity_reused
        else:
            found = pick_existing_activity(
                pool,
                call,
                subjects=candidate_subjects(settings, call),
                related_ids=self.related(ctx),
                prefer_kind=kind,
                prefix=settings.subject_prefix,
            )
            if found is not None:
                existing, ours = found, self.is_ours(ctx, found)
                result.deduped_with = "lookup" if queried else "candidates"
                ctx.before = found
            elif prior.activity:
                existing, result.deduped_with = stub_record(*prior.activity), "ledger"
                ours = not prior.activity_reused
        if existing is not None and ctx.before is None:  # known from the ledger: the read-ahead may hold its values
            ctx.before = read_row(existing, pool)
            existing = {**ctx.before, **existing} if ctx.before else existing
            if ctx.before is not None and has_section(ctx.before.get("Description"), call.call_id):
                ours = False
        ctx.activity_reused = existing is not None and not ours
        target_kind = record_kind(existing) if existing else kind
        describe = ctx.describes.get(target_kind or kind)
        if describe is None:  # an existing record of the other kind
            describe = self.describes.describe([str(target_kind)]).get(str(target_kind))
            ctx.describes[str(target_kind)] = describe
        result.kind = target_kind  # type: ignore[assignment]
        linked = existing_relation_ids(existing) if existing else set()
        linked |= prior.relations
        call_contacts = [ctx.rel.who_id or "", *ctx.rel.other_contact_ids]
        held = (existing_contact_ids(existing, call_contacts) if existing else set()) | prior.relations
        attach, unlinked = split_shared_contacts(ctx.rel, shared_activities=ctx.shared, already=held)
        result.unlinked_contacts = [*unlinked, *ctx.rel.unlinkable]
        if unlinked and not ctx.shared:
            ctx.report.warnings.append(
                f"Shared Activities is off: only the primary contact is linked; {len(unlinked)} other contact(s) "
                f"stay unlinked: {', '.join(unlinked)}"
            )
        elif unlinked:
            ctx.report.warnings.append(
                f"an activity takes at most 50 contacts: {len(unlinked)} stay unlinked: {', '.join(unlinked)}"
            )
        if ctx.rel.unlinkable:
            ctx.report.warnings.append(f"lead(s) cannot be attached to the activity: {', '.join(ctx.rel.unlinkable)}")
        result.linked_contact_ids = [i for i in [ctx.rel.who_id, *attach] if i]
        if existing is not None and done:
            result.action, result.activity_id = "unchanged", str(existing["Id"])
            self.reporter.unchanged(
                ctx, target_kind or kind, str(existing["Id"]), ACTIVITY_NOTE, "activity", key=self.activity_key(ctx)
            )
            plan.relations = [c for c in attach if c not in linked]
            return
        fields = self._activity_fields(ctx, str(target_kind), describe, existing, ours, prior)
        plan.activity = RecordWrite(str(target_kind), fields, id=str(existing["Id"]) if existing else None)
        plan.relations = [c for c in attach if c not in linked]
        result.action = "updated" if existing else "created"

    def _activity_fields(
        self,
        ctx: ActivityContext,
        kind: str,
        describe: ObjectDescribe | None,
        existing: dict[str, Any] | None,
        ours: bool,
        prior: PriorWrites,
    ) -> dict[str, Any]:
        call, settings = ctx.call, ctx.state.settings
        owner = choose_owner(call, ctx.match)
        wanted: dict[str, Any] = {}
        full = existing is None or ours
        if full:
            wanted["Subject"] = activity_subject(settings, call)
            description, truncated = activity_description(call)
            if truncated:
                ctx.report.warnings.append("the description was longer than 32,000 characters: cut, with a note")
            wanted["Description"] = description
        else:
            self._reused_description(ctx, kind, existing or {}, wanted)
        if full and kind == "Task":
            wanted["ActivityDate"] = call_date(call).isoformat()
            status_field = describe.field("Status") if describe else None
            status = completed_status(status_field.picklist_values) if status_field else None
            if status:
                wanted["Status"] = status
            else:
                ctx.report.warnings.append("no completed Task Status in this org: Status left at its default")
            if existing is None:
                subtype = describe.field("TaskSubtype") if describe else None
                if subtype is not None and picklist_match("Call", subtype.picklist_values):
                    wanted["TaskSubtype"] = picklist_match("Call", subtype.picklist_values)
            wanted["CallDurationInSeconds"] = call.duration_seconds
        if full and kind == "Event":
            wanted.update(event_times(call))
            if (too_long := event_duration_warning(call)) is not None:
                ctx.report.warnings.append(too_long)
        # a reused activity keeps a Type already set; one whose row was not read is left alone
        type_set = not full and (ctx.before is None or ctx.before.get("Type") not in (None, ""))
        if call.call_type and not type_set:
            type_field = describe.field("Type") if describe else None
            value = picklist_match(call.call_type, type_field.picklist_values) if type_field else None
            if value:
                wanted["Type"] = value
            elif describe is not None and type_field is None:
                ctx.report.warnings.append(
                    f"{kind}.Type is not visible to the integration user: Type left blank. "
                    f"Fix: {field_permission_fix(kind, 'Type')}"
                )
            else:
                ctx.report.warnings.append(f"call type {call.call_type!r} is not a {kind}.Type value: Type left blank")
        if owner.user_id:
            wanted["OwnerId"] = owner.user_id
        if ctx.rel.what_id:
            wanted["WhatId"] = ctx.rel.what_id
        if ctx.rel.who_id and not (ctx.rel.who_object == "Lead" and existing and existing.get("WhatId")):
            wanted["WhoId"] = ctx.rel.who_id
        if existing is not None and prior.activity is not None:
            self._keep_reassociation(ctx, existing, prior, wanted)
        ctx.owner_reason = owner.reason
        return self._writable(ctx, kind, describe, wanted, create=existing is None)

    @staticmethod
    def activity_key(ctx: ActivityContext) -> str | None:
        """The activity change's key in the ledger: ``reused`` when callsync did not create the record."""
        return REUSED if ctx.activity_reused else None

    @staticmethod
    def _reused_description(ctx: ActivityContext, kind: str, existing: dict[str, Any], wanted: dict[str, Any]) -> None:
        """callsync's section in the Description of a record it did not create; the rest is left as it is."""
        call = ctx.call
        if "Description" not in existing:  # never write over a text that was not read
            ctx.report.warnings.append(
                f"the {kind}'s Description was not read: callsync's summary is not added to it this time"
            )
            return
        body, tail = activity_parts(call)
        merged = merge_section(existing.get("Description"), body, tail, call.call_id, marker=call_ref(call))
        if merged.text is None:
            ctx.report.warnings.append(
                f"the {kind}'s Description already holds close to 32,000 characters: callsync's summary is not "
                "added (the existing text is never cut)"
            )
            return
        if merged.truncated:
            ctx.report.warnings.append(
                f"the {kind}'s Description has room for part of the summary only: callsync's section is cut, with a "
                "note (the existing text is kept whole)"
            )
        wanted["Description"] = merged.text

    @staticmethod
    def _keep_reassociation(
        ctx: ActivityContext, existing: dict[str, Any], prior: PriorWrites, wanted: dict[str, Any]
    ) -> None:
        """A person's re-association (WhatId, WhoId) made after callsync wrote the activity and after the call
        started is kept on re-syncs of the call (``protect_human_edits``); the report says who and when.

        A field is the person's when it differs from what callsync last wrote there (the ledger), or holds a
        value callsync never wrote; so an unknown integration user (every modifier a person) never keeps
        callsync's own association, nor an empty one callsync may now fill."""
        if not ctx.state.settings.protect_human_edits:
            return
        edit = person_edit(
            last_modified_of(existing), integration_user_id=ctx.integration_user_id, since=ctx.call.started_at_utc
        )
        if edit is None:
            return
        for name in WRITTEN_FIELDS:
            if name not in wanted or name not in existing:
                continue
            current, ours = existing.get(name), prior.written.get(name)
            if same_id(current, wanted[name]) or (ours is not None and same_id(current, ours)):
                continue  # nothing to keep: the same value, or still the one callsync wrote
            if ours is None and not current:
                continue  # nobody set it: callsync fills it (whoever modified the record last)
            del wanted[name]
            ctx.kept.append(FieldChange(field=name, before=current, after=current, policy=KEPT, note=edit.note))

    def _writable(
        self,
        ctx: ActivityContext,
        obj: str,
        describe: ObjectDescribe | None,
        wanted: dict[str, Any],
        *,
        create: bool,
        feature: Feature = Feature.CALL_ACTIVITY,
    ) -> dict[str, Any]:
        """The fields the integration user may write; the others are reported, never sent."""
        if describe is None:
            return wanted
        kept: dict[str, Any] = {}
        for name, value in wanted.items():
            check = check_field(feature, obj, describe, name, "create" if create else "edit", consequence="not written")
            info = describe.field(name)
            if check.ok and info is not None:
                kept[info.name] = value
            elif info is None or create or name != "TaskSubtype":  # TaskSubtype is set once, on create
                ctx.report.warnings.append(check.message)
        return kept

    def _plan_note(
        self,
        ctx: ActivityContext,
        prior: PriorWrites,
        lookup: LookupResult | None,
        plan: WritePlan,
        result: ActivityResult,
        done: bool,
    ) -> None:
        note_id, linked = (prior.note_id, set(prior.note_links)) if not prior.pending else (None, set())
        if lookup is not None and lookup.note_links:
            note_id = str(lookup.note_links[0]["ContentDocumentId"])
            linked = {str(r["LinkedEntityId"]) for r in lookup.note_links if r["ContentDocumentId"] == note_id}
        if note_id is None and prior.note_id:
            note_id, linked = prior.note_id, set(prior.note_links)
        if note_id is None and not self.note_entities(ctx):
            ctx.report.warnings.append(NO_NOTE_TARGET)  # an unlinked note is an orphan nobody can find
            return
        entities = [e for e in self.note_entities(ctx) if e not in linked]
        result.note_id = note_id
        if note_id and done and not prior.pending:
            self.reporter.unchanged(ctx, "ContentNote", note_id, NOTE_NOTE, "note")
        else:
            fields = {"Title": note_title(ctx.state.settings, ctx.call), "Content": note_content(ctx.call)}
            plan.note = RecordWrite("ContentNote", fields, id=note_id)
        plan.note_links = entities
        plan.note_id = note_id  # links to a note that is not rewritten go on their own, to this id
        if not self.note_entities(ctx):
            ctx.report.warnings.append("no Opportunity, Account or Contact matched: the note keeps its earlier links")

    def _plan_follow_ups(
        self,
        ctx: ActivityContext,
        prior: PriorWrites,
        lookup: LookupResult | None,
        plan: WritePlan,
        result: ActivityResult,
        done: bool,
    ) -> None:
        known = dict(prior.follow_ups)
        if lookup is not None:
            for task in lookup.follow_ups:
                lines = str(task.get("Description") or "").splitlines()
                for item in ctx.follow_ups:
                    if call_ref(ctx.call, item.key) in lines:
                        known[item.key] = str(task["Id"])
                        ctx.follow_up_rows[str(task["Id"])] = task
        describe = ctx.describes.get("Task")
        for item in ctx.follow_ups:
            task_id = known.get(item.key)
            if task_id and done and item.key in prior.follow_ups:
                result.follow_up_task_ids.append(task_id)
                self.reporter.unchanged(
                    ctx, "Task", task_id, FOLLOW_UP_NOTE + item.key, "follow_up", label=item.subject, key=item.key
                )
                continue
            wanted: dict[str, Any] = {"Subject": item.subject, "Description": item.description}
            if item.due_date:
                wanted["ActivityDate"] = item.due_date.isoformat()
            if task_id is None:  # a follow-up is open: Status/Priority keep the org's defaults
                if item.owner_id:
                    wanted["OwnerId"] = item.owner_id
                if ctx.rel.what_id:
                    wanted["WhatId"] = ctx.rel.what_id
                if ctx.rel.who_id:
                    wanted["WhoId"] = ctx.rel.who_id
            fields = self._writable(ctx, "Task", describe, wanted, create=task_id is None, feature=Feature.TASK_SYNC)
            plan.follow_ups.append(RecordWrite("Task", fields, id=task_id, key=item.key))
