"""``MatchReader`` over ``ports.SalesforceApi``: one composite of independent queries per 20 emails.

Real SOQL forbids a semi-join inside OR and nested semi-joins, and a composite takes
at most 5 queries. The plan per chunk of ≤20 participant emails (docs/matching.md):

1. ``User``: active Users with any of the emails (internal by User, and the Users behind
   internal participants).
2. ``Contact`` by the external-looking emails, with the Account's fields (Name, Website,
   OwnerId, mapped Account fields), the mapped Contact fields, and a child subquery of the
   Contact's OpportunityContactRoles carrying the Opportunity's fields (and its Account's).
   This finds the Opportunities tied through a contact role on *any* Account without a
   semi-join.
3. ``Lead`` by the external-looking emails, not converted.
4. ``Opportunity`` of those Contacts' Accounts (``AccountId IN (SELECT AccountId FROM Contact
   WHERE Email IN ...)``), pre-filtered to the ones that can be eligible by timing; the
   fallback pool when no tied Opportunity is eligible.
5. Candidate activities for LogActivity's dedupe (first chunk only; skipped when activity
   sync is off): ``Task``/``Event`` on the call's date with one of the candidate subjects.

An explicit association (``MatchQuery.association``) rides along in the first composite as one or two
record retrievals by id (``GET sobjects/Opportunity/{id}``, then its Account through ``@{chosenOpportunity
.AccountId}``): not queries, so the five-query limit still holds. A 404 (or a halted Account retrieval)
means the id does not exist or the integration user cannot see it.

Every value goes through ``format_soql``; field names come from describe (canonical names).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pydantic import TypeAdapter
from simple_salesforce.format import format_soql

from callsync.adapters.activity_soql import LAST_MODIFIED, LAST_MODIFIED_BY_NAME, subject_filter
from callsync.adapters.salesforce_answers import reads_answers
from callsync.adapters.salesforce_api import all_records, query_subrequest
from callsync.adapters.salesforce_errors import raise_for_subresponse, raise_for_subresponses
from callsync.domain.activity_plan import read_ahead_dates, visible_select
from callsync.domain.matching import NEW_DEAL_WINDOW, ContactRow, LeadRow, MatchInput, RoleRow, UserRow
from callsync.domain.person_edits import last_modified_of
from callsync.models.describe import is_api_name
from callsync.models.match import AccountInfo, OpportunityInfo
from callsync.ports import SalesforceApi
from callsync.ports.match import MatchQuery, MatchRead

CHOSEN_OPPORTUNITY = "chosenOpportunity"
CHOSEN_ACCOUNT = "chosenAccount"
CHUNK = 20  # participant emails per composite (keeps each query URI far below 16 KB)
ACCOUNT_OPPORTUNITY_LIMIT = 200
_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)

OPPORTUNITY_BASE = (
    "Id", "Name", "AccountId", "OwnerId", "StageName", "IsClosed", "IsWon",
    "CreatedDate", "CloseDate", "LastActivityDate", "LastModifiedDate",
)  # fmt: skip
ACCOUNT_BASE = ("Id", "Name", "Website", "OwnerId")
CONTACT_BASE = ("Id", "Name", "Email", "AccountId", "LastModifiedDate")
MODIFIER = ("LastModifiedById", "LastModifiedDate", "LastModifiedBy.Name")


def chunks(items: Sequence[str], size: int = CHUNK) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _extra(base: Iterable[str], wanted: Iterable[str]) -> list[str]:
    """Mapped fields not already selected (SOQL rejects a field selected twice).

    Only plain API names get into a SELECT (they come from describe); anything else is refused,
    so no settings value can change a statement's shape.
    """
    seen = {b.lower() for b in base}
    out: list[str] = []
    for name in wanted:
        if not is_api_name(name):
            raise ValueError(f"not a Salesforce field API name: {name!r}")
        if name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return out


def _with_modifier(fields: list[str], mapped: Sequence[str]) -> list[str]:
    """``fields`` plus who last modified the record, when it has mapped fields (SyncFields keeps a person's
    edit from an older call: ``domain.person_edits``); never a field twice."""
    if not mapped:
        return fields
    seen = {f.lower() for f in fields}
    return fields + [f for f in MODIFIER if f.lower() not in seen]


def soql_datetime(value: datetime) -> str:
    """A SOQL datetime literal (UTC, whole seconds); generated, never input."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SalesforceMatchReader:
    """Builds and runs the match composite(s); parses the answers into ``MatchRead``."""

    def __init__(self, api: SalesforceApi) -> None:
        self._api = api

    # ---- SOQL ---------------------------------------------------------------------------------

    def account_fields(self, query: MatchQuery, prefix: str) -> list[str]:
        own = _with_modifier([*ACCOUNT_BASE, *_extra(ACCOUNT_BASE, query.fields.account)], query.fields.account)
        return [f"{prefix}{f}" for f in own]

    def opportunity_fields(self, query: MatchQuery, prefix: str = "") -> list[str]:
        own = _with_modifier(
            [*OPPORTUNITY_BASE, *_extra(OPPORTUNITY_BASE, query.fields.opportunity)], query.fields.opportunity
        )
        return [f"{prefix}{f}" for f in own] + self.account_fields(query, f"{prefix}Account.")

    def users_soql(self, emails: Sequence[str]) -> str:
        return format_soql("SELECT Id, Name, Email FROM User WHERE IsActive = true AND Email IN {}", list(emails))

    def contacts_soql(self, query: MatchQuery, emails: Sequence[str]) -> str:
        roles = ", ".join(["Id", "OpportunityId", "ContactId", "IsPrimary", "Role",
                           *self.opportunity_fields(query, "Opportunity.")])  # fmt: skip
        own = _with_modifier([*CONTACT_BASE, *_extra(CONTACT_BASE, query.fields.contact)], query.fields.contact)
        select = ", ".join([
            *own, *self.account_fields(query, "Account."),
            f"(SELECT {roles} FROM OpportunityContactRoles)",  # noqa: S608 (API names only, see _extra)
        ])  # fmt: skip
        return format_soql(f"SELECT {select} FROM Contact WHERE Email IN {{}}", list(emails))  # noqa: S608

    def leads_soql(self, emails: Sequence[str]) -> str:
        return format_soql(
            "SELECT Id, Name, Email, Company, LastModifiedDate FROM Lead WHERE IsConverted = false AND Email IN {}",
            list(emails),
        )

    def account_opportunities_soql(self, query: MatchQuery, emails: Sequence[str]) -> str:
        """Opportunities of the Contacts' Accounts that can be eligible by timing (the rules re-check)."""
        start = query.started_at
        select = ", ".join(self.opportunity_fields(query))
        return format_soql(
            f"SELECT {select} FROM Opportunity"  # noqa: S608 (API names only, values via format_soql)
            " WHERE AccountId IN (SELECT AccountId FROM Contact WHERE Email IN {emails})"
            " AND CreatedDate <= {upper:literal}"
            " AND (IsClosed = false OR CloseDate = {day} OR CreatedDate > {start:literal})"
            " ORDER BY LastActivityDate DESC NULLS LAST, LastModifiedDate DESC"
            f" LIMIT {ACCOUNT_OPPORTUNITY_LIMIT}",
            emails=list(emails),
            upper=soql_datetime(start + NEW_DEAL_WINDOW),  # generated, not input
            day=start.astimezone(UTC).date(),
            start=soql_datetime(start),
        )

    def activities_soql(self, query: MatchQuery) -> str | None:
        if query.activity_object not in ("Task", "Event") or not query.activity_subjects:
            return None
        # Description: the invite's text is LogActivity's "before", and our marker; Status / DurationInMinutes:
        # the other values LogActivity writes (CallDurationInSeconds may be hidden: not selected)
        wanted = ["Id", "Subject", "ActivityDate", "WhoId", "WhatId", "OwnerId", "Type", "Description"]
        event = query.activity_object == "Event"
        wanted += ["StartDateTime", "EndDateTime", "DurationInMinutes"] if event else ["Status"]
        wanted += LAST_MODIFIED  # a person's edit since callsync wrote it (adapters.activity_soql)
        # Only fields the integration user can see: a hidden one (e.g. Type) fails the whole query
        visible = visible_select(wanted, query.activity_describe)
        select = ", ".join(visible + ([LAST_MODIFIED_BY_NAME] if "LastModifiedById" in visible else []))
        if query.activity_relations:  # the contacts the activity already has (object name checked above)
            select += f", (SELECT RelationId FROM {query.activity_object}Relations)"  # noqa: S608
        # the words of the title: a calendar's dash, quotes or case still match; LogActivity's rules decide
        subject = subject_filter(query.activity_subjects)
        when = format_soql("ActivityDate IN {}", read_ahead_dates(query.started_at))
        return f"SELECT {select} FROM {query.activity_object} WHERE {when} AND {subject}"  # noqa: S608

    def plan(self, query: MatchQuery) -> list[list[tuple[str, str]]]:
        """Composites to send: per chunk of emails, (referenceId, soql) pairs; ≤5 queries each."""
        external = set(query.external_emails)
        composites: list[list[tuple[str, str]]] = []
        activities = self.activities_soql(query)
        for n, chunk in enumerate(chunks(list(query.emails)) or [[]]):
            subs: list[tuple[str, str]] = []
            if chunk:
                subs.append((f"users{n}", self.users_soql(chunk)))
            ext = [e for e in chunk if e in external]
            if ext:
                subs.append((f"contacts{n}", self.contacts_soql(query, ext)))
                subs.append((f"leads{n}", self.leads_soql(ext)))
                subs.append((f"opportunities{n}", self.account_opportunities_soql(query, ext)))
            if n == 0 and activities:
                subs.append(("activities", activities))
            if subs:
                composites.append(subs)
        return composites

    def association_subrequests(self, query: MatchQuery) -> list[dict[str, Any]]:
        """Retrievals of the explicitly associated Opportunity (and its Account) or Account, by id."""
        if query.association is None:
            return []
        obj, record_id = query.association
        account_fields = ",".join([*ACCOUNT_BASE, *_extra(ACCOUNT_BASE, query.fields.account)])
        subs: list[dict[str, Any]] = []
        account_id = quote(record_id, safe="")
        if obj == "Opportunity":
            fields = ",".join([*OPPORTUNITY_BASE, *_extra(OPPORTUNITY_BASE, query.fields.opportunity)])
            url = f"sobjects/Opportunity/{quote(record_id, safe='')}?fields={fields}"
            subs.append({"method": "GET", "url": url, "referenceId": CHOSEN_OPPORTUNITY})
            account_id = f"@{{{CHOSEN_OPPORTUNITY}.AccountId}}"
        url = f"sobjects/Account/{account_id}?fields={account_fields}"
        subs.append({"method": "GET", "url": url, "referenceId": CHOSEN_ACCOUNT})
        return subs

    # ---- run ----------------------------------------------------------------------------------

    @reads_answers("the match step's queries")
    def read(self, query: MatchQuery) -> MatchRead:
        data = MatchInput(started_at=query.started_at)
        read = MatchRead(data=data, activities=[] if self.activities_soql(query) else None)
        chosen = self.association_subrequests(query)
        for composite in self.plan(query) or [[]]:
            subrequests = [query_subrequest(ref, soql) for ref, soql in composite] + chosen
            chosen = []  # the first composite only
            if not subrequests:
                continue
            answers = self._api.composite(subrequests)
            own = [a for a in answers if str(a.get("referenceId")) in (CHOSEN_OPPORTUNITY, CHOSEN_ACCOUNT)]
            answers = [a for a in answers if a not in own]
            raise_for_subresponses(answers)
            self._parse_chosen(own, query, read)
            for answer in answers:
                ref = str(answer.get("referenceId"))
                records = all_records(self._api, answer.get("body") or {})  # every page, children complete
                self._parse(ref, records, query, read)
        return read

    def _parse_chosen(self, answers: list[dict[str, Any]], query: MatchQuery, read: MatchRead) -> None:
        """The explicitly associated records; a missing or invisible one stays None (the rules warn)."""
        for answer in answers:
            status = int(answer.get("httpStatusCode") or 0)
            if status == 404 or (status == 400 and answer.get("referenceId") == CHOSEN_ACCOUNT):
                continue  # not found / not visible, or the Opportunity's Account could not be read
            raise_for_subresponse(answer, method="GET")
            body = {k: v for k, v in (answer.get("body") or {}).items() if k != "attributes"}
            if answer.get("referenceId") == CHOSEN_OPPORTUNITY:
                read.chosen_opportunity = _opportunity(body, query, read)
            else:
                read.chosen_account = _account(body, query, read)
        if read.chosen_opportunity is not None and read.chosen_account is not None:
            read.chosen_opportunity.account = read.chosen_account

    def _parse(self, ref: str, records: list[dict[str, Any]], query: MatchQuery, read: MatchRead) -> None:
        data = read.data
        if ref.startswith("users"):
            data.users += [UserRow(id=r["Id"], email=str(r.get("Email") or ""), name=r.get("Name")) for r in records]
        elif ref.startswith("contacts"):
            for r in records:
                account = _account(r.get("Account"), query, read)
                data.contacts.append(
                    ContactRow(id=r["Id"], email=str(r.get("Email") or ""), name=r.get("Name"), account=account,
                               last_modified_date=_dt(r.get("LastModifiedDate")))
                )  # fmt: skip
                if query.fields.contact:
                    _read_ahead(read, r, query.fields.contact)
                for role in _children(r.get("OpportunityContactRoles")):
                    data.roles.append(
                        RoleRow(opportunity_id=role["OpportunityId"], contact_id=role.get("ContactId") or r["Id"],
                                is_primary=bool(role.get("IsPrimary")), role=role.get("Role"))
                    )  # fmt: skip
                    if role.get("Opportunity"):
                        data.opportunities.append(_opportunity(role["Opportunity"], query, read))
        elif ref.startswith("leads"):
            data.leads += [
                LeadRow(id=r["Id"], email=str(r.get("Email") or ""), name=r.get("Name"), company=r.get("Company"),
                        last_modified_date=_dt(r.get("LastModifiedDate")))
                for r in records
            ]  # fmt: skip
        elif ref.startswith("opportunities"):
            data.opportunities += [_opportunity(r, query, read) for r in records]
        elif ref == "activities" and read.activities is not None:
            read.activities += [{k: v for k, v in r.items() if k != "attributes"} for r in records]


