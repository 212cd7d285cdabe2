"""The read side's Salesforce readers over ``ports.SalesforceApi``.

``SalesforceContextReader`` (deal context) extends the MatchOpportunity reader
(``adapters.salesforce_match``): the same Users / Contacts (with their contact roles) /
Leads / Account-Opportunities queries, so the same matching rules get the same input,
plus:

- ``(SELECT ... FROM Emails ...)`` child subqueries on the Opportunities
  (EmailMessage.RelatedToId: Accounts, Opportunities, never people), newest first,
  ``MessageDate >= since``, ``LIMIT max``;
- one Account query (``accounts``): the participants' Accounts (or the given one) with
  their prep fields and their Emails;
- one EmailMessage query (``contact_emails``): the emails whose EmailMessageRelation
  names a participant's address as a Contact (``Id IN (SELECT EmailMessageId FROM
  EmailMessageRelation WHERE RelationAddress IN ... AND RelationObjectType = 'Contact')``;
  the Contact ids are not known before the Contact query answers, and semi-joins do not
  nest), each with its relations so the emails land on the right Contact.

The queries go in composites of ≤5 (Salesforce's limit on query subrequests): with
users, contacts, leads, opportunities, accounts and contact emails all wanted, that is
two requests per 20 participants.

With ``opportunity_id`` given, the Opportunity query selects that record instead of the
Account pool. The prep fields ride along as "mapped fields" (``MappedFields``).

``SalesforceClosedDealReader`` (closed deals): one query over the window (every page),
and one composite for the calls callsync logged (Task/Event by WhatId and Subject prefix).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from simple_salesforce.format import format_soql

from callsync.adapters.salesforce_answers import reads_answers
from callsync.adapters.salesforce_api import all_records, query_subrequest
from callsync.adapters.salesforce_errors import raise_for_subresponses
from callsync.adapters.salesforce_match import (
    ACCOUNT_OPPORTUNITY_LIMIT,
    SalesforceMatchReader,
    _extra,
    chunks,
    soql_datetime,
)
from callsync.domain.closed_deals import OpportunityChange, call_ids_in
from callsync.domain.matching import NEW_DEAL_WINDOW, MatchInput
from callsync.models.read_side import LoggedCall
from callsync.ports import SalesforceApi
from callsync.ports.closed_deals import ChangeQuery
from callsync.ports.deal_context import ContextRead, ContextReadPlan
from callsync.ports.match import MatchQuery, MatchRead

EMAIL_FIELDS = ("Id", "Subject", "FromAddress", "FromName", "ToAddress", "CcAddress", "MessageDate", "Incoming",
                "TextBody", "RelatedToId")  # fmt: skip
ACCOUNT_FIELDS = ("Id", "Name", "Website", "OwnerId")
IDS_PER_QUERY = 100  # 18-char ids: ~2.5 KB of URI per 100, far below 16 KB
QUERIES_PER_COMPOSITE = 5


class SalesforceContextReader(SalesforceMatchReader):
    """``services.deal_context.ContextReader`` (see module doc)."""

    def __init__(self, api: SalesforceApi) -> None:
        super().__init__(api)
        self._plan: ContextReadPlan | None = None
        self._read: ContextRead | None = None

    # ---- SOQL ---------------------------------------------------------------------------------

    def emails_subquery(self) -> str:
        """``(SELECT <visible email fields> FROM Emails ...)`` or "" when email context is off."""
        plan = self._plan
        if plan is None or plan.emails is None:
            return ""
        select = ", ".join(_extra((), plan.emails.fields))
        return (
            f", (SELECT {select} FROM Emails WHERE MessageDate >= {soql_datetime(plan.emails.since)}"  # noqa: S608
            f" ORDER BY MessageDate DESC LIMIT {int(plan.emails.max)})"
        )

    def contact_emails_soql(self, emails: Sequence[str]) -> str:
        """The participants' emails as Contacts (EmailMessageRelation), each with its matching relations."""
        plan = self._plan
        assert plan is not None and plan.emails is not None
        select = ", ".join(_extra((), plan.emails.fields))
        return format_soql(
            f"SELECT {select}, (SELECT RelationId FROM EmailMessageRelations"  # noqa: S608 (API names only)
            " WHERE RelationAddress IN {emails} AND RelationObjectType = 'Contact')"
            " FROM EmailMessage WHERE Id IN (SELECT EmailMessageId FROM EmailMessageRelation"
            " WHERE RelationAddress IN {emails} AND RelationObjectType = 'Contact')"
            f" AND MessageDate >= {soql_datetime(plan.emails.since)}"
            f" ORDER BY MessageDate DESC LIMIT {int(plan.emails.max)}",
            emails=list(emails),
        )

    def account_opportunities_soql(self, query: MatchQuery, emails: Sequence[str]) -> str:
        plan = self._plan
        if plan is not None and plan.account_id and not plan.opportunity_id:
            return self.given_account_opportunities_soql(query, plan.account_id)
        base = super().account_opportunities_soql(query, emails)
        return _insert_before_from(base, "Opportunity", self.emails_subquery())

    def given_account_opportunities_soql(self, query: MatchQuery, account_id: str) -> str:
        """The given Account's Opportunities that can be eligible by timing (the rules re-check)."""
        start = query.started_at
        select = ", ".join(self.opportunity_fields(query))
        return format_soql(
            f"SELECT {select}{self.emails_subquery()} FROM Opportunity WHERE AccountId = {{account}}"  # noqa: S608
            f" AND CreatedDate <= {soql_datetime(start + NEW_DEAL_WINDOW)}"
            f" AND (IsClosed = false OR CloseDate = {{day}} OR CreatedDate > {soql_datetime(start)})"
            f" ORDER BY LastActivityDate DESC NULLS LAST, LastModifiedDate DESC LIMIT {ACCOUNT_OPPORTUNITY_LIMIT}",
            account=account_id,
            day=start.astimezone(UTC).date(),
        )

    def given_opportunity_soql(self, query: MatchQuery, opportunity_id: str) -> str:
        select = ", ".join(self.opportunity_fields(query))
        return format_soql(
            f"SELECT {select}{self.emails_subquery()} FROM Opportunity WHERE Id = {{}}",  # noqa: S608
            opportunity_id,
        )

    def accounts_soql(self, query: MatchQuery, emails: Sequence[str]) -> str | None:
        plan = self._plan
        assert plan is not None
        select = ", ".join([*ACCOUNT_FIELDS, *_extra(ACCOUNT_FIELDS, query.fields.account)])
        select += self.emails_subquery()
        if plan.account_id:
            where = format_soql("Id = {}", plan.account_id)
        elif plan.opportunity_id:
            where = format_soql("Id IN (SELECT AccountId FROM Opportunity WHERE Id = {})", plan.opportunity_id)
        elif emails and plan.emails is not None:
            where = format_soql("Id IN (SELECT AccountId FROM Contact WHERE Email IN {})", list(emails))
        else:
            return None  # nothing the Contacts query does not already bring
        return f"SELECT {select} FROM Account WHERE {where}"  # noqa: S608 (API names only)

    def opportunity_emails_soql(self, opportunity_id: str) -> str:
        plan = self._plan
        assert plan is not None and plan.emails is not None
        select = ", ".join(_extra((), plan.emails.fields))
        return format_soql(
            f"SELECT {select} FROM EmailMessage WHERE RelatedToId = {{}}"  # noqa: S608
            f" AND MessageDate >= {soql_datetime(plan.emails.since)}"
            f" ORDER BY MessageDate DESC LIMIT {int(plan.emails.max)}",
            opportunity_id,
        )

    def plan(self, query: MatchQuery) -> list[list[tuple[str, str]]]:
        """Per chunk of ≤20 emails: users, contacts, leads, opportunities, accounts, contact emails.

        A chunk's queries go in composites of ≤5 (the sixth, the contact emails, in a second one).
        """
        plan = self._plan
        assert plan is not None
        external = set(query.external_emails)
        composites: list[list[tuple[str, str]]] = []
        for n, chunk in enumerate(chunks(list(query.emails)) or [[]]):
            subs: list[tuple[str, str]] = []
            ext = [e for e in chunk if e in external]
            if chunk and plan.users:
                subs.append((f"users{n}", self.users_soql(chunk)))
            if ext:
                subs.append((f"contacts{n}", self.contacts_soql(query, ext)))
                if plan.leads:
                    subs.append((f"leads{n}", self.leads_soql(ext)))
            if plan.opportunity_id:
                if n == 0:
                    subs.append(("opportunities_given", self.given_opportunity_soql(query, plan.opportunity_id)))
            elif ext or (plan.account_id and n == 0):
                subs.append((f"opportunities{n}", self.account_opportunities_soql(query, ext)))
            if plan.accounts and (n == 0 or not (plan.account_id or plan.opportunity_id)):
                accounts = self.accounts_soql(query, ext)
                if accounts:
                    subs.append((f"accounts{n}", accounts))
            if ext and plan.emails is not None and plan.contact_emails:
                subs.append((f"contact_emails{n}", self.contact_emails_soql(ext)))
            for start in range(0, len(subs), QUERIES_PER_COMPOSITE):
                composites.append(subs[start : start + QUERIES_PER_COMPOSITE])
        return composites

    # ---- run ----------------------------------------------------------------------------------

    @reads_answers("the deal context queries")
    def read_context(self, plan: ContextReadPlan) -> ContextRead:
        """One composite per 20 participants (two when the contact emails make a sixth query)."""
        self._plan = plan
        self._read = ContextRead(match=MatchRead(data=MatchInput(started_at=plan.query.started_at)))
        self._read.match = self.read(plan.query)
        return self._read

    @reads_answers("the Opportunity's emails")
    def opportunity_emails(self, plan: ContextReadPlan, opportunity_id: str) -> list[dict[str, Any]]:
        """The Opportunity's emails when the composite did not bring them (one more request)."""
        self._plan = plan
        return [_plain(r) for r in self._api.query(self.opportunity_emails_soql(opportunity_id))]

    def _parse(self, ref: str, records: list[dict[str, Any]], query: MatchQuery, read: MatchRead) -> None:
        context = self._read
        assert context is not None
        with_emails = self._plan is not None and self._plan.emails is not None
        if ref.startswith("contact_emails"):
            for record in records:
                email = {k: v for k, v in _plain(record).items() if k != "EmailMessageRelations"}
                people = dict.fromkeys(r.get("RelationId") for r in _children(record.get("EmailMessageRelations")))
                for person in people:
                    if person:
                        context.emails_by_parent.setdefault(person, []).append(email)
            return
        if with_emails and ref.startswith("opportunities"):
            for record in records:
                context.email_parents.add(record["Id"])
                context.emails_by_parent.setdefault(record["Id"], []).extend(
                    _plain(e) for e in _children(record.get("Emails"))
                )
        if ref.startswith("accounts"):
            for record in records:
                if with_emails:
                    context.email_parents.add(record["Id"])
                context.accounts.append({k: v for k, v in record.items() if k not in ("attributes", "Emails")})
                if query.fields.account:
                    read.values[record["Id"]] = {f: record.get(f) for f in query.fields.account}
                context.emails_by_parent.setdefault(record["Id"], []).extend(
                    _plain(e) for e in _children(record.get("Emails"))
                )
            return
        super()._parse(ref, records, query, read)


