"""LogActivity: log the call as a Task or Event, with its note and follow-up Tasks — once.

Idempotency (docs/activity-sync.md):

- The ledger is read first (one DynamoDB query, no Salesforce request): the
  latest finished LogActivity report of this call (this revision or an earlier
  one) names, by role, the activity, note, links, relations and follow-ups
  already written (``activity_history``). Only what is missing is written; a
  finished report of this very revision means nothing is left to write, but
  for a note link to a record matched since (a move): that link is looked up
  first (Salesforce may hold it already) and written on its own if missing.
- Right before writing, the step records a *pending* report; the write is one
  composite in which each part is saved or refused on its own (a refused
  relation or follow-up never undoes the activity); then the finished report
  replaces it. A pending report seen later means an attempt may have written
  without recording it: the step then looks the records up in Salesforce (one
  composite of queries) by the deterministic subject/title/marker.
- The activity itself is always deduplicated against Salesforce (same date,
  same subject with or without the prefix, same related records): the match
  step's read-ahead candidates when they are fresh, else the same lookup.
"""

from __future__ import annotations

from callsync.domain.activity_kind import activity_kind, candidate_subjects
from callsync.domain.activity_plan import (
    call_dates,
    pick_existing_activity,
    relations,
)
from callsync.domain.follow_ups import plan_follow_ups
from callsync.domain.notes_html import note_title
from callsync.domain.permissions import Feature, write_gate
from callsync.errors import SalesforceRejected
from callsync.models.activity import ActivityResult
from callsync.models.ledger import StepReport
from callsync.models.match import MatchResult
from callsync.models.state import SyncState
from callsync.ports import DescribeSource, Leases, Ledger
from callsync.ports.activity import (
    ActivityStore,
    LookupRequest,
    LookupResult,
    WriteOutcome,
)
from callsync.services.activity_context import ActivityContext
from callsync.services.activity_history import PENDING, STEP, PriorWrites, lookup_without, newer_revision_logged
from callsync.services.activity_planner import EVENT_WINDOW, ActivityPlanner
from callsync.services.activity_report import ActivityReporter
from callsync.services.record_leases import WAIT_SECONDS, holding

__all__ = ["PENDING", "STEP", "LogActivity"]

LOCK_SECONDS = 90  # longer than the function's timeout: a crashed holder's lease runs out