def _read_ahead(read: MatchRead, raw: dict[str, Any], fields: Sequence[str]) -> None:
    """The mapped fields' values of a record, and who last modified it (when the row carries it)."""
    read.values[raw["Id"]] = {f: raw.get(f) for f in fields}
    modified = last_modified_of(raw)
    if modified is not None:
        read.modified[raw["Id"]] = modified


def _children(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        return []
    return list(value.get("records") or [])


def _dt(value: Any) -> datetime | None:
    if not value:
        return None
    return _DATETIME.validate_python(value)


def _account(raw: Any, query: MatchQuery, read: MatchRead) -> AccountInfo | None:
    if not isinstance(raw, dict) or not raw.get("Id"):
        return None
    if query.fields.account:
        _read_ahead(read, raw, query.fields.account)
    return AccountInfo(id=raw["Id"], name=raw.get("Name"), website=raw.get("Website"), owner_id=raw.get("OwnerId"))


def _opportunity(raw: dict[str, Any], query: MatchQuery, read: MatchRead) -> OpportunityInfo:
    if query.fields.opportunity:
        _read_ahead(read, raw, query.fields.opportunity)
    return OpportunityInfo(
        id=raw["Id"],
        name=raw.get("Name"),
        account_id=raw.get("AccountId"),
        owner_id=raw.get("OwnerId"),
        stage_name=raw.get("StageName"),
        is_closed=bool(raw.get("IsClosed")),
        is_won=bool(raw.get("IsWon")),
        created_date=_dt(raw.get("CreatedDate")),
        close_date=raw.get("CloseDate"),
        last_activity_date=raw.get("LastActivityDate"),
        last_modified_date=_dt(raw.get("LastModifiedDate")),
        account=_account(raw.get("Account"), query, read),
    )
