"""LogActivity: log the call as a Task or Event, with its note and follow-up Tasks — once.

Idempotency (docs/activity-sync.md):

- The ledger is read first (DynamoDB, no Salesforce request): the latest
  finished LogActivity entry of this call (this revision or an earlier one)
  names the activity, note, links, relations and follow-ups already written.
  Only what is missing is written; a finished entry of this very revision
  means nothing is left to write.
- Right before writing, the step records a *pending* entry; the write is one
  composite with ``allOrNone``; then the finished entry replaces it. A pending
  entry seen later means an attempt may have written without recording it:
  the step then looks the records up in Salesforce (one composite of queries)
  by the deterministic subject/title/marker instead of trusting the ledger.
- The activity itself is always deduplicated against Salesforce (same date,
  same subject with or without the prefix, same related records): the match
  step's read-ahead candidates when they are fresh, else the same lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from callsync.domain.activity_kind import activity_kind, activity_subject, candidate_subjects
from callsync.domain.activity_plan import (
    Relations,
    activity_description,
    call_date,
    call_dates,
    call_ref,
    choose_owner,
    completed_status,
    event_times,
    existing_contact_ids,
    existing_relation_ids,
    one_line,
    pick_existing_activity,
    picklist_match,
    record_kind,
    relations,
    same_value,
    split_shared_contacts,
)
from callsync.domain.follow_ups import FollowUp, plan_follow_ups
from callsync.domain.notes_html import note_content, note_title
from callsync.domain.permissions import field_permission_fix, object_permission_fix
from callsync.errors import SalesforceRejected
from callsync.models.activity import ActivityResult
from callsync.models.describe import ObjectDescribe
from callsync.models.event import CallProcessed
from callsync.models.ledger import CallHistory, FieldChange, RecordChange, RecordRole, StepReport, record_url
from callsync.models.match import ContactsResult, MatchResult
from callsync.models.state import SyncState
from callsync.ports import DescribeSource, Leases, Ledger
from callsync.ports.activity import (
    ActivityStore,
    LookupRequest,
    LookupResult,
    RecordWrite,
    SaveResult,
    WriteOutcome,
    WritePlan,
)
from callsync.services.record_leases import WAIT_SECONDS, holding

STEP = "LogActivity"
PENDING = "in progress: an attempt started writing to Salesforce and has not finished"
ACTIVITY_NOTE = "the logged call"
FOLLOW_UP_NOTE = "follow-up "  # + key
NOTE_NOTE = "call notes"
NO_NOTE_TARGET = "no Opportunity, Account or Contact matched: no record to attach the note to, the note is not written"
REVISIONS_BACK = 10
PREVIEW = 300
EVENT_WINDOW = timedelta(hours=18)
LOCK_SECONDS = 90  # longer than the function's timeout: a crashed holder's lease runs out


# ------------------------------------------------------------------ the port


# ------------------------------------------------------------------ what earlier attempts wrote


@dataclass
class PriorWrites:
    """What the ledger says earlier attempts for this call wrote."""

    revision: int | None = None  # revision of the latest finished entry
    pending: bool = False  # a later attempt started and did not finish
    activity: tuple[str, str] | None = None  # (object, id)
    relations: set[str] = field(default_factory=set)  # contact ids attached by relation records
    note_id: str | None = None
    note_links: set[str] = field(default_factory=set)
    follow_ups: dict[str, str] = field(default_factory=dict)  # key -> Task id
    report: StepReport | None = None

    @classmethod
    def from_history(cls, history: CallHistory, call: CallProcessed) -> PriorWrites:
        """What the latest report of this step, for this revision or an earlier one, says was written."""
        prior = cls()
        for revision in range(call.revision, max(0, call.revision - REVISIONS_BACK), -1):
            report = history.step(revision, STEP)
            if report is None:
                continue
            if report.progress == "pending":
                prior.pending = True  # may have written; its snapshot is what was known before it
                if not report.changes:
                    continue
            else:
                prior.revision = revision
            prior.report = report
            prior._read(report)
            break
        return prior

    def with_report(self, report: StepReport) -> PriorWrites:
        """This knowledge plus what ``report`` says an earlier round of this attempt saved."""
        merged = PriorWrites(
            revision=self.revision, pending=self.pending, activity=self.activity, relations=set(self.relations),
            note_id=self.note_id, note_links=set(self.note_links), follow_ups=dict(self.follow_ups),
            report=StepReport(step=STEP, progress="pending",
                              changes=[*(self.report.changes if self.report else []), *report.changes]))
        merged._read(report)
        return merged

    def without(self, gone: set[str]) -> PriorWrites:
        """The same knowledge minus records found deleted."""
        return PriorWrites(
            revision=self.revision, pending=self.pending,
            activity=self.activity if self.activity and self.activity[1] not in gone else None,
            relations=set(self.relations), note_id=self.note_id if self.note_id not in gone else None,
            note_links=set(self.note_links) if self.note_id not in gone else set(),
            follow_ups={k: v for k, v in self.follow_ups.items() if v not in gone}, report=self.report)

    def _read(self, report: StepReport) -> None:
        for change in report.with_role("activity"):
            if change.id:
                self.activity = (change.object, change.id)
        for change in report.with_role("follow_up"):
            if change.id and change.key:
                self.follow_ups[change.key] = change.id
        for change in report.with_role("note"):
            if change.id:
                self.note_id = change.id
        self.note_links.update(c.key for c in report.with_role("note_link") if c.key)
        self.relations.update(c.key for c in report.with_role("relation") if c.key)


# ------------------------------------------------------------------ the service


@dataclass
class _Context:
    call: CallProcessed
    state: SyncState
    match: MatchResult
    contacts: ContactsResult | None
    kind: str | None
    notes_on: bool
    follow_ups: list[FollowUp]
    rel: Relations
    report: StepReport
    describes: dict[str, ObjectDescribe | None] = field(default_factory=dict)
    shared: bool = False
    owner_reason: str = "unchanged"
    before: dict[str, Any] | None = None  # the existing activity as read (candidates/lookup): the report's before
    follow_up_rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # Task id -> looked-up follow-up


def _stub(obj: str, record_id: str) -> dict[str, Any]:
    return {"Id": record_id, "attributes": {"type": obj}}


def _lookup_without(lookup: LookupResult | None, gone: set[str]) -> LookupResult | None:
    if lookup is None or not gone:
        return lookup
    return LookupResult(
        activities=[r for r in lookup.activities if str(r.get("Id")) not in gone],
        follow_ups=[r for r in lookup.follow_ups if str(r.get("Id")) not in gone],
        note_links=[r for r in lookup.note_links if str(r.get("ContentDocumentId")) not in gone],
        activities_queried=lookup.activities_queried)


def _preview(value: Any) -> Any:
    if isinstance(value, str) and len(value) > PREVIEW:
        return f"{value[:PREVIEW]}… ({len(value)} characters)"
    return value


NOT_READ = "its value before was not read"


def _field_changes(fields: dict[str, Any], before: dict[str, Any] | None, *, update: bool) -> list[FieldChange]:
    """Each written field as before → after; an update leaves out the fields that keep their value.

    ``before``: the record as a query read it (a field missing from it was not
    selected: its before is unknown and said so).
    """
    if not update:
        return [FieldChange(field=k, after=_preview(v)) for k, v in fields.items()]
    read = {str(k).lower(): v for k, v in (before or {}).items()}
    out: list[FieldChange] = []
    for name, value in fields.items():
        if name.lower() not in read:
            out.append(FieldChange(field=name, after=_preview(value), note=NOT_READ))
        elif not same_value(name, read[name.lower()], value):
            out.append(FieldChange(field=name, before=_preview(read[name.lower()]), after=_preview(value)))
    return out


REFUSAL_FIXES = {
    "REQUIRED_FIELD_MISSING": "a field required on {obj} gets no value from callsync: give it a default value in "
                              "Salesforce (Object Manager → {obj} → Fields & Relationships)",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": "a validation rule on {obj} refuses it: exempt the integration user from "
                                         "the rule (e.g. a custom permission checked in the rule) or relax it",
    "INSUFFICIENT_ACCESS_OR_READONLY": "the integration user cannot write {obj}: " + "{permission}",
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY": "the integration user cannot see a record it links to: "
                                                     "share it with the integration user",
}


def _refused(obj: str, what: str, saved: SaveResult) -> str:
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


def _newer_revision_logged(history: CallHistory, call: CallProcessed) -> int | None:
    """A later revision of this call whose LogActivity finished (the ledger; no Salesforce request)."""
    for revision in history.revisions():
        report = history.step(revision, STEP)
        if revision > call.revision and report is not None and report.progress == "finished":
            return revision
    return None


def _same_id(a: Any, b: Any) -> bool:
    return bool(a) and bool(b) and str(a)[:15] == str(b)[:15]


def _read_row(stub: dict[str, Any], pool: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The row a query read for the record the ledger names, if any (same request, no extra one)."""
    return next((r for r in pool if _same_id(r.get("Id"), stub["Id"])), None)


