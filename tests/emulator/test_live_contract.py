"""Contract tests that run against any Salesforce org: a real one (live mode) or a served emulator.

They talk only through the REST API, create their own records (tagged with a run id) and delete them
afterwards, so the same assertions tell whether the emulator still answers as Salesforce does. The last
ones run callsync's Salesforce adapters (LogActivity's write, the paged reader) against the same org.
Skipped unless the org is given in the environment (tests/support/live_org.py; docs/emulator.md,
"Live-org contract mode").
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import simple_salesforce
from callsync.adapters.salesforce_activity import SalesforceActivityStore
from callsync.adapters.salesforce_api import all_records, query_subrequest
from callsync.ports.activity import RecordWrite, WritePlan
from simple_salesforce.exceptions import SalesforceError

from tests.support.live_org import NOT_LIVE_REASON, access_token, api_version, instance_url, live_mode, live_session

pytestmark = pytest.mark.skipif(not live_mode(), reason=NOT_LIVE_REASON)


class Org:
    """A client for the org under test, and the ids of what this test created (deleted afterwards)."""

    def __init__(self) -> None:
        url = instance_url()
        session = live_session()
        self.version = api_version()
        self.sf = simple_salesforce.Salesforce(
            instance_url=url,
            session=session,
            version=self.version,
            session_id=access_token(url, session),
        )
        self.tag = f"callsync-contract-{uuid.uuid4().hex[:10]}"
        self.created: list[str] = []
        self.base = f"/services/data/v{self.version}"

    def create(self, obj: str, fields: dict[str, Any]) -> str:
        record_id = str(getattr(self.sf, obj).create(fields)["id"])
        self.created.append(record_id)
        return record_id

    def composite(self, subrequests: list[dict[str, Any]], *, all_or_none: bool) -> list[dict[str, Any]]:
        answer = self.sf.restful(
            "composite", method="POST", json={"allOrNone": all_or_none, "compositeRequest": subrequests}
        )
        responses = list(answer["compositeResponse"])
        for response in responses:  # whatever was created is cleaned up
            body = response.get("body")
            if response.get("httpStatusCode") == 201 and isinstance(body, dict) and body.get("id"):
                self.created.append(str(body["id"]))
            if isinstance(body, list):
                self.created += [str(r["id"]) for r in body if isinstance(r, dict) and r.get("success")]
        return responses

    def tagged(self, obj: str, field: str) -> list[dict[str, Any]]:
        return list(self.sf.query(f"SELECT Id FROM {obj} WHERE {field} LIKE '{self.tag}%'")["records"])

    def clean_up(self) -> None:
        ids = list(dict.fromkeys(reversed(self.created)))
        for start in range(0, len(ids), 200):
            self.sf.restful(
                "composite/sobjects",
                method="DELETE",
                params={"ids": ",".join(ids[start : start + 200]), "allOrNone": "false"},
            )


@pytest.fixture
def org() -> Iterator[Org]:
    """Given the org named in the environment; what the test creates is deleted afterwards."""
    target = Org()
    try:
        yield target
    finally:
        target.clean_up()


def error_body(call: Any) -> Any:
    with pytest.raises(SalesforceError) as info:
        call()
    return info.value.content


def test_outer_all_or_none_rolls_back_a_partial_collection(org: Org) -> None:
    """Source: REST API guide, "allOrNone Parameters in Composite and Collections Requests"."""
    # When a composite with allOrNone true holds a collection (allOrNone false) with one bad record
    responses = org.composite(
        [
            {
                "method": "POST",
                "url": f"{org.base}/composite/sobjects",
                "referenceId": "people",
                "body": {
                    "allOrNone": False,
                    "records": [
                        {"attributes": {"type": "Contact"}, "LastName": f"{org.tag} good"},
                        {"attributes": {"type": "Contact"}, "FirstName": f"{org.tag} no last name"},
                    ],
                },
            },
            {
                "method": "POST",
                "url": f"{org.base}/sobjects/Account",
                "referenceId": "acct",
                "body": {"Name": f"{org.tag} account"},
            },
        ],
        all_or_none=True,
    )
    # Then nothing was saved and the good record reports the rollback without an id
    assert org.tagged("Contact", "LastName") == [] and org.tagged("Account", "Name") == []
    assert responses[0]["body"][0]["success"] is False and "id" not in responses[0]["body"][0]
    assert responses[0]["body"][0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert responses[1]["body"][0]["errorCode"] == "PROCESSING_HALTED"


def test_standard_fields_describe_as_the_emulator_says(org: Org) -> None:
    """The describe rules of docs/emulator.md whose source could not be read offline, checked on the org:
    StageName is an open picklist and ForecastCategoryName a restricted one; Event.ShowAs is restricted;
    Task/Event Subject are comboboxes; a queue (Group) may own a Lead; Contact names its EventRelation and
    EmailMessageRelation children."""

    def fields(obj: str) -> dict[str, Any]:
        return {f["name"]: f for f in org.sf.restful(f"sobjects/{obj}/describe")["fields"]}

    # When the standard objects are described
    opportunity, event, task, lead = fields("Opportunity"), fields("Event"), fields("Task"), fields("Lead")
    # Then the picklists are restricted as the emulator has them
    assert opportunity["StageName"]["restrictedPicklist"] is False
    assert opportunity["ForecastCategoryName"]["restrictedPicklist"] is True
    assert event["ShowAs"]["restrictedPicklist"] is True
    assert [(f["Subject"]["type"], f["Subject"]["restrictedPicklist"]) for f in (task, event)] == [
        ("combobox", False),
        ("combobox", False),
    ]
    # And a Lead may be owned by a queue
    assert {"Group", "User"} <= set(lead["OwnerId"]["referenceTo"])
    # And Contact names the relation rows that point at it
    names = {
        (r["childSObject"], r["field"]): r["relationshipName"]
        for r in org.sf.restful("sobjects/Contact/describe")["childRelationships"]
    }
    assert names.get(("EventRelation", "RelationId")) == "EventRelations"
    assert names.get(("EmailMessageRelation", "RelationId")) == "EmailMessageRelations"


def test_account_rows_etag_and_conditional_requests(org: Org) -> None:
    """Source: REST API guide, "Conditional Request Headers" (ETag on Account sObject Rows; If-None-Match
    gives 304 on GET; If-Match with no matching tag gives 412 and nothing is processed)."""
    # Given an Account of this run and its tag
    account = org.create("Account", {"Name": f"{org.tag} etag"})
    url = f"{org.sf.base_url}sobjects/Account/{account}"
    first = org.sf.session.get(url, headers=org.sf.headers, timeout=30)
    tag = first.headers["ETag"]
    # When read again with that tag / Then 304 without a body
    again = org.sf.session.get(url, headers={**org.sf.headers, "If-None-Match": tag}, timeout=30)
    assert (again.status_code, again.content) == (304, b"")
    # When updated with a tag it no longer has / Then 412 and the name is unchanged
    stale = org.sf.session.patch(
        url, headers={**org.sf.headers, "If-Match": '"stale--gzip"'}, json={"Name": f"{org.tag} changed"}, timeout=30
    )
    assert stale.status_code == 412
    assert org.sf.Account.get(account)["Name"] == f"{org.tag} etag"


def test_collections_delete_malformed_id_and_rollback(org: Org) -> None:
    """Source: REST API guide, "Delete Records Using sObject Collections" (response example)."""
    # Given a contact of this run
    contact = org.create("Contact", {"LastName": f"{org.tag} keep"})
    # When it and a malformed id are deleted all-or-none
    results = org.sf.restful(
        "composite/sobjects", method="DELETE", params={"ids": f"{contact},001RM000003oLrB000", "allOrNone": "true"}
    )
    # Then the contact is rolled back (keeps its id) and the malformed id has no id key
    assert results[0]["id"] == contact and results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert "id" not in results[1] and results[1]["errors"][0]["statusCode"] == "MALFORMED_ID"
    assert len(org.tagged("Contact", "LastName")) == 1


def test_request_errors_have_no_fields_key(org: Org) -> None:
    """Source: REST API guide, "Status Codes and Error Responses"."""
    # When a malformed query is sent / Then the error names no fields
    body = error_body(lambda: org.sf.query("SELECT FROM Contact"))
    assert body[0]["errorCode"] == "MALFORMED_QUERY" and "fields" not in body[0]


def test_content_document_link_title_filter_needs_linked_entity_equals(org: Org) -> None:
    """Source: Object Reference, "ContentDocumentLink" (Usage)."""
    # Given an account of this run with a note linked to it
    account = org.create("Account", {"Name": f"{org.tag} notes"})
    note = org.create(
        "ContentNote", {"Title": f"{org.tag} note", "Content": base64.b64encode(b"<p>contract</p>").decode()}
    )
    org.sf.ContentDocumentLink.create({"ContentDocumentId": note, "LinkedEntityId": account, "ShareType": "V"})
    head = "SELECT ContentDocumentId FROM ContentDocumentLink WHERE "
    title = f"ContentDocument.Title = '{org.tag} note'"
    # When the title is filtered next to LinkedEntityId = / IN
    found = org.sf.query(f"{head}LinkedEntityId = '{account}' AND {title}")["records"]
    refused = error_body(lambda: org.sf.query(f"{head}LinkedEntityId IN ('{account}') AND {title}"))
    # Then only the "=" form is accepted
    assert [r["ContentDocumentId"][:15] for r in found] == [note[:15]]
    assert refused[0]["errorCode"] == "MALFORMED_QUERY"


def test_subrequest_headers_and_null_references(org: Org) -> None:
    """Source: REST API guide, "Composite Request Body" (httpHeaders; referenceId from API 52.0)."""
    # Given a contact without a Title
    contact = org.create("Contact", {"LastName": f"{org.tag} null title"})
    # When a subrequest sets Content-Type / Then the whole composite is refused
    with pytest.raises(SalesforceError):
        org.composite(
            [
                {
                    "method": "GET",
                    "url": f"{org.base}/limits",
                    "referenceId": "a",
                    "httpHeaders": {"Content-Type": "application/json"},
                }
            ],
            all_or_none=False,
        )
    # When a subrequest copies the null Title / Then it resolves (v52+)
    responses = org.composite(
        [
            {"method": "GET", "url": f"{org.base}/sobjects/Contact/{contact}?fields=Id,Title", "referenceId": "c"},
            {
                "method": "PATCH",
                "url": f"{org.base}/sobjects/Contact/{contact}",
                "referenceId": "p",
                "body": {"Title": "@{c.Title}", "Department": "Contract"},
            },
        ],
        all_or_none=False,
    )
    assert responses[1]["httpStatusCode"] == 204


class _Api:
    """The part of ``ports.SalesforceApi`` the adapters below use, over the test's client."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.api_version = org.version
        self.instance_url = org.sf.sf_instance
        self.api_requests = 0

    def composite(self, subrequests: list[dict[str, Any]], *, all_or_none: bool = False) -> list[dict[str, Any]]:
        self.api_requests += 1
        absolute = [
            {**s, "url": s["url"] if s["url"].startswith("/") else f"{self.org.base}/{s['url']}"} for s in subrequests
        ]
        return self.org.composite(absolute, all_or_none=all_or_none)