class LogActivity:
    """The LogActivity step: the activity, its relations, the note and its links, the follow-ups."""

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
        self.reporter = ActivityReporter(lambda: self.store.instance_url)
        self.planner = ActivityPlanner(describes, self.reporter)
        self.lease_wait_seconds = lease_wait_seconds

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
        with holding(
            self.leases, [lease], call.call_key, ttl_seconds=LOCK_SECONDS, wait_seconds=self.lease_wait_seconds
        ):
            return self._run(state)

    def _run(self, state: SyncState) -> ActivityResult:
        call = state.call
        settings = state.settings
        match = state.match or MatchResult()
        kind = activity_kind(settings, call)
        follow_ups = plan_follow_ups(call, match) if settings.task_sync.enabled else []
        ctx = ActivityContext(
            call=call,
            state=state,
            match=match,
            contacts=state.contacts,
            kind=kind,
            notes_on=settings.notes_sync.enabled,
            follow_ups=follow_ups,
            rel=relations(match, state.contacts),
            report=StepReport(step=STEP),
            integration_user_id=self.store.integration_user_id,
        )
        if kind is None and not ctx.notes_on and not follow_ups:
            ctx.report.warnings.append("Call Activity Sync, Notes sync and Task Sync are off: nothing to log")
            return self._finish(ctx, ActivityResult(action="disabled"), record=True)
        history = self.ledger.history(call.org_id, call.call_id)  # one query: every attempt, every revision
        newer = newer_revision_logged(history, call)
        if newer is not None:
            ctx.report.warnings.append(
                f"revision {newer} of this call is already logged: revision {call.revision} is older and changes "
                "nothing (its summary would overwrite a newer one)"
            )
            return self._finish(ctx, ActivityResult(kind=kind, action="skipped"), record=True)
        start = self.store.api_requests
        self._load_metadata(ctx)
        base_warnings = list(ctx.report.warnings)
        skipped = list(ctx.report.skipped_features)
        prior = PriorWrites.from_history(history, call)
        lookup = self._lookup(ctx, prior)
        gone: set[str] = set()
        while True:
            ctx.report = StepReport(
                step=STEP,
                warnings=[
                    *base_warnings,
                    *(f"record {g} was deleted in Salesforce: written anew" for g in sorted(gone)),
                ],
                skipped_features=skipped,
            )
            known = prior.without(gone)
            plan, result = self.planner.plan(ctx, known, lookup_without(lookup, gone), gone)
            if plan.empty:
                result.action = result.action or ("unchanged" if ctx.kind else "skipped")
                self.reporter.carry_over(ctx, known, plan, result)
                ctx.report.api_requests = self.store.api_requests - start
                return self._finish(ctx, result, record=prior.revision != call.revision or prior.pending)
            snapshot = list(prior.report.changes) if prior.report is not None else []
            self.ledger.record_step(
                call.call_key, StepReport(step=STEP, progress="pending", warnings=[PENDING], changes=snapshot)
            )
            outcome = self.store.write(plan)
            fresh_gone = set(outcome.stale) - gone
            if not outcome.stale:
                break
            if not fresh_gone or len(gone) >= 5:
                raise SalesforceRejected(f"LogActivity: records {', '.join(sorted(outcome.stale))} no longer exist")
            # Written anew next round; what this round did write is known from now on (never written twice).
            self.reporter.account(ctx, plan, outcome, result)
            prior = prior.with_report(ctx.report)
            gone |= fresh_gone
        self.reporter.account(ctx, plan, outcome, result)
        self.reporter.carry_over(ctx, known, plan, result)
        ctx.report.api_requests = self.store.api_requests - start
        self._finish(ctx, result, record=True)
        self._raise_for_refusals(ctx, outcome)
        return result

    @staticmethod
    def _raise_for_refusals(ctx: ActivityContext, outcome: WriteOutcome) -> None:
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

    def _finish(self, ctx: ActivityContext, result: ActivityResult, *, record: bool) -> ActivityResult:
        result.report = ctx.report
        if record:
            self.ledger.record_step(ctx.call.call_key, ctx.report)
        return result

    def _load_metadata(self, ctx: ActivityContext) -> None:
        """Describes (cached), then each feature's write gate: a feature the integration user cannot
        save is skipped before anything is written, with doctor's fix; the others go on."""
        names = [
            n for n in (ctx.kind, "Task" if ctx.follow_ups else None, "ContentNote" if ctx.notes_on else None) if n
        ]
        ctx.describes = self.describes.describe([*names, *(["ContentDocumentLink"] if ctx.notes_on else [])])
        if ctx.kind and ctx.rel.other_contact_ids:
            ctx.shared = self.describes.org_metadata().shared_activities
        if ctx.kind and _gated(ctx, Feature.CALL_ACTIVITY, [ctx.kind], "the call is not logged as an activity"):
            ctx.kind = None
        if ctx.follow_ups and _gated(ctx, Feature.TASK_SYNC, ["Task"], "no follow-up Task is created"):
            ctx.follow_ups = []
        if ctx.notes_on and _gated(ctx, Feature.NOTES, ["ContentNote", "ContentDocumentLink"], "no note is written"):
            ctx.notes_on = False

    def _lookup(self, ctx: ActivityContext, prior: PriorWrites) -> LookupResult | None:
        """One composite of queries, only when the ledger and the match step cannot tell."""
        call, settings = ctx.call, ctx.state.settings
        candidates = ctx.match.activity_candidates
        finished_before = prior.revision is not None and not prior.pending
        need_activity = (
            bool(ctx.kind) and (candidates is None or prior.pending) and not (finished_before and prior.activity)
        )
        rows = self.planner.rows_to_read(ctx, prior)  # the ledger's activity, when no query read it yet
        need_activity = need_activity or bool(rows)
        ours_in_salesforce = False
        if candidates and not prior.revision:
            found = pick_existing_activity(
                candidates,
                call,
                subjects=candidate_subjects(settings, call),
                related_ids=self.planner.related(ctx),
                prefer_kind=ctx.kind,
            )
            ours_in_salesforce = found is not None and self.planner.is_ours(ctx, found)
        # Notes and follow-ups: the ledger knows, unless an attempt did not finish, the ledger has
        # nothing while Salesforce shows our activity, or there is no activity to tell by.
        unknown = prior.pending or (prior.revision is None and (ours_in_salesforce or need_activity or not ctx.kind))
        entities = self.planner.note_entities(ctx)
        # A link the ledger does not name, to a note that exists (another record matched since): Salesforce
        # may hold it already (a person linked it, an attempt the ledger missed); the lookup finds it.
        missing_links = bool(prior.note_id) and not prior.pending and bool(set(entities) - prior.note_links)
        need_notes = ctx.notes_on and (unknown or missing_links) and bool(entities)
        need_follow_ups = bool(ctx.follow_ups) and unknown
        if not (need_activity or need_notes or need_follow_ups):
            return None
        request = LookupRequest()
        if need_activity and ctx.kind:
            request.activity_kinds = list(dict.fromkeys([ctx.kind, *(kind for kind, _ in rows)]))
            request.activity_ids = [record_id for _, record_id in rows]
            request.subjects = candidate_subjects(settings, call)
            request.dates = sorted(call_dates(call))
            request.window = (call.started_at_utc - EVENT_WINDOW, call.started_at_utc + EVENT_WINDOW)
            request.related_ids = self.planner.related(ctx)
            request.shared_activities = self.describes.org_metadata().shared_activities
        if need_follow_ups:
            request.follow_up_subjects = list(dict.fromkeys(f.subject for f in ctx.follow_ups))
        if need_notes:
            request.note_title = note_title(settings, call)
            request.note_entities = entities
        if need_activity and not request.related_ids and not request.activity_ids:
            request.activity_kinds = []  # nothing to relate to: only our ledger can tell
        if request.activity_kinds or request.follow_up_subjects or request.note_title:
            return self.store.lookup(request)
        return None


def _gated(ctx: ActivityContext, feature: Feature, objects: list[str], consequence: str) -> bool:
    """Whether ``feature`` is stopped by a missing permission (then reported in the step's warnings)."""
    check = write_gate(feature, objects, ctx.describes)
    if check is None:
        return False
    ctx.report.warnings.append(check.skip_warning(consequence))
    ctx.report.skipped_features.append(check.skipped())
    return True