def _insert_before_from(soql: str, object_name: str, addition: str) -> str:
    """Add a child subquery to the outer SELECT list of a statement built by the match reader."""
    if not addition:
        return soql
    marker = f" FROM {object_name} WHERE "
    at = soql.rfind(marker)
    if at < 0:
        raise ValueError(f"unexpected statement shape for {object_name}")
    return soql[:at] + addition + soql[at:]


def _children(value: Any) -> list[dict[str, Any]]:
    return list(value.get("records") or []) if isinstance(value, dict) else []


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "attributes"}


# ---- closed deals --------------------------------------------------------------------------------

CHANGE_BASE = ("Id", "Name", "AccountId", "IsClosed", "IsWon", "StageName", "CloseDate", "SystemModstamp")


class SalesforceClosedDealReader:
    """``services.watch_closed_deals.ClosedDealReader`` (see module doc)."""

    def __init__(self, api: SalesforceApi) -> None:
        self._api = api

    def changes_soql(self, query: ChangeQuery) -> str:
        fields = list(CHANGE_BASE)
        if query.with_amount:
            fields.append("Amount")
        if query.with_account_name:
            fields.append("Account.Name")
        if query.loss_reason_field:
            fields += _extra(fields, [query.loss_reason_field])
        closed = " AND IsClosed = true" if query.only_closed else ""
        return (
            f"SELECT {', '.join(fields)} FROM Opportunity"  # noqa: S608 (API names only; generated datetimes)
            f" WHERE SystemModstamp > {soql_datetime(query.window.start)}"
            f" AND SystemModstamp <= {soql_datetime(query.window.end)}{closed}"
            " ORDER BY SystemModstamp ASC, Id ASC"
        )

    @reads_answers("the Opportunity changes")
    def changes(self, query: ChangeQuery) -> list[OpportunityChange]:
        rows = self._api.query(self.changes_soql(query))
        return [_change(r, query.loss_reason_field) for r in rows]

    def logged_calls_soql(self, object_name: str, ids: Sequence[str], prefix: str) -> str:
        return format_soql(
            f"SELECT Id, WhatId, Subject, Description FROM {object_name}"  # noqa: S608 (Task or Event)
            " WHERE WhatId IN {ids} AND Subject LIKE '{prefix:like}%'",
            ids=list(ids),
            prefix=prefix,
        )

    @reads_answers("the logged calls")
    def logged_calls(
        self, opportunity_ids: Sequence[str], subject_prefix: str, objects: Sequence[str]
    ) -> dict[str, list[LoggedCall]]:
        queries: list[tuple[str, str, str]] = []  # (ref, object, soql)
        for n, ids in enumerate(chunks(list(opportunity_ids), IDS_PER_QUERY)):
            for name in objects:
                if name not in ("Task", "Event"):
                    raise ValueError(f"not an activity object: {name}")
                queries.append((f"{name.lower()}{n}", name, self.logged_calls_soql(name, ids, subject_prefix)))
        found: dict[str, list[LoggedCall]] = {}
        for start in range(0, len(queries), QUERIES_PER_COMPOSITE):
            batch = queries[start : start + QUERIES_PER_COMPOSITE]
            answers = self._api.composite(
                [query_subrequest(ref, soql) for ref, _, soql in batch]
            )  # fmt: skip
            raise_for_subresponses(answers)
            by_ref = {str(a.get("referenceId")): a for a in answers}
            for ref, name, _ in batch:
                for record in all_records(self._api, by_ref[ref].get("body") or {}):
                    refs = call_ids_in(record.get("Description"))
                    found.setdefault(str(record.get("WhatId")), []).append(
                        LoggedCall(
                            activity_id=record["Id"],
                            object=name,  # type: ignore[arg-type]  # Task|Event
                            call_id=refs[0] if refs else None,
                        )
                    )
        return found


def _change(raw: dict[str, Any], loss_reason_field: str | None) -> OpportunityChange:
    account = raw.get("Account") if isinstance(raw.get("Account"), dict) else None
    amount = raw.get("Amount")
    return OpportunityChange(
        id=raw["Id"],
        system_modstamp=datetime.fromisoformat(str(raw["SystemModstamp"]).replace("+0000", "+00:00")),
        is_closed=bool(raw.get("IsClosed")),
        is_won=bool(raw.get("IsWon")),
        name=raw.get("Name"),
        stage_name=raw.get("StageName"),
        close_date=raw.get("CloseDate"),
        amount=float(amount) if amount is not None else None,
        account_id=raw.get("AccountId"),
        account_name=account.get("Name") if account else None,
        loss_reason=raw.get(loss_reason_field) if loss_reason_field else None,
    )


__all__ = ["SalesforceClosedDealReader", "SalesforceContextReader", "soql_datetime"]
