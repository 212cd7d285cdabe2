"""MatchOpportunity: which Opportunity, Account, Contacts, Leads and Users a call belongs to.

One Salesforce request for up to 20 participants (one composite of independent
queries, see ``adapters.salesforce_match``); it also reads ahead what later steps
need: current values of the mapped fields and candidate activities for the dedupe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from callsync.domain.activity_kind import activity_kind, candidate_subjects
from callsync.domain.association import (
    OVERRIDE_KEY,
    Association,
    association_change,
    explicit_association,
    override_choice,
)
from callsync.domain.contact_plan import creatable
from callsync.domain.follow_ups import assignee_emails, owner_fallbacks
from callsync.domain.matching import apply_association, match_call
from callsync.domain.participants import build_roster, looks_internal
from callsync.domain.state_budget import bounded_candidates, bounded_modifiers, bounded_values
from callsync.models.describe import ObjectDescribe, is_api_name
from callsync.models.ledger import RecordChange, StepReport, record_url_or_none
from callsync.models.match import MatchResult
from callsync.models.settings import MATCHED_OBJECTS
from callsync.models.state import SyncState
from callsync.ports import DescribeSource, Ledger
from callsync.ports.match import MappedFields, MatchQuery, MatchReader


def later_step_objects(state: SyncState) -> list[str]:
    """Objects whose describes SyncFields and LogActivity will ask for on this call.

    SyncFields: every mapping's object (custom via-objects included) and Account for the
    link field; LogActivity: the activity object, Task for follow-ups, ContentNote and
    ContentDocumentLink for notes; CreateContacts: Contact and Lead (its write gate).
    (The global describe rides along in the describe source's composite when it is stale.)
    """
    settings = state.settings
    names: list[str] = []
    if settings.field_sync.enabled:
        names.extend(m.object for m in settings.field_sync.mappings)
    if settings.account_link_field:
        names.append("Account")
    kind = activity_kind(settings, state.call)
    if kind:
        names.append(kind)
    if settings.task_sync.enabled:
        names.append("Task")
    if settings.notes_sync.enabled:
        names.extend(["ContentNote", "ContentDocumentLink"])
    if settings.contact_creation.enabled:
        names.extend(["Contact", "Lead"])
    return list(dict.fromkeys(names))


def visible_mapped_fields(
    state: SyncState, describes: DescribeSource | None, prefetch: Iterable[str] = ()
) -> tuple[MappedFields, list[str], dict[str, ObjectDescribe | None]]:
    """Mapped fields of Opportunity/Account/Contact that the integration user can see.

    Hidden ones are left out (they would make the SOQL fail with INVALID_FIELD); SyncFields
    reports them. The Account link field counts as an Account field. Returns (fields, notes,
    the describes read: by object name).
    ``prefetch``: more objects to describe in the same (cold: one composite) request, for later steps.
    """
    settings = state.settings
    wanted: dict[str, list[str]] = {name: [] for name in MATCHED_OBJECTS}
    if settings.field_sync.enabled:
        for name in MATCHED_OBJECTS:
            wanted[name].extend(settings.mapped_fields(name))
    if settings.account_link_field:
        wanted["Account"].append(settings.account_link_field)
    prefetch = list(prefetch)
    if describes is None or not (any(wanted.values()) or prefetch):
        return MappedFields(), [], {}
    found = describes.describe([*(n for n in MATCHED_OBJECTS if wanted[n]), *prefetch])
    visible: dict[str, tuple[str, ...]] = {}
    notes: list[str] = []
    for name in MATCHED_OBJECTS:
        describe = found.get(name)
        names: dict[str, None] = {}
        for wanted_name in wanted[name]:
            info = describe.field(wanted_name) if describe is not None else None
            if info is None or not is_api_name(info.name):
                notes.append(f"{name}.{wanted_name} is not visible: its current value was not read")
                continue
            names.setdefault(info.name, None)
        visible[name] = tuple(names)
    return MappedFields(visible["Opportunity"], visible["Account"], visible["Contact"]), notes, found


class MatchOpportunity:
    """The MatchOpportunity step (see module doc)."""

    def __init__(
        self,
        reader: MatchReader,
        ledger: Ledger,
        *,
        describes: DescribeSource | None = None,
        instance_url: str | Callable[[], str] = "",
        api_requests: Callable[[], int] = lambda: 0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._reader = reader
        self._clock = clock
        self._ledger = ledger
        self._describes = describes
        self._instance_url = instance_url
        self._api_requests = api_requests

    def run(self, state: SyncState) -> MatchResult:
        call, settings = state.call, state.settings
        roster = build_roster(call)
        domains = settings.internal_domain_set
        # Cold describes of this step and the later ones in one request (DescribeSource caches them).
        fields, _hidden, described = visible_mapped_fields(state, self._describes, later_step_objects(state))
        kind = activity_kind(settings, call)
        assignees = assignee_emails(call) if settings.task_sync.enabled else []
        read_at = self._clock()  # before the request: anything written before this is in the read
        # crm_overrides or a stored `callsync reassociate` choice: the latest wins (one ledger query)
        history, now = self._ledger.history(call.org_id, call.call_id), _iso(read_at)
        association = explicit_association(history, call, now)
        query = MatchQuery(
            association=association.target if association else None,
            emails=tuple(dict.fromkeys([*roster.emails, *assignees])),
            external_emails=tuple(a.email for a in roster.attendees if not looks_internal(a, domains)),
            started_at=call.started_at_utc,
            fields=fields,
            activity_object=kind,
            activity_subjects=tuple(candidate_subjects(settings, call)) if kind else (),
            activity_relations=bool(kind) and self._shared_activities(),
            activity_describe=described.get(kind) if kind else None,
        )
        read = self._reader.read(query)
        result = match_call(roster, domains, read.data, assignees)
        warnings = list(roster.warnings)
        chosen_missing = None
        if association is not None:
            chosen_missing = apply_association(
                result, association.target, association.source, read.chosen_opportunity, read.chosen_account
            )
            warnings += [chosen_missing] if chosen_missing else []
        if settings.contact_creation.enabled:
            result.unknown, skipped = creatable(result.unknown, call.company, settings.personal_domains)
            result.not_created = [s.person for s in skipped]
            warnings += [s.reason for s in skipped]
        if settings.task_sync.enabled:
            warnings += owner_fallbacks(call, result)
        result.read_at = read_at
        values, left_out = bounded_values(_current_values(result, read.values))
        modifiers = {i: m.model_dump(mode="json") for i, m in read.modified.items()}
        result.current_values, kept, unmodified = bounded_modifiers(values, modifiers)
        result.last_modified = {i: read.modified[i] for i in kept}
        result.activity_candidates = bounded_candidates(read.activities)
        if left_out:
            result.report.warnings.append(
                f"{left_out} long field value(s) not carried to SyncFields (the execution state stays small): "
                "SyncFields reads them itself"
            )
        if unmodified:
            result.report.warnings.append(
                f"{unmodified} record(s) not read ahead for SyncFields (who last modified each does not fit the "
                "execution state): SyncFields reads them itself"
            )
        result.report = self._report(result, warnings)
        override = override_choice(history, call, now)
        if override is not None:  # recorded whichever choice wins: a repeated override is then no new choice
            winning = association is not None and association.source == "crm_overrides"
            change = self._override_change(override, found=not winning or chosen_missing is None)
            if not winning:
                change.note = "chosen by hand (crm_overrides); a later choice wins (callsync reassociate)"
            result.report.changes.append(change)
        self._ledger.record_step(call.call_key, result.report)
        return result

    def _shared_activities(self) -> bool:
        """From the cached global describe (it rode along with the describes above: no extra request)."""
        return self._describes is not None and self._describes.org_metadata().shared_activities

    def _report(self, result: MatchResult, warnings: Iterable[str]) -> StepReport:
        report = StepReport(step="MatchOpportunity", warnings=list(warnings))
        target = result.opportunity or result.account
        if target is not None:
            obj = "Opportunity" if result.opportunity is not None else "Account"
            url = self._url(obj, target.id)
            report.changes.append(
                RecordChange(
                    action="unchanged",
                    object=obj,
                    id=target.id,
                    url=url,
                    label=target.name,
                    note=f"matched: {result.reason}",
                )
            )
        else:
            report.changes.append(RecordChange(action="skipped", object="Opportunity", note=result.reason))
        report.api_requests = self._api_requests()
        return report

    def _override_change(self, association: Association, *, found: bool) -> RecordChange:
        """The event's crm_overrides as this revision saw it: later revisions keep the choice from it."""
        change = association_change(association, OVERRIDE_KEY)
        change.url = self._url(association.object, association.id)
        if not found:
            change.action, change.note = "skipped", "chosen by hand (crm_overrides): not found"
        return change

    def _url(self, obj: str, record_id: str) -> str | None:
        return record_url_or_none(self._instance_url, obj, record_id)


def _iso(moment: datetime) -> str:
    """A time as the ledger stamps its entries (``recorded_at``), so the two compare."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _current_values(result: MatchResult, values: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Values of the matched Opportunity, its Account and the call's Contacts (what SyncFields targets)."""
    ids = [
        result.opportunity.id if result.opportunity else None,
        result.account.id if result.account else None,
        *(p.id for p in ([result.primary_contact] if result.primary_contact else []) + result.contacts),
    ]
    return {i: dict(values[i]) for i in ids if i and i in values}
