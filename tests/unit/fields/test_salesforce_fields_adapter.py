"""SalesforceFieldStore over a fake SalesforceApi: the SOQL and subrequests it sends, and outcome mapping."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest
from callsync.adapters.salesforce_fields import SalesforceFieldStore, read_soql
from callsync.errors import MissingPermission, SalesforceRejected, SalesforceRowLocked, SalesforceUnavailable
from callsync.models.fields import RecordRead, RecordWrite


class FakeApi:
    instance_url = "https://acme.my.salesforce.com"

    def __init__(self, answers: list[list[dict[str, Any]]]) -> None:
        self.answers = answers
        self.sent: list[tuple[list[dict[str, Any]], bool]] = []
        self.api_requests = 0

    def composite(self, subrequests: list[dict[str, Any]], *, all_or_none: bool = False) -> list[dict[str, Any]]:
        self.api_requests += 1
        self.sent.append((subrequests, all_or_none))
        return self.answers.pop(0)


def test_read_soql_escapes_values_and_orders_via_lookups():
    # Given a read by id with a quote in it, and a via lookup
    by_id = RecordRead("Opportunity", "Opportunity", ("Pain__c", "Id", "Amount"), record_id="006x'1")
    via = RecordRead("DR", "Deal_Review__c", ("Metrics__c",), via="Opportunity__c", parent_id="006A")
    # Then the SOQL escapes the value, selects Id once, and takes the newest linked record
    assert read_soql(by_id) == "SELECT Id, Pain__c, Amount FROM Opportunity WHERE Id = '006x\\'1'"
    assert read_soql(via) == (
        "SELECT Id, Metrics__c FROM Deal_Review__c WHERE Opportunity__c = '006A' ORDER BY LastModifiedDate DESC LIMIT 1"
    )
    with pytest.raises(ValueError):
        read_soql(RecordRead("X", "Opportunity", ("Pain__c FROM User --",), record_id="1"))


def test_a_field_name_with_a_trailing_newline_is_not_an_api_name():
    # Given a field name that a `^...$` pattern would accept (its `$` matches before a final newline)
    read = RecordRead("X", "Opportunity", ("Pain__c\n",), record_id="1")
    # When its SOQL is built / Then it is refused like any other non-API name
    with pytest.raises(ValueError, match="not a Salesforce API name"):
        read_soql(read)


def test_reads_go_in_one_composite_and_map_records_and_errors():
    # Given answers: a record, no record, and an INVALID_FIELD error
    api = FakeApi(
        [
            [
                {
                    "referenceId": "r0",
                    "httpStatusCode": 200,
                    "body": {"records": [{"attributes": {"type": "Opportunity"}, "Id": "006A", "Pain__c": "x"}]},
                },
                {"referenceId": "r1", "httpStatusCode": 200, "body": {"records": []}},
                {
                    "referenceId": "r2",
                    "httpStatusCode": 400,
                    "body": [
                        {"errorCode": "INVALID_FIELD", "message": "No such column 'Secret__c' on entity 'Contact'"}
                    ],
                },
            ]
        ]
    )
    store = SalesforceFieldStore(api)
    reads = [
        RecordRead("a", "Opportunity", ("Pain__c",), record_id="006A"),
        RecordRead("b", "Deal_Review__c", ("Metrics__c",), via="Opportunity__c", parent_id="006A"),
        RecordRead("c", "Contact", ("Secret__c",), record_id="003A"),
    ]
    # When read
    out = store.read(reads)
    # Then one request carried three GET queries, and each outcome is mapped
    assert api.api_requests == 1 and [s["method"] for s in api.sent[0][0]] == ["GET"] * 3
    assert unquote(api.sent[0][0][0]["url"]).startswith("query/?q=SELECT Id, Pain__c FROM Opportunity")
    assert out["a"].record == {"Id": "006A", "Pain__c": "x"}
    assert out["b"].record is None and out["b"].error is None
    assert isinstance(out["c"].error, SalesforceRejected)


def test_writes_go_in_one_composite_not_all_or_none_and_map_outcomes():
    # Given a created record, an update, a lock, a hidden field and a validation rule
    api = FakeApi(
        [
            [
                {"referenceId": "w0", "httpStatusCode": 201, "body": {"id": "a00NEW", "success": True, "errors": []}},
                {"referenceId": "w1", "httpStatusCode": 204, "body": None},
                {
                    "referenceId": "w2",
                    "httpStatusCode": 400,
                    "body": [{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "x"}],
                },
                {
                    "referenceId": "w3",
                    "httpStatusCode": 400,
                    "body": [
                        {"errorCode": "INVALID_FIELD", "message": "No such column 'S__c' on sobject of type Account"}
                    ],
                },
                {
                    "referenceId": "w4",
                    "httpStatusCode": 400,
                    "body": [{"errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "Next Step needed"}],
                },
            ]
        ]
    )
    writes = [
        RecordWrite("new", "Deal_Review__c", {"Metrics__c": "m", "Opportunity__c": "006A"}),
        RecordWrite("opp", "Opportunity", {"Pain__c": "p"}, record_id="006A"),
        RecordWrite("con", "Contact", {"T__c": "t"}, record_id="003A"),
        RecordWrite("acc", "Account", {"S__c": "s"}, record_id="001A"),
        RecordWrite("opp2", "Opportunity", {"NextStep": ""}, record_id="006B"),
    ]
    # When written
    out = SalesforceFieldStore(api).write(writes)
    # Then one composite request, allOrNone false, POST for the create and PATCH for updates
    ((subs, all_or_none),) = api.sent
    assert api.api_requests == 1 and all_or_none is False
    assert [(s["method"], s["url"]) for s in subs[:2]] == [
        ("POST", "sobjects/Deal_Review__c/"),
        ("PATCH", "sobjects/Opportunity/006A"),
    ]
    assert out["new"].record_id == "a00NEW" and out["opp"].ok and out["opp"].record_id == "006A"
    assert isinstance(out["con"].error, SalesforceRowLocked)
    assert isinstance(out["acc"].error, MissingPermission)
    assert isinstance(out["opp2"].error, SalesforceRejected) and "Next Step needed" in str(out["opp2"].error)


def test_a_missing_sub_response_is_retryable():
    # Given Salesforce answers without one sub-response, Then that write is reported as retryable
    out = SalesforceFieldStore(FakeApi([[]])).write([RecordWrite("opp", "Opportunity", {"A": 1}, record_id="006A")])
    assert isinstance(out["opp"].error, SalesforceUnavailable)


def test_a_read_that_asks_for_it_also_reads_who_last_modified_the_record():
    # Given a read with last_modified, answered with the record and its LastModifiedBy relationship
    row = {
        "attributes": {"type": "Opportunity"},
        "Id": "006A",
        "NextStep": "Alice's plan",
        "LastModifiedById": "005ALICE",
        "LastModifiedDate": "2026-06-05T09:30:00.000+0000",
        "LastModifiedBy": {"attributes": {"type": "User"}, "Name": "Alice Rep"},
    }
    api = FakeApi([[{"referenceId": "r0", "httpStatusCode": 200, "body": {"done": True, "records": [row]}}]])
    read = RecordRead("a", "Opportunity", ("NextStep",), record_id="006A", last_modified=True)
    # When read
    out = SalesforceFieldStore(api).read([read])
    # Then the same query selects the system fields; the record holds the mapped fields, the modifier beside it
    assert read_soql(read) == (
        "SELECT Id, NextStep, LastModifiedById, LastModifiedDate, LastModifiedBy.Name"
        " FROM Opportunity WHERE Id = '006A'"
    )
    assert api.api_requests == 1 and out["a"].record == {"Id": "006A", "NextStep": "Alice's plan"}
    modified = out["a"].last_modified
    assert modified is not None and (modified.by_id, modified.by_name) == ("005ALICE", "Alice Rep")
    assert modified.at is not None and modified.at.isoformat() == "2026-06-05T09:30:00+00:00"


def test_the_integration_user_is_the_api_clients():
    # Given an API client that names its user (read from the org's secret) and one that does not
    named = FakeApi([])
    named.integration_user_id = "005INTEGRATION"
    # Then the field store writes as that user, and knows none without it
    assert SalesforceFieldStore(named).integration_user_id == "005INTEGRATION"
    assert SalesforceFieldStore(FakeApi([])).integration_user_id is None