class LogActivity:
    """The LogActivity step (issue #6)."""

    def __init__(
        self,
        store: ActivityStore,
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

    # -- entry point ------------------------------------------------------------------------

    def run(self, state: SyncState) -> ActivityResult:
        """Log the call, holding the call's lease so two revisions never write at once.

        Two revisions of one call may run at the same time (a re-sync sent while
        the first is still in flight). Both would read the same "nothing logged
        yet" and create two activities; the lease makes the second wait (polling,
        then ``ConcurrentUpdate``, retried by the state machine) and then find, in
        the ledger, what the first one wrote. The lease is given back on every path.

        Raises:
            ConcurrentUpdate: another revision of this call kept the lease for the whole wait.
        """
        call = state.call
        lease = f"log-activity#{call.org_id}#{call.call_id}"
        with holding(self.leases, [lease], call.call_key, ttl_seconds=LOCK_SECONDS,
                     wait_seconds=self.lease_wait_seconds):
            return self._run(state)

    def _run(self, state: SyncState) -> ActivityResult:
        call = state.call
        settings = state.settings
        match = state.match or MatchResult()
        kind = activity_kind(settings, call)
        follow_ups = plan_follow_ups(call, match) if settings.task_sync.enabled else []
        ctx = _Context(
            call=call, state=state, match=match, contacts=state.contacts, kind=kind,
            notes_on=settings.notes_sync.enabled, follow_ups=follow_ups,
            rel=relations(match, state.contacts), report=StepReport(step=STEP),
        )
        if kind is None and not ctx.notes_on and not follow_ups:
            ctx.report.warnings.append("Call Activity Sync, Notes sync and Task Sync are off: nothing to log")
            return self._finish(ctx, ActivityResult(action="disabled"), record=True)
        history = self.ledger.history(call.org_id, call.call_id)  # one query: every attempt, every revision
        newer = _newer_revision_logged(history, call)
        if newer is not None:
            ctx.report.warnings.append(
                f"revision {newer} of this call is already logged: revision {call.revision} is older and changes "
                "nothing (its summary would overwrite a newer one)")
            return self._finish(ctx, ActivityResult(kind=kind, action="skipped"), record=True)
        start = self.store.api_requests
        self._load_metadata(ctx)
        base_warnings = list(ctx.report.warnings)
        prior = PriorWrites.from_history(history, call)
        lookup = self._lookup(ctx, prior)
        gone: set[str] = set()
        while True:
            ctx.report = StepReport(step=STEP, warnings=[
                *base_warnings, *(f"record {g} was deleted in Salesforce: written anew" for g in sorted(gone))])
            known = prior.without(gone)
            plan, result = self._plan(ctx, known, _lookup_without(lookup, gone), gone)
            if plan.empty:
                result.action = result.action or ("unchanged" if ctx.kind else "skipped")
                self._carry_over(ctx, known, plan, result)
                ctx.report.api_requests = self.store.api_requests - start
                return self._finish(ctx, result, record=prior.revision != call.revision or prior.pending)
            snapshot = list(prior.report.changes) if prior.report is not None else []
            self.ledger.record_step(call.call_key, StepReport(
                step=STEP, progress="pending", warnings=[PENDING], changes=snapshot))
            outcome = self.store.write(plan)
            fresh_gone = set(outcome.stale) - gone
            if not outcome.stale:
                break
            if not fresh_gone or len(gone) >= 5:
                raise SalesforceRejected(f"LogActivity: records {', '.join(sorted(outcome.stale))} no longer exist")
            # Written anew next round; what this round did write is known from now on (never written twice).
            self._account(ctx, plan, outcome, result)
            prior = prior.with_report(ctx.report)
            gone |= fresh_gone
        self._account(ctx, plan, outcome, result)
        self._carry_over(ctx, known, plan, result)
        ctx.report.api_requests = self.store.api_requests - start
        self._finish(ctx, result, record=True)
        self._raise_for_refusals(ctx, outcome)
        return result

    @staticmethod
    def _raise_for_refusals(ctx: _Context, outcome: WriteOutcome) -> None:
        """After the ledger has the finished report: a transient refusal retries the step (idempotently);
        the call's own activity refused for good fails the call (replayable); any other refusal is reported.

        Raises:
            RetryableError: a part was refused transiently (row lock, outage).
            SalesforceRejected: Salesforce refused the activity itself.
        """
        retry = next((r.failure for r in outcome.refusals() if r.retryable and r.failure is not None), None)
        if retry is not None:
            raise retry
        activity = outcome.activity
        if activity is not None and not activity.ok:
            raise SalesforceRejected(f"LogActivity: Salesforce refused the {ctx.kind or 'activity'}: {activity.error}")

    def _finish(self, ctx: _Context, result: ActivityResult, *, record: bool) -> ActivityResult:
        result.report = ctx.report
        if record:
            self.ledger.record_step(ctx.call.call_key, ctx.report)
        return result

    # -- metadata -----------------------------------------------------------------------------

    def _load_metadata(self, ctx: _Context) -> None:
        names = [n for n in (ctx.kind, "Task" if ctx.follow_ups else None,
                             "ContentNote" if ctx.notes_on else None) if n]
        ctx.describes = self.describes.describe(names)
        if ctx.kind and ctx.rel.other_contact_ids:
            ctx.shared = self.describes.org_metadata().shared_activities
        for name in names:
            if ctx.describes.get(name) is None:
                ctx.report.warnings.append(f"{name} is not accessible to the integration user: skipped. "
                                           f"Fix: {object_permission_fix(name, 'all')}")
        if ctx.kind and ctx.describes.get(ctx.kind) is None:
            ctx.kind = None
        if ctx.follow_ups and ctx.describes.get("Task") is None:
            ctx.follow_ups = []
        if ctx.notes_on and not (ctx.describes.get("ContentNote") or ObjectDescribe(name="x")).createable:
            if ctx.describes.get("ContentNote") is not None:
                ctx.report.warnings.append("ContentNote is not createable by the integration user: notes skipped. "
                                           f"Fix: {object_permission_fix('ContentNote', 'create')}")
            ctx.notes_on = False

    # -- lookup -------------------------------------------------------------------------------

    def _lookup(self, ctx: _Context, prior: PriorWrites) -> LookupResult | None:
        """One composite of queries, only when the ledger and the match step cannot tell."""
        call, settings = ctx.call, ctx.state.settings
        candidates = ctx.match.activity_candidates
        finished_before = prior.revision is not None and not prior.pending
        need_activity = bool(ctx.kind) and (candidates is None or prior.pending) and not (
            finished_before and prior.activity)
        ours_in_salesforce = False
        if candidates and not prior.revision:
            found = pick_existing_activity(candidates, call, subjects=candidate_subjects(settings, call),
                                           related_ids=self._related(ctx), prefer_kind=ctx.kind)
            ours_in_salesforce = found is not None and self._is_ours(ctx, found)
        # Notes and follow-ups: the ledger knows, unless an attempt did not finish, the ledger has
        # nothing while Salesforce shows our activity, or there is no activity to tell by.
        unknown = prior.pending or (prior.revision is None and (ours_in_salesforce or need_activity or not ctx.kind))
        need_notes = ctx.notes_on and unknown and bool(self._note_entities(ctx))
        need_follow_ups = bool(ctx.follow_ups) and unknown
        if not (need_activity or need_notes or need_follow_ups):
            return None
        request = LookupRequest()
        if need_activity and ctx.kind:
            request.activity_kinds = [ctx.kind]
            request.subjects = candidate_subjects(settings, call)
            request.dates = sorted(call_dates(call))
            request.window = (call.started_at_utc - EVENT_WINDOW, call.started_at_utc + EVENT_WINDOW)
            request.related_ids = self._related(ctx)
            request.shared_activities = self.describes.org_metadata().shared_activities
        if need_follow_ups:
            request.follow_up_subjects = list(dict.fromkeys(f.subject for f in ctx.follow_ups))
        if need_notes:
            request.note_title = note_title(settings, call)
            request.note_entities = self._note_entities(ctx)
        if need_activity and not request.related_ids:
            request.activity_kinds = []  # nothing to relate to: only our ledger can tell
        if request.activity_kinds or request.follow_up_subjects or request.note_title:
            return self.store.lookup(request)
        return None

    @staticmethod
    def _related(ctx: _Context) -> list[str]:
        ids = list(ctx.rel.entity_ids)
        if ctx.match.account is not None:
            ids.append(ctx.match.account.id)
        return list(dict.fromkeys(ids))

    @staticmethod
    def _note_entities(ctx: _Context) -> list[str]:
        ids = [ctx.rel.what_id, ctx.rel.who_id if ctx.rel.who_object == "Contact" else None]
        return list(dict.fromkeys(i for i in ids if i))

    @staticmethod
    def _is_ours(ctx: _Context, record: dict[str, Any]) -> bool:
        subject = one_line(str(record.get("Subject") or "")).casefold()
        ours = one_line(activity_subject(ctx.state.settings, ctx.call)).casefold()
        return call_ref(ctx.call) in str(record.get("Description") or "").splitlines() or subject == ours

    # -- plan ---------------------------------------------------------------------------------

    def _plan(self, ctx: _Context, prior: PriorWrites, lookup: LookupResult | None,
              gone: set[str]) -> tuple[WritePlan, ActivityResult]:
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

    def _plan_activity(self, ctx: _Context, prior: PriorWrites, lookup: LookupResult | None, plan: WritePlan,
                       result: ActivityResult, done: bool, gone: set[str]) -> None:
        call, settings, kind = ctx.call, ctx.state.settings, str(ctx.kind)
        existing: dict[str, Any] | None = None
        ours = True
        queried = lookup is not None and lookup.activities_queried
        pool = lookup.activities if lookup is not None and queried else ctx.match.activity_candidates or []
        pool = [r for r in pool if str(r.get("Id")) not in gone]
        ctx.before = None
        if prior.activity and not prior.pending:
            existing, result.deduped_with = _stub(*prior.activity), "ledger"
        else:
            found = pick_existing_activity(pool, call, subjects=candidate_subjects(settings, call),
                                           related_ids=self._related(ctx), prefer_kind=kind)
            if found is not None:
                existing, ours = found, self._is_ours(ctx, found)
                result.deduped_with = "lookup" if queried else "candidates"
                ctx.before = found
            elif prior.activity:
                existing, result.deduped_with = _stub(*prior.activity), "ledger"
        if existing is not None and ctx.before is None:  # known from the ledger: the read-ahead may hold its values
            ctx.before = _read_row(existing, pool)
            existing = {**ctx.before, **existing} if ctx.before else existing
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
                f"stay unlinked: {', '.join(unlinked)}")
        elif unlinked:
            ctx.report.warnings.append(
                f"an activity takes at most 50 contacts: {len(unlinked)} stay unlinked: {', '.join(unlinked)}")
        if ctx.rel.unlinkable:
            ctx.report.warnings.append(f"lead(s) cannot be attached to the activity: {', '.join(ctx.rel.unlinkable)}")
        result.linked_contact_ids = [i for i in [ctx.rel.who_id, *attach] if i]
        if existing is not None and ours and done:
            result.action, result.activity_id = "unchanged", str(existing["Id"])
            self._unchanged(ctx, target_kind or kind, str(existing["Id"]), ACTIVITY_NOTE, "activity")
            plan.relations = [c for c in attach if c not in linked]
            return
        fields = self._activity_fields(ctx, str(target_kind), describe, existing, ours)
        plan.activity = RecordWrite(str(target_kind), fields, id=str(existing["Id"]) if existing else None)
        plan.relations = [c for c in attach if c not in linked]
        result.action = "updated" if existing else "created"

    def _activity_fields(self, ctx: _Context, kind: str, describe: ObjectDescribe | None,
                         existing: dict[str, Any] | None, ours: bool) -> dict[str, Any]:
        call, settings = ctx.call, ctx.state.settings
        description, truncated = activity_description(call)
        if truncated:
            ctx.report.warnings.append("the description was longer than 32,000 characters: cut, with a note")
        owner = choose_owner(call, ctx.match)
        wanted: dict[str, Any] = {}
        full = existing is None or ours
        if full:
            wanted["Subject"] = activity_subject(settings, call)
        wanted["Description"] = description
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
        if call.call_type:
            type_field = describe.field("Type") if describe else None
            value = picklist_match(call.call_type, type_field.picklist_values) if type_field else None
            if value:
                wanted["Type"] = value
            elif describe is not None and type_field is None:
                ctx.report.warnings.append(f"{kind}.Type is not visible to the integration user: Type left blank. "
                                           f"Fix: {field_permission_fix(kind, 'Type')}")
            else:
                ctx.report.warnings.append(f"call type {call.call_type!r} is not a {kind}.Type value: Type left blank")
        if owner.user_id:
            wanted["OwnerId"] = owner.user_id
        if ctx.rel.what_id:
            wanted["WhatId"] = ctx.rel.what_id
        if ctx.rel.who_id and not (ctx.rel.who_object == "Lead" and existing and existing.get("WhatId")):
            wanted["WhoId"] = ctx.rel.who_id
        ctx.owner_reason = owner.reason
        return self._writable(ctx, kind, describe, wanted, create=existing is None)

    def _writable(self, ctx: _Context, obj: str, describe: ObjectDescribe | None, wanted: dict[str, Any],
                  *, create: bool) -> dict[str, Any]:
        """The fields the integration user may write; the others are reported, never sent."""
        if describe is None:
            return wanted
        kept: dict[str, Any] = {}
        for name, value in wanted.items():
            info = describe.field(name)
            if info is None:
                ctx.report.warnings.append(f"{obj}.{name} is not visible to the integration user: not written. "
                                           f"Fix: {field_permission_fix(obj, name)}")
            elif not (info.createable if create else info.updateable):
                if create or name != "TaskSubtype":
                    ctx.report.warnings.append(f"{obj}.{name} is read-only for the integration user: not written. "
                                               f"Fix: {field_permission_fix(obj, name)}")
            else:
                kept[info.name] = value
        return kept

    def _plan_note(self, ctx: _Context, prior: PriorWrites, lookup: LookupResult | None, plan: WritePlan,
                   result: ActivityResult, done: bool) -> None:
        note_id, linked = (prior.note_id, set(prior.note_links)) if not prior.pending else (None, set())
        if lookup is not None and lookup.note_links:
            note_id = str(lookup.note_links[0]["ContentDocumentId"])
            linked = {str(r["LinkedEntityId"]) for r in lookup.note_links if r["ContentDocumentId"] == note_id}
        if note_id is None and prior.note_id:
            note_id, linked = prior.note_id, set(prior.note_links)
        if note_id is None and not self._note_entities(ctx):
            ctx.report.warnings.append(NO_NOTE_TARGET)  # an unlinked note is an orphan nobody can find
            return
        entities = [e for e in self._note_entities(ctx) if e not in linked]
        result.note_id = note_id
        if note_id and done and not prior.pending:
            self._unchanged(ctx, "ContentNote", note_id, NOTE_NOTE, "note")
        else:
            fields = {"Title": note_title(ctx.state.settings, ctx.call), "Content": note_content(ctx.call)}
            plan.note = RecordWrite("ContentNote", fields, id=note_id)
        plan.note_links = entities
        if not self._note_entities(ctx):
            ctx.report.warnings.append("no Opportunity, Account or Contact matched: the note keeps its earlier links")

    def _plan_follow_ups(self, ctx: _Context, prior: PriorWrites, lookup: LookupResult | None, plan: WritePlan,
                         result: ActivityResult, done: bool) -> None:
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
                self._unchanged(ctx, "Task", task_id, FOLLOW_UP_NOTE + item.key, "follow_up", label=item.subject,
                               key=item.key)
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
            fields = self._writable(ctx, "Task", describe, wanted, create=task_id is None)
            plan.follow_ups.append(RecordWrite("Task", fields, id=task_id, key=item.key))

    def _unchanged(self, ctx: _Context, obj: str, rid: str, note: str, role: RecordRole, *,
                   label: str | None = None, key: str | None = None) -> None:
        ctx.report.changes.append(RecordChange(
            action="unchanged", object=obj, id=rid, url=record_url(self.store.instance_url, obj, rid),
            label=label, note=note, role=role, key=key))

    # -- report -------------------------------------------------------------------------------

    def _account(self, ctx: _Context, plan: WritePlan, outcome: WriteOutcome, result: ActivityResult) -> None:
        url = self.store.instance_url
        changes = ctx.report.changes
        if plan.activity is not None:
            act = plan.activity
            saved = outcome.activity or SaveResult(act.id, True)
            rid = saved.id or act.id if saved.ok else act.id
            result.activity_id, result.kind = rid, act.object  # type: ignore[assignment]
            label = act.fields.get("Subject") or (ctx.before or {}).get("Subject")
            changes.append(RecordChange(
                action=("updated" if act.id else "created") if saved.ok else "failed", object=act.object, id=rid,
                url=record_url(url, act.object, str(rid)) if rid else None, label=label,
                fields=_field_changes(act.fields, ctx.before if act.id else None, update=bool(act.id)),
                note=f"{ACTIVITY_NOTE}; owner: {ctx.owner_reason}" if saved.ok else saved.error, role="activity"))
            if not saved.ok:
                ctx.report.warnings.append(_refused(act.object, "the call's activity", saved))
        rel_obj = "EventRelation" if result.kind == "Event" else "TaskRelation"
        parent_field = "EventId" if rel_obj == "EventRelation" else "TaskId"
        for contact_id, saved in outcome.relations.items():
            changes.append(RecordChange(
                action="created" if saved.ok else "failed", object=rel_obj, id=saved.id,
                url=record_url(url, rel_obj, saved.id) if saved.id else None,
                label=ctx.rel.contact_emails.get(contact_id),
                fields=[FieldChange(field=parent_field, after=result.activity_id),
                        FieldChange(field="RelationId", after=contact_id)], note=saved.error,
                role="relation", key=contact_id))
            if not saved.ok:
                ctx.report.warnings.append(_refused(rel_obj, f"contact {contact_id} on the activity", saved))
                result.linked_contact_ids = [i for i in result.linked_contact_ids if i != contact_id]
        if plan.note is not None:
            saved = outcome.note or SaveResult(plan.note.id, True)
            rid = (saved.id or plan.note.id) if saved.ok else plan.note.id
            result.note_id = rid if saved.ok else None
            changes.append(RecordChange(
                action=("updated" if plan.note.id else "created") if saved.ok else "failed", object="ContentNote",
                id=rid, url=record_url(url, "ContentNote", str(rid)) if rid else None, label=plan.note.fields["Title"],
                fields=[FieldChange(field="Title", after=plan.note.fields["Title"]),
                        FieldChange(field="Content", after=f"HTML, {len(plan.note.fields['Content'])} base64 chars")],
                note=NOTE_NOTE if saved.ok else saved.error, role="note"))
            if not saved.ok:
                ctx.report.warnings.append(_refused("ContentNote", "the call notes", saved))
        for entity_id, saved in outcome.note_links.items():
            changes.append(RecordChange(
                action="created" if saved.ok else "failed", object="ContentDocumentLink", id=saved.id,
                fields=[FieldChange(field="ContentDocumentId", after=result.note_id),
                        FieldChange(field="LinkedEntityId", after=entity_id),
                        FieldChange(field="ShareType", after="V")], note=saved.error,
                role="note_link", key=entity_id))
            if not saved.ok and (outcome.note is None or outcome.note.ok):
                ctx.report.warnings.append(_refused("ContentDocumentLink", f"the notes' link to {entity_id}", saved))
        for write in plan.follow_ups:
            saved = outcome.follow_ups.get(str(write.key)) or SaveResult(write.id, True)
            rid = (saved.id or write.id) if saved.ok else write.id
            if rid and saved.ok:
                result.follow_up_task_ids.append(rid)
            changes.append(RecordChange(
                action=("updated" if write.id else "created") if saved.ok else "failed", object="Task", id=rid,
                url=record_url(url, "Task", str(rid)) if rid else None, label=write.fields.get("Subject"),
                fields=_field_changes(write.fields, ctx.follow_up_rows.get(str(write.id)), update=bool(write.id)),
                note=f"{FOLLOW_UP_NOTE}{write.key}" if saved.ok else saved.error, role="follow_up", key=write.key))
            if not saved.ok:
                ctx.report.warnings.append(_refused("Task", f"follow-up '{write.fields.get('Subject')}'", saved))

    def _carry_over(self, ctx: _Context, prior: PriorWrites, plan: WritePlan, result: ActivityResult) -> None:
        """Relations, links and follow-ups of earlier attempts stay in the ledger's picture of the call."""
        url = self.store.instance_url
        written = {(c.object, str(c.id)) for c in ctx.report.changes}
        attached = {f.after for c in ctx.report.changes for f in c.fields if f.field == "RelationId"}
        rel_obj = "EventRelation" if result.kind == "Event" else "TaskRelation"
        for contact_id in sorted(prior.relations - attached - set(plan.relations)):
            ctx.report.changes.append(RecordChange(
                action="unchanged", object=rel_obj, label=ctx.rel.contact_emails.get(contact_id),
                fields=[FieldChange(field="RelationId", after=contact_id)], role="relation", key=contact_id))
        linked = {f.after for c in ctx.report.changes for f in c.fields if f.field == "LinkedEntityId"}
        if result.note_id and result.note_id == prior.note_id:
            for entity_id in sorted(prior.note_links - linked):
                ctx.report.changes.append(RecordChange(
                    action="unchanged", object="ContentDocumentLink",
                    fields=[FieldChange(field="ContentDocumentId", after=result.note_id),
                            FieldChange(field="LinkedEntityId", after=entity_id)],
                    role="note_link", key=entity_id))
        for key, task_id in prior.follow_ups.items():
            if ("Task", task_id) not in written:
                ctx.report.changes.append(RecordChange(
                    action="unchanged", object="Task", id=task_id, url=record_url(url, "Task", task_id),
                    note=f"{FOLLOW_UP_NOTE}{key} (no longer among the action items)", role="follow_up", key=key))