def test_activity_write_keeps_the_activity_when_a_relation_is_refused(org: Org) -> None:
    """callsync's LogActivity write (one composite, allOrNone false) on the org under test."""
    # Given an account with a contact, and a contact id that points nowhere
    account = org.create("Account", {"Name": f"{org.tag} activity"})
    contact = org.create("Contact", {"LastName": f"{org.tag} jane", "AccountId": account})
    missing = "003000000000000AAA"  # a well-formed Contact id no record has
    store = SalesforceActivityStore(_Api(org))  # type: ignore[arg-type]
    # When the call is logged with one good and one bad relation, a note and a follow-up
    plan = WritePlan(
        activity=RecordWrite(
            "Task",
            {
                "Subject": f"{org.tag} call",
                "WhatId": account,
                "WhoId": contact,
                "ActivityDate": "2026-11-20",
                "Status": "Completed",
            },
        ),
        relations=[missing],
        note=RecordWrite(
            "ContentNote", {"Title": f"{org.tag} notes", "Content": base64.b64encode(b"<p>call</p>").decode()}
        ),
        note_links=[account],
        follow_ups=[RecordWrite("Task", {"Subject": f"{org.tag} follow-up", "ActivityDate": "2026-11-27"}, key="f1")],
    )
    outcome = store.write(plan)
    # Then the activity, the note and the follow-up exist; only the relation failed
    org.created += [
        str(i) for i in (outcome.activity_id, outcome.note_id, *(f.id for f in outcome.follow_ups.values())) if i
    ]
    assert outcome.activity_id and outcome.note_id and outcome.follow_ups["f1"].ok
    assert not outcome.relations[missing].ok and outcome.note_links[account].ok
    assert len(org.tagged("Task", "Subject")) == 2


def test_all_records_reads_a_composite_query_with_its_child_results(org: Org) -> None:
    """salesforce_api.all_records on the org under test: every page, every child result complete."""
    # Given an account of this run with three contacts
    account = org.create("Account", {"Name": f"{org.tag} paged"})
    for n in range(3):
        org.create("Contact", {"LastName": f"{org.tag} c{n}", "AccountId": account})
    api = _Api(org)
    soql = f"SELECT Id, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account WHERE Id = '{account}'"
    # When it is read through a composite query and all_records
    answer = api.composite([query_subrequest("a", soql)])[0]
    records = all_records(api, answer["body"])  # type: ignore[arg-type]
    # Then the three contacts are there
    assert [c["LastName"] for c in records[0]["Contacts"]["records"]] == [f"{org.tag} c{n}" for n in range(3)]
