"""The read-side Salesforce adapters without a network: statements, plans, chunking, parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from callsync.adapters.salesforce_context import SalesforceClosedDealReader, SalesforceContextReader
from callsync.domain.closed_deals import Window
from callsync.ports.closed_deals import ChangeQuery
from callsync.ports.deal_context import ContextReadPlan, EmailPlan
from callsync.ports.match import MappedFields, MatchQuery

AT = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


class RecordingApi:
    """A ``ports.SalesforceApi`` that answers every query subrequest with ``answers[ref]`` (or nothing)."""

    instance_url = "https://acme.my.salesforce.com"

    def __init__(self, answers: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.api_requests = 0
        self.composites: list[list[dict[str, Any]]] = []
        self.queries: list[str] = []
        self.answers = answers or {}

    def composite(self, subrequests: list[dict[str, Any]], *, all_or_none: bool = False) -> list[dict[str, Any]]:
        self.api_requests += 1
        self.composites.append(subrequests)
        return [
            {
                "referenceId": s["referenceId"],
                "httpStatusCode": 200,
                "body": {"done": True, "records": self.answers.get(s["referenceId"], [])},
            }
            for s in subrequests
        ]

    def query(self, soql: str) -> list[dict[str, Any]]:
        self.api_requests += 1
        self.queries.append(soql)
        return self.answers.get("query", [])


def soqls(api: RecordingApi, n: int = 0) -> dict[str, str]:
    return {s["referenceId"]: unquote(s["url"].split("q=", 1)[1]) for s in api.composites[n]}


def plan(emails: tuple[str, ...], **kwargs: Any) -> ContextReadPlan:
    query = MatchQuery(emails=emails, external_emails=tuple(e for e in emails if "ourco" not in e), started_at=AT,
                       fields=MappedFields(("NextStep",), ("Industry",), ("Title",)))  # fmt: skip
    email_plan = EmailPlan(since=AT - timedelta(days=90), max=20, fields=("Id", "Subject", "MessageDate"))
    return ContextReadPlan(query=query, emails=email_plan, **kwargs)


def test_six_queries_take_two_composites_and_contact_emails_come_through_email_message_relation():
    # Given two participants and email context on
    api = RecordingApi()
    # When the context is read
    SalesforceContextReader(api).read_context(plan(("al@ourco.com", "o'brien@globex.com")))
    # Then users, contacts, leads, opportunities and accounts in one composite, the contact emails in a second
    assert api.api_requests == 2
    q, rest = soqls(api), soqls(api, 1)
    assert list(q) == ["users0", "contacts0", "leads0", "opportunities0", "accounts0"]
    assert list(rest) == ["contact_emails0"]
    emails_sub = ("(SELECT Id, Subject, MessageDate FROM Emails WHERE MessageDate >= 2026-08-27T15:00:00Z "
                  "ORDER BY MessageDate DESC LIMIT 20)")  # fmt: skip
    for ref in ("opportunities0", "accounts0"):
        assert emails_sub in q[ref], ref
    # And the Contact query has no Emails subquery (EmailMessage.RelatedToId never points at people)
    assert "FROM Emails" not in q["contacts0"]
    assert "'o\\'brien@globex.com'" in q["contacts0"] and "al@ourco.com" not in q["contacts0"]
    assert "Title" in q["contacts0"] and "Account.Industry" in q["contacts0"] and "NextStep" in q["opportunities0"]
    assert q["accounts0"].startswith("SELECT Id, Name, Website, OwnerId, Industry, (SELECT")
    assert "WHERE Id IN (SELECT AccountId FROM Contact WHERE Email IN ('o\\'brien@globex.com'))" in q["accounts0"]
    assert rest["contact_emails0"] == (
        "SELECT Id, Subject, MessageDate, (SELECT RelationId FROM EmailMessageRelations"
        " WHERE RelationAddress IN ('o\\'brien@globex.com') AND RelationObjectType = 'Contact')"
        " FROM EmailMessage WHERE Id IN (SELECT EmailMessageId FROM EmailMessageRelation"
        " WHERE RelationAddress IN ('o\\'brien@globex.com') AND RelationObjectType = 'Contact')"
        " AND MessageDate >= 2026-08-27T15:00:00Z ORDER BY MessageDate DESC LIMIT 20"
    )


def test_without_email_message_relation_the_context_is_one_composite_of_five_queries():
    api = RecordingApi()
    SalesforceContextReader(api).read_context(plan(("al@ourco.com", "jane@globex.com"), contact_emails=False))
    assert api.api_requests == 1 and list(soqls(api)) == ["users0", "contacts0", "leads0", "opportunities0",
                                                          "accounts0"]  # fmt: skip


def test_more_than_twenty_participants_take_two_composites_per_twenty():
    api = RecordingApi()
    emails = tuple(f"p{i}@globex.com" for i in range(45))
    SalesforceContextReader(api).read_context(plan(emails))
    assert api.api_requests == 6 and all(len(c) <= 5 for c in api.composites)


def test_a_given_opportunity_is_read_by_id_and_its_account_through_it():
    api = RecordingApi()
    SalesforceContextReader(api).read_context(plan(("jane@globex.com",), opportunity_id="006A"))
    q = soqls(api)
    assert "FROM Opportunity WHERE Id = '006A'" in q["opportunities_given"]
    assert "WHERE Id IN (SELECT AccountId FROM Opportunity WHERE Id = '006A')" in q["accounts0"]


def test_a_given_account_pools_its_opportunities():
    api = RecordingApi()
    SalesforceContextReader(api).read_context(plan((), account_id="001A"))
    q = soqls(api)
    assert list(q) == ["opportunities0", "accounts0"]
    assert "FROM Opportunity WHERE AccountId = '001A' AND CreatedDate <= 2026-12-09T15:00:00Z" in q["opportunities0"]


def test_email_children_and_account_rows_are_parsed_by_parent():
    answers = {
        "contacts0": [{"Id": "003J", "Email": "jane@globex.com", "Name": "Jane", "Title": "VP",
                       "Account": {"Id": "001G", "Name": "Globex", "Industry": "Energy"},
                       "OpportunityContactRoles": None}],
        "contact_emails0": [{"attributes": {}, "Id": "02sC", "Subject": "c", "EmailMessageRelations": {
            "done": True, "records": [{"attributes": {}, "RelationId": "003J"}, {"RelationId": "003J"},
                                      {"RelationId": None}]}}],
        "opportunities0": [{"Id": "006O", "Name": "Deal", "AccountId": "001G", "NextStep": "Demo", "Emails": None}],
        "accounts0": [{"Id": "001G", "Name": "Globex", "Industry": "Energy",
                       "Emails": {"done": True, "records": [{"Id": "02sA", "Subject": "a"}]}}],
    }  # fmt: skip
    read = SalesforceContextReader(RecordingApi(answers)).read_context(plan(("jane@globex.com",)))
    assert read.emails_by_parent == {"003J": [{"Id": "02sC", "Subject": "c"}], "006O": [],
                                     "001G": [{"Id": "02sA", "Subject": "a"}]}  # fmt: skip
    assert read.email_parents == {"006O", "001G"}
    assert read.match.values["003J"] == {"Title": "VP"} and read.match.values["006O"] == {"NextStep": "Demo"}
    assert read.match.values["001G"] == {"Industry": "Energy"}
    assert [c.id for c in read.match.data.contacts] == ["003J"] and read.accounts[0]["Name"] == "Globex"


def test_the_window_query_is_ordered_and_bounded():
    window = Window(start=datetime(2026, 11, 25, 11, 55, tzinfo=UTC), end=AT, first_run=False)
    soql = SalesforceClosedDealReader(RecordingApi()).changes_soql(
        ChangeQuery(window=window, only_closed=False, loss_reason_field="Loss_Reason__c")
    )
    assert soql == (
        "SELECT Id, Name, AccountId, IsClosed, IsWon, StageName, CloseDate, SystemModstamp, Amount, Account.Name, "
        "Loss_Reason__c FROM Opportunity WHERE SystemModstamp > 2026-11-25T11:55:00Z "
        "AND SystemModstamp <= 2026-11-25T15:00:00Z ORDER BY SystemModstamp ASC, Id ASC"
    )
    first = ChangeQuery(window=window, only_closed=True, with_amount=False, with_account_name=False)
    assert (
        SalesforceClosedDealReader(RecordingApi())
        .changes_soql(first)
        .endswith("AND IsClosed = true ORDER BY SystemModstamp ASC, Id ASC")
    )


def test_window_rows_are_parsed_with_loss_reason_and_amount():
    api = RecordingApi(
        {
            "query": [
                {
                    "Id": "006A",
                    "SystemModstamp": "2026-11-25T14:00:00.000+0000",
                    "IsClosed": True,
                    "IsWon": False,
                    "StageName": "Closed Lost",
                    "Amount": 12000,
                    "Account": {"Name": "Globex"},
                    "AccountId": "001G",
                    "Loss_Reason__c": "Price",
                }
            ]
        }
    )
    window = Window(start=AT - timedelta(hours=1), end=AT, first_run=False)
    [row] = SalesforceClosedDealReader(api).changes(
        ChangeQuery(window=window, only_closed=False, loss_reason_field="Loss_Reason__c")
    )
    assert row.system_modstamp == datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    assert (row.amount, row.account_name, row.loss_reason) == (12000.0, "Globex", "Price")


def test_logged_calls_are_read_in_one_composite_per_five_queries_with_an_escaped_prefix():
    # Given 250 closes (3 chunks of ≤100 ids) and both activity objects
    api = RecordingApi({"task0": [{"Id": "00T1", "WhatId": "006-0", "Description": "x\ncallsync-ref: c-9"}]})
    ids = [f"006-{i}" for i in range(250)]
    found = SalesforceClosedDealReader(api).logged_calls(ids, "[call_sync] 50%", ["Task", "Event"])
    # Then 6 queries in 2 composites, the prefix escaped for LIKE, and call ids from the marker
    assert [len(c) for c in api.composites] == [5, 1]
    task0 = soqls(api)["task0"]
    assert "Subject LIKE '[call\\_sync] 50\\%%'" in task0 and "WhatId IN ('006-0'," in task0
    assert found == {"006-0": [found["006-0"][0]]} and found["006-0"][0].call_id == "c-9"
