"""composite (references, allOrNone, httpHeaders, any endpoint) and sObject Collections."""

from __future__ import annotations

from typing import Any

import pytest
import simple_salesforce
from callsync_dev.emulator import Emulator
from simple_salesforce.exceptions import SalesforceMalformedRequest

V = "/services/data/v62.0"


def composite(
    sf: simple_salesforce.Salesforce, requests: list[dict[str, Any]], all_or_none: bool = False
) -> list[dict[str, Any]]:
    answer = sf.restful("composite", method="POST", json={"allOrNone": all_or_none, "compositeRequest": requests})
    return answer["compositeResponse"]


def test_references_between_subrequests(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    emulator.reset_api_requests()
    # When an account is created, a contact found by query, and both used by later subrequests
    responses = composite(
        sf,
        [
            {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "acct", "body": {"Name": "Umbrella"}},
            {
                "method": "GET",
                "url": f"{V}/query/?q=SELECT+Id+FROM+Contact+WHERE+Email='hank@globex.com'",
                "referenceId": "hank",
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Opportunity",
                "referenceId": "opp",
                "body": {
                    "Name": "Umbrella deal",
                    "AccountId": "@{acct.id}",
                    "StageName": "Prospecting",
                    "CloseDate": "2026-12-31",
                },
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/OpportunityContactRole",
                "referenceId": "role",
                "body": {"OpportunityId": "@{opp.id}", "ContactId": "@{hank.records[0].Id}", "IsPrimary": True},
            },
            {"method": "GET", "url": f"{V}/sobjects/Opportunity/@{{opp.id}}", "referenceId": "read"},
        ],
    )
    # Then every subrequest succeeded and the references resolved
    assert [r["httpStatusCode"] for r in responses] == [201, 200, 201, 201, 200]
    assert responses[4]["body"]["AccountId"] == responses[0]["body"]["id"]
    assert responses[0]["httpHeaders"]["Location"].endswith(responses[0]["body"]["id"])
    role = emulator.records("OpportunityContactRole")[-1]
    assert role["ContactId"] == emulator.records("Contact")[0]["Id"]
    # And the whole composite counted as one API request
    assert emulator.api_requests == 1


def test_all_or_none_rolls_back_and_halts(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    # When the second of three subrequests fails under allOrNone
    responses = composite(
        sf,
        [
            {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "a", "body": {"Name": "Keep?"}},
            {"method": "POST", "url": f"{V}/sobjects/Contact", "referenceId": "c", "body": {"FirstName": "NoLast"}},
            {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "b", "body": {"Name": "Never"}},
        ],
        all_or_none=True,
    )
    # Then the failure keeps its error, the others are PROCESSING_HALTED, and nothing was written
    assert [r["httpStatusCode"] for r in responses] == [400, 400, 400]
    assert responses[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert responses[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert responses[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert [a["Name"] for a in emulator.records("Account")] == ["Globex"]


def test_without_all_or_none_a_reference_to_a_failure_halts(
    sf: simple_salesforce.Salesforce, emulator: Emulator
) -> None:
    # When a subrequest fails and a later one references it, without allOrNone
    responses = composite(
        sf,
        [
            {"method": "POST", "url": f"{V}/sobjects/Contact", "referenceId": "bad", "body": {}},
            {"method": "PATCH", "url": f"{V}/sobjects/Contact/@{{bad.id}}", "referenceId": "dep", "body": {}},
            {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "ok", "body": {"Name": "Fine"}},
        ],
    )
    # Then the dependent one is PROCESSING_HALTED and the independent one is written
    assert [r["httpStatusCode"] for r in responses] == [400, 400, 201]
    assert responses[1]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert "Fine" in [a["Name"] for a in emulator.records("Account")]


def test_subrequests_carry_headers_and_reach_any_endpoint(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    contact_id = emulator.records("Contact")[0]["Id"]
    # When describe (with If-Modified-Since), global describe, limits and a collection run in one composite
    responses = composite(
        sf,
        [
            {"method": "GET", "url": f"{V}/sobjects/Contact/describe", "referenceId": "d1"},
            {
                "method": "GET",
                "url": f"{V}/sobjects/Contact/describe",
                "referenceId": "d2",
                "httpHeaders": {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
            },
            {"method": "GET", "url": f"{V}/sobjects", "referenceId": "g"},
            {"method": "GET", "url": f"{V}/limits", "referenceId": "l"},
            {
                "method": "PATCH",
                "url": f"{V}/composite/sobjects",
                "referenceId": "coll",
                "body": {
                    "allOrNone": False,
                    "records": [{"attributes": {"type": "Contact"}, "Id": contact_id, "Title": "CFO"}],
                },
            },
            {"method": "GET", "url": f"{V}/queryAll?q=SELECT+Title+FROM+Contact", "referenceId": "q"},
        ],
    )
    # Then each answers as its endpoint does
    assert [r["httpStatusCode"] for r in responses] == [200, 304, 200, 200, 200, 200]
    assert responses[1]["body"] is None
    assert responses[0]["httpHeaders"]["Last-Modified"]
    assert responses[4]["body"][0] == {"id": contact_id, "success": True, "errors": []}
    assert responses[5]["body"]["records"][0]["Title"] == "CFO"


def test_composite_limits(sf: simple_salesforce.Salesforce) -> None:
    # When 26 subrequests are sent
    many = [{"method": "GET", "url": f"{V}/limits", "referenceId": f"r{i}"} for i in range(26)]
    # Then the request is refused as a whole
    with pytest.raises(SalesforceMalformedRequest):
        composite(sf, many)


def test_collections_create_mixed_types(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    emulator.reset_api_requests()
    # When an account, a contact and an invalid contact are created in one collection
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Account"}, "Name": "Coll Inc"},
                {"attributes": {"type": "Contact"}, "LastName": "Coll"},
                {"attributes": {"type": "Contact"}, "FirstName": "Missing"},
            ],
        },
    )
    # Then per-record results use statusCode, and the request counted once
    assert [r["success"] for r in results] == [True, True, False]
    assert results[0]["id"].startswith("001") and results[1]["id"].startswith("003")
    assert results[2]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert emulator.api_requests == 1


def test_collections_all_or_none_rolls_back(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    contact_id = emulator.records("Contact")[0]["Id"]
    # When an update collection has one bad record under allOrNone
    results = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "allOrNone": True,
            "records": [
                {"attributes": {"type": "Contact"}, "Id": contact_id, "Title": "Changed"},
                {"attributes": {"type": "Contact"}, "Id": contact_id, "Email": "bad"},
            ],
        },
    )
    # Then the good one is rolled back
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert emulator.records("Contact")[0]["Title"] == "CEO"


def test_collections_limit_and_delete(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    # When more than 200 records are sent
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.restful(
            "composite/sobjects",
            method="POST",
            json={"records": [{"attributes": {"type": "Account"}, "Name": f"A{i}"} for i in range(201)]},
        )
    assert info.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    # And records are deleted through a collection
    created = sf.restful(
        "composite/sobjects",
        method="POST",
        json={"records": [{"attributes": {"type": "Task"}, "Subject": f"T{i}"} for i in range(3)]},
    )
    ids = ",".join(r["id"] for r in created)
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": ids})
    # Then each deletion reports success
    assert all(r["success"] for r in deleted) and emulator.records("Task") == []
