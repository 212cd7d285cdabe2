"""Rules where Salesforce is stricter than a naive emulator; each test's docstring names its source."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
import simple_salesforce
from callsync_dev.emulator import Emulator
from callsync_dev.emulator.fixture import FixtureError
from callsync_dev.emulator.ids import checksum_suffix
from callsync_dev.emulator.testing import salesforce_client
from simple_salesforce.exceptions import SalesforceError

V = "/services/data/v62.0"
PEOPLE_ORG: dict[str, Any] = {
    "records": {
        "Account": [{"Id": "globex", "Name": "Globex"}],
        "Contact": [
            {"Id": f"c{i}", "LastName": f"Person {i}", "Email": f"p{i}@globex.com", "AccountId": "globex"}
            for i in range(5)
        ],
    },
}


@pytest.fixture
def org(request: pytest.FixtureRequest) -> Iterator[tuple[Emulator, simple_salesforce.Salesforce]]:
    """Given an emulator seeded with the fixture the test passes (PEOPLE_ORG by default)."""
    fixture = getattr(request, "param", PEOPLE_ORG)
    with Emulator.from_fixture(fixture) as emu:
        yield emu, salesforce_client(emu.connection)


def composite(
    sf: simple_salesforce.Salesforce, subrequests: list[dict[str, Any]], *, all_or_none: bool
) -> list[dict[str, Any]]:
    answer = sf.restful("composite", method="POST", json={"allOrNone": all_or_none, "compositeRequest": subrequests})
    return list(answer["compositeResponse"])


def error_body(call: Any) -> Any:
    with pytest.raises(SalesforceError) as info:
        call()
    return info.value.content


# -- 1. allOrNone in composite and collections --------------------------------------------------------------


def _collection_and_account() -> list[dict[str, Any]]:
    return [
        {
            "method": "POST",
            "url": f"{V}/composite/sobjects",
            "referenceId": "people",
            "body": {
                "allOrNone": False,
                "records": [
                    {"attributes": {"type": "Contact"}, "LastName": "Good"},
                    {"attributes": {"type": "Contact"}, "FirstName": "No last name"},
                ],
            },
        },
        {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "acct", "body": {"Name": "Initech"}},
    ]


def test_outer_all_or_none_overrides_a_collections_own_all_or_none(
    org: tuple[Emulator, simple_salesforce.Salesforce],
) -> None:
    """Source: Salesforce REST API Developer Guide, "allOrNone Parameters in Composite and Collections
    Requests" (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_allornone.htm):
    with the composite's allOrNone true, all-or-none applies to each sObject Collections subrequest,
    overriding the collection's own allOrNone."""
    emu, sf = org
    contacts_before = len(emu.records("Contact"))
    # When a composite with allOrNone true holds a collection (allOrNone false) with one bad record
    responses = composite(sf, _collection_and_account(), all_or_none=True)
    # Then nothing is written: the good record is rolled back, the other subrequest halted
    people = responses[0]["body"]
    assert people[0] == {
        "success": False,
        "errors": [
            {
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "message": "Record rolled back because not all records were valid and the request was using AllOrNone "
                "header",
                "fields": [],
            }
        ],
    }
    assert people[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert responses[1]["httpStatusCode"] == 400 and responses[1]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert len(emu.records("Contact")) == contacts_before
    assert [a["Name"] for a in emu.records("Account")] == ["Globex"]


def test_outer_all_or_none_false_lets_the_collection_decide(org: tuple[Emulator, simple_salesforce.Salesforce]) -> None:
    """Source: as above ("If the Composite request has allOrNone set to false, then each sObject
    Collections subrequest behaves according to its value of allOrNone")."""
    emu, sf = org
    # When the same composite is sent with allOrNone false
    responses = composite(sf, _collection_and_account(), all_or_none=False)
    # Then the good contact and the account are saved, the bad contact is not
    assert [r["success"] for r in responses[0]["body"]] == [True, False]
    assert responses[1]["httpStatusCode"] == 201
    assert "Good" in [c["LastName"] for c in emu.records("Contact")]


# -- 2. ContentDocumentLink filters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "accepted"),
    [
        ("LinkedEntityId = '{opp}'", True),
        ("LinkedEntityId IN ('{opp}', '{acct}')", True),
        ("ContentDocumentId = '{doc}'", True),
        ("LinkedEntityId = '{opp}' AND ContentDocument.Title = 'Call notes'", True),
        ("LinkedEntityId IN ('{opp}', '{acct}') AND ContentDocument.Title = 'Call notes'", False),
        ("ContentDocumentId = '{doc}' AND ContentDocument.Title = 'Call notes'", False),
        ("ContentDocument.Title = 'Call notes'", False),
        ("LinkedEntityId != '{opp}'", False),
    ],
)
def test_content_document_link_queries_must_pin_linked_entity_or_document(where: str, accepted: bool) -> None:
    """Source: Salesforce Object Reference, "ContentDocumentLink" — Usage
    (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_contentdocumentlink.htm):
    "You can't run a query without filters against ContentDocumentLink", "You can't filter on
    ContentDocument fields if you're filtering by ContentDocumentId. You can only filter on
    ContentDocument fields if you're filtering by LinkedEntityId"; the refusal text is the
    "Implementation restriction: ContentDocumentLink requires a filter by a single Id on
    ContentDocumentId or LinkedEntityId using the equals operator or multiple Id's using the IN
    operator." quoted on salesforce.stackexchange.com/questions/321161."""
    with Emulator.from_fixture(PEOPLE_ORG) as emu:
        sf = salesforce_client(emu.connection)
        # Given a note linked to an opportunity-like record (here: the account) and a document id
        acct = emu.records("Account")[0]["Id"]
        note = sf.ContentNote.create({"Title": "Call notes", "Content": base64.b64encode(b"<p>hi</p>").decode()})
        sf.ContentDocumentLink.create({"ContentDocumentId": note["id"], "LinkedEntityId": acct, "ShareType": "V"})
        soql = "SELECT ContentDocumentId, LinkedEntityId FROM ContentDocumentLink WHERE " + where.format(
            opp=acct, acct=acct, doc=note["id"]
        )
        # When the query is sent
        if accepted:
            # Then Salesforce answers it
            assert sf.query(soql)["done"] is True
        else:
            # Then it is refused with the implementation restriction
            body = error_body(lambda: sf.query(soql))
            assert body[0]["errorCode"] == "MALFORMED_QUERY"
            assert body[0]["message"].startswith("Implementation restriction: ContentDocumentLink requires")


# -- 3. duplicate rules -------------------------------------------------------------------------------------


def _dup_org(action: str) -> dict[str, Any]:
    return {
        "duplicate_rules": [{"object": "Contact", "fields": ["Email"], "action": action}],
        "records": {"Contact": [{"Id": "jane", "LastName": "Doe", "Email": "jane@globex.com"}]},
    }


def _create_pair(sf: simple_salesforce.Salesforce, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    return list(
        sf.restful(
            "composite/sobjects",
            method="POST",
            headers=headers or {},
            json={
                "records": [
                    {"attributes": {"type": "Contact"}, "LastName": "Dup", "Email": "JANE@globex.com"},
                    {"attributes": {"type": "Contact"}, "LastName": "New", "Email": "new@globex.com"},
                ]
            },
        )
    )


@pytest.mark.parametrize("action", ["alert", "block"])
def test_collections_duplicate_error_has_only_status_code_message_and_fields(action: str) -> None:
    """Source: Salesforce REST API Developer Guide, "Create Records Using sObject Collections"
    (resources_composite_sobjects_collections_create.htm), response example with allOrNone true:
    ``{"success": false, "errors": [{"statusCode": "DUPLICATES_DETECTED", "message": "Use one of these
    records?", "fields": []}]}`` — no ``duplicateResult``, no matching ids."""
    with Emulator.from_fixture(_dup_org(action)) as emu:
        sf = salesforce_client(emu.connection)
        # When a collection creates a duplicate of Jane and a new person
        results = _create_pair(sf)
        # Then the duplicate's error carries no matching ids, the other is saved
        assert set(results[0]) == {"success", "errors"} and results[0]["success"] is False
        assert set(results[0]["errors"][0]) == {"statusCode", "message", "fields"}
        assert results[0]["errors"][0]["statusCode"] == "DUPLICATES_DETECTED"
        assert results[1]["success"] is True


@pytest.mark.parametrize(("action", "saved"), [("alert", True), ("block", False)])
def test_allow_save_header_saves_past_an_alert_rule_only(action: str, saved: bool) -> None:
    """Source: Salesforce REST API Developer Guide, "Duplicate Rule Header"
    (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_duplicaterules.htm):
    ``Sforce-Duplicate-Rule-Header: allowSave=true`` saves the duplicate "if an alert is enabled for the
    action"; the default for all fields is false (so an alert rule still refuses a plain API save)."""
    with Emulator.from_fixture(_dup_org(action)) as emu:
        sf = salesforce_client(emu.connection)
        # Given a save without the header is refused under either action
        assert _create_pair(sf)[0]["success"] is False
        # When the duplicate is sent with allowSave=true, as a collection and as one record
        header = {"Sforce-Duplicate-Rule-Header": "allowSave=true"}
        results = _create_pair(sf, header)
        single_saved = True
        try:
            sf.Contact.create({"LastName": "Dup2", "Email": "jane@globex.com"}, headers=header)
        except SalesforceError:
            single_saved = False
        # Then only an alert rule lets it through
        assert results[0]["success"] is saved and single_saved is saved


# -- 4. paging: top-level and child results -----------------------------------------------------------------


def test_child_relationship_results_page_inside_the_record() -> None:
    """Sources: SOAP API Developer Guide, "queryMore()" ("A queryMore() call on a parent object
    invalidates all child cursors in the previous result set. If you need the results from the
    child, you must use queryMore() on those results"); the jsforce walkthrough at
    qiita.com/comefigo/items/5b5ff1f5f9e652f4bf6f (a child set past its batch carries its own
    ``nextRecordsUrl`` inside the parent record). The child batch size is not documented: it is
    the fixture's ``child_batch_size``."""
    with Emulator.from_fixture({**PEOPLE_ORG, "child_batch_size": 2}) as emu:
        sf = salesforce_client(emu.connection)
        # When an account's five contacts are read through a child subquery
        page = sf.query("SELECT Id, (SELECT Id FROM Contacts ORDER BY LastName) FROM Account")
        children = page["records"][0]["Contacts"]
        # Then the child result is paged in the record and the locator gives the rest
        assert children["done"] is False and children["totalSize"] == 5 and len(children["records"]) == 2
        rest = sf.query_more(children["nextRecordsUrl"], identifier_is_url=True)
        assert len(rest["records"]) == 2 and rest["done"] is False
        last = sf.query_more(rest["nextRecordsUrl"], identifier_is_url=True)
        assert len(last["records"]) == 1 and last["done"] is True


def test_reading_the_parents_next_page_invalidates_the_child_cursors() -> None:
    """Source: SOAP API Developer Guide, "queryMore()" (sforce_api_calls_querymore.htm): "A queryMore()
    call on a parent object invalidates all child cursors in the previous result set. If you need the
    results from the child, you must use queryMore() on those results before using queryMore() on the
    parent results." """
    org = {
        "query_batch_size": 1,
        "child_batch_size": 1,
        "records": {
            "Account": [{"Id": f"a{i}", "Name": f"A{i}"} for i in range(2)],
            "Contact": [{"LastName": f"C{n}", "AccountId": f"a{i}"} for i in range(2) for n in range(2)],
        },
    }
    with Emulator.from_fixture(org) as emu:
        sf = salesforce_client(emu.connection)
        # Given the first account's page, its contacts paged too
        first = sf.query("SELECT Id, (SELECT Id FROM Contacts) FROM Account ORDER BY Name")
        child_url = first["records"][0]["Contacts"]["nextRecordsUrl"]
        # When the parent's next page is read before the child's
        second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
        # Then the new page's children page again, and the old child cursor is gone
        assert second["records"][0]["Contacts"]["done"] is False
        body = error_body(lambda: sf.query_more(child_url, identifier_is_url=True))
        assert body[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_batch_size_is_a_fixture_knob() -> None:
    """Source: Salesforce REST API Developer Guide, "Query Options Header"
    (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_queryoptions.htm):
    "The default is 2,000; the minimum is 200, and the maximum is 2,000. There is no guarantee that the
    requested batch size is the actual batch size." """
    with Emulator.from_fixture({**PEOPLE_ORG, "query_batch_size": 3}) as emu:
        sf = salesforce_client(emu.connection)
        # When five contacts are queried with a batch size of 3
        first = sf.query("SELECT Id FROM Contact")
        # Then two pages answer them
        assert (len(first["records"]), first["done"], first["totalSize"]) == (3, False, 5)
        assert len(sf.query_all("SELECT Id FROM Contact")["records"]) == 5


def test_batch_sizes_out_of_range_are_refused() -> None:
    """Source: "Query Options Header" above (at most 2,000 per batch)."""
    # When a fixture asks for a batch larger than Salesforce ever answers
    # Then it is refused, naming the key
    with pytest.raises(FixtureError, match="query_batch_size"):
        Emulator.from_fixture({"query_batch_size": 5000})


# -- 7. composite strictness --------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Accept", "Authorization", "content-type"])
def test_subrequest_may_not_set_accept_authorization_or_content_type(
    org: tuple[Emulator, simple_salesforce.Salesforce], header: str
) -> None:
    """Source: Salesforce REST API Developer Guide, "Composite Request Body" — Composite Subrequest,
    ``httpHeaders`` (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/requests_composite.htm):
    any header the resource supports "except for" Accept, Authorization and Content-Type."""
    emu, sf = org
    # When one subrequest sets a forbidden header
    body = error_body(
        lambda: composite(
            sf,
            [
                {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "a", "body": {"Name": "A"}},
                {"method": "GET", "url": f"{V}/limits", "referenceId": "b", "httpHeaders": {header: "x"}},
            ],
            all_or_none=False,
        )
    )
    # Then the whole request is refused and nothing runs
    assert body[0]["errorCode"] == "INVALID_BATCH_REQUEST"
    assert [a["Name"] for a in emu.records("Account")] == ["Globex"]


@pytest.mark.parametrize(("version", "resolves"), [("62.0", True), ("51.0", False)])
def test_reference_to_a_null_field_resolves_from_v52(version: str, resolves: bool) -> None:
    """Source: Salesforce REST API Developer Guide, "Composite Request Body" — referenceId
    (requests_composite.htm): from API version 52.0 a reference to a field whose value is null
    resolves (to null); before, it failed as an invalid reference."""
    with Emulator.from_fixture(PEOPLE_ORG) as emu:
        sf = salesforce_client(emu.connection, version=version)
        base = f"/services/data/v{version}"
        # When a subrequest copies a null Title from a queried contact
        responses = composite(
            sf,
            [
                {"method": "GET", "url": f"{base}/query/?q=SELECT+Id,Title+FROM+Contact+LIMIT+1", "referenceId": "q"},
                {
                    "method": "PATCH",
                    "url": f"{base}/sobjects/Contact/@{{q.records[0].Id}}",
                    "referenceId": "p",
                    "body": {"Title": "@{q.records[0].Title}", "Department": "Sales"},
                },
            ],
            all_or_none=False,
        )
        # Then v52+ resolves it, older versions halt the dependant
        assert (responses[1]["httpStatusCode"] == 204) is resolves
        if not resolves:
            assert responses[1]["body"][0]["errorCode"] == "PROCESSING_HALTED"


def test_chaos_runs_independent_subrequests_out_of_order_but_after_their_references() -> None:
    """Source: Salesforce REST API Developer Guide, "Composite Request Body" — collateSubrequests
    (requests_composite.htm): "When subrequests are collated ... the order of execution is not
    guaranteed (unless there is an explicit dependency between the subrequests)"; true by default
    from API 49.0. The chaos switch exercises that freedom."""
    orders = set()
    for seed in range(8):
        with Emulator.from_fixture({"chaos": {"seed": seed}}) as emu:
            sf = salesforce_client(emu.connection)
            # When six independent accounts and one contact depending on the first are created
            subs = [
                {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": f"a{i}", "body": {"Name": f"A{i}"}}
                for i in range(6)
            ]
            subs.append(
                {
                    "method": "POST",
                    "url": f"{V}/sobjects/Contact",
                    "referenceId": "c",
                    "body": {"LastName": "X", "AccountId": "@{a0.id}"},
                }
            )
            responses = composite(sf, subs, all_or_none=True)
            # Then every subrequest succeeds, answers come in request order, the dependant resolved
            assert [r["referenceId"] for r in responses] == [s["referenceId"] for s in subs]
            assert all(r["httpStatusCode"] == 201 for r in responses)
            created = sorted(emu.records("Account"), key=lambda a: a["Id"])  # ids grow in creation order
            orders.add(tuple(a["Name"] for a in created))
    # And some seed ran them in another order than requested
    assert len(orders) > 1


def test_collate_subrequests_false_keeps_request_order_under_chaos() -> None:
    """Source: "Composite Request Body" — collateSubrequests (requests_composite.htm): "If collation is
    disabled, then the subrequests are executed in the order in which they're received"."""
    for seed in range(4):
        with Emulator.from_fixture({"chaos": {"seed": seed}}) as emu:
            sf = salesforce_client(emu.connection)
            # When six accounts are created with collateSubrequests false
            answer = sf.restful(
                "composite",
                method="POST",
                json={
                    "collateSubrequests": False,
                    "compositeRequest": [
                        {
                            "method": "POST",
                            "url": f"{V}/sobjects/Account",
                            "referenceId": f"a{i}",
                            "body": {"Name": f"A{i}"},
                        }
                        for i in range(6)
                    ],
                },
            )
            # Then they were created in request order
            assert all(r["httpStatusCode"] == 201 for r in answer["compositeResponse"])
            created = sorted(emu.records("Account"), key=lambda a: a["Id"])
            assert [a["Name"] for a in created] == [f"A{i}" for i in range(6)]


# -- 8. fixture ids -----------------------------------------------------------------------------------------


def test_fixture_id_with_a_wrong_checksum_is_refused_naming_the_record() -> None:
    """Source: SOAP API Developer Guide, "Field Types" — ID field type
    (http://www.salesforce.com/us/developer/docs/api/Content/field_types.htm#i1435616, as cited by the
    salesforce_id_formatter gem): the 18-character id is the 15-character one plus a 3-character
    checksum of its capitalisation, so Salesforce never issues one whose suffix does not match."""
    id15 = "0035g000001AbCd"
    good = id15 + checksum_suffix(id15)
    bad = id15 + ("AAA" if checksum_suffix(id15) != "AAA" else "AAB")
    # When a fixture gives a contact an id with a wrong suffix
    # Then loading it fails and names the record and the expected id
    with pytest.raises(FixtureError, match=f"Contact '{bad}'.*expected {good}"):
        Emulator.from_fixture({"records": {"Contact": [{"Id": bad, "LastName": "Doe"}]}})
    # And a lookup to such an id is refused too, naming the field
    with pytest.raises(FixtureError, match="AccountId"):
        Emulator.from_fixture({"records": {"Contact": [{"Id": "x", "LastName": "Doe", "AccountId": bad}]}})
    # And the 15-character and correct 18-character forms load as that id
    for given in (id15, good):
        with Emulator.from_fixture({"records": {"Contact": [{"Id": given, "LastName": "Doe"}]}}) as emu:
            assert emu.records("Contact")[0]["Id"] == good


# -- 9. error bodies ----------------------------------------------------------------------------------------


def test_request_level_errors_have_no_fields_key(org: tuple[Emulator, simple_salesforce.Salesforce]) -> None:
    """Source: Salesforce REST API Developer Guide, "Status Codes and Error Responses"
    (errorcodes.htm): request errors are ``[{"message": ..., "errorCode": ...}]``; ``fields`` appears
    only when the error concerns record fields."""
    _, sf = org
    # When a bad query and an unknown record are requested
    malformed = error_body(lambda: sf.query("SELECT FROM Contact"))[0]
    missing = error_body(lambda: sf.Contact.get("003000000000000AAA"))[0]
    # Then neither body has a fields key
    assert "fields" not in malformed and malformed["errorCode"] == "MALFORMED_QUERY"
    assert "fields" not in missing and missing["errorCode"] == "NOT_FOUND"


def test_collections_delete_reports_malformed_ids_without_an_id(
    org: tuple[Emulator, simple_salesforce.Salesforce],
) -> None:
    """Source: Salesforce REST API Developer Guide, "Delete Records Using sObject Collections"
    (resources_composite_sobjects_collections_delete.htm), response example with allOrNone true:
    the rolled-back record keeps its ``id``; the malformed one is ``{"success": false, "errors":
    [{"statusCode": "MALFORMED_ID", "message": "malformed id 001RM000003oLrB000", "fields": []}]}``."""
    emu, sf = org
    contact = emu.records("Contact")[0]["Id"]
    # When a contact and a malformed id are deleted all-or-none
    results = sf.restful(
        "composite/sobjects", method="DELETE", params={"ids": f"{contact},001RM000003oLrB000", "allOrNone": "true"}
    )
    # Then the contact is rolled back (id kept) and the malformed id has no id key
    assert results[0]["id"] == contact and results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1] == {
        "success": False,
        "errors": [{"statusCode": "MALFORMED_ID", "message": "malformed id 001RM000003oLrB000", "fields": []}],
    }
    assert contact in [c["Id"] for c in emu.records("Contact")]


def test_rolled_back_creates_have_no_id_key(org: tuple[Emulator, simple_salesforce.Salesforce]) -> None:
    """Source: Salesforce REST API Developer Guide, "Create Records Using sObject Collections"
    (resources_composite_sobjects_collections_create.htm), response example with allOrNone true:
    ``{"success": false, "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", ...}]}``."""
    _, sf = org
    # When a good and a bad contact are created all-or-none
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": True,
            "records": [
                {"attributes": {"type": "Contact"}, "LastName": "Good"},
                {"attributes": {"type": "Contact"}, "FirstName": "Bad"},
            ],
        },
    )
    # Then neither entry has an id key
    assert all("id" not in r for r in results)
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"


# -- the chaos switch ---------------------------------------------------------------------------------------


def test_chaos_switch_from_the_fixture_or_the_environment() -> None:
    # Given the fixture key and CALLSYNC_EMULATOR_CHAOS in their forms
    from callsync_dev.emulator.fixture import chaos_seed

    # Then a seed is taken as given, "1"/true picks one, "0"/absent/false is off, the fixture wins
    assert chaos_seed({"seed": 7}) == 7 and chaos_seed(None, "7") == 7
    assert isinstance(chaos_seed(True), int) and isinstance(chaos_seed(None, "1"), int)
    assert chaos_seed(None) is None and chaos_seed(None, "0") is None and chaos_seed(False, "7") is None
    with pytest.raises(FixtureError, match="chaos"):
        chaos_seed("yes")


def test_chaos_pages_every_query_small_and_irregularly() -> None:
    # Given the chaos switch on
    with Emulator.from_fixture({**PEOPLE_ORG, "chaos": {"seed": 3}}) as emu:
        sf = salesforce_client(emu.connection)
        # When five contacts are read page by page
        page = sf.query("SELECT Id FROM Contact")
        sizes = [len(page["records"])]
        while not page["done"]:
            page = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
            sizes.append(len(page["records"]))
        # Then every page held 1-3 records and all five came back
        assert sum(sizes) == 5 and len(sizes) > 1 and all(1 <= n <= 3 for n in sizes)


# -- 5. SOQL restrictions -----------------------------------------------------------------------------------

SOQL_ORG: dict[str, Any] = {
    "schema": {"Opportunity": {"fields": {"Competitors__c": {"type": "multipicklist", "values": ["Gong", "Chorus"]}}}},
    "records": {
        "Account": [{"Id": "globex", "Name": "Globex"}],
        "Contact": [{"Id": "jane", "LastName": "Doe", "Email": "jane@globex.com", "AccountId": "globex"}],
        "Opportunity": [
            {"Id": "deal", "Name": "Deal", "AccountId": "globex", "StageName": "Prospecting", "CloseDate": "2026-12-31"}
        ],
        "Task": [{"Subject": "Call", "WhatId": "deal"}],
    },
}


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT Id FROM Opportunity WHERE AccountId IN (SELECT AccountId FROM Contact) OR Name = 'x'",
        "SELECT Id FROM Opportunity WHERE Name = 'x' AND (AccountId IN (SELECT AccountId FROM Contact) OR Name = 'y')",
        "SELECT Id FROM Opportunity WHERE NOT AccountId IN (SELECT AccountId FROM Contact)",
        "SELECT Id FROM Opportunity WHERE AccountId IN (SELECT AccountId FROM Contact "
        "WHERE Id IN (SELECT ContactId FROM OpportunityContactRole))",
    ],
)
def test_semi_joins_only_as_top_level_conjuncts(soql: str) -> None:
    """Sources: SOQL and SOSL Reference, "Comparison Operators" — semi-join and anti-join considerations
    (no nesting, not with OR); the MALFORMED_QUERY text "Semi join sub-selects are only allowed at the
    top level WHERE expressions and not in nested WHERE expressions." as quoted at
    apsona.com/pages/sfdc/doc/semijoin-subselect.html."""
    with Emulator.from_fixture(SOQL_ORG) as emu:
        sf = salesforce_client(emu.connection)
        # When a semi-join sits under OR, NOT or inside another semi-join / Then it is refused
        body = error_body(lambda: sf.query(soql))
        assert body[0]["errorCode"] == "MALFORMED_QUERY" and "top level WHERE" in body[0]["message"]
        # And the same semi-join as a top-level conjunct is answered
        assert (
            sf.query("SELECT Id FROM Opportunity WHERE Name = 'Deal' AND AccountId IN (SELECT AccountId FROM Contact)")[
                "totalSize"
            ]
            == 1
        )


def test_polymorphic_fields_reach_only_the_name_object() -> None:
    """Source: Object Reference, "Name" (the fields a polymorphic foreign key reaches: Name, Type, Email,
    FirstName, LastName, ...) and SOQL and SOSL Reference, "Understanding Relationship Fields and
    Polymorphic Fields" (other fields need TYPEOF)."""
    with Emulator.from_fixture(SOQL_ORG) as emu:
        sf = salesforce_client(emu.connection)
        # When a Task's What is read through the Name object's fields and through an Opportunity field
        ok = sf.query("SELECT What.Name, What.Type FROM Task")["records"][0]["What"]
        body = error_body(lambda: sf.query("SELECT What.StageName FROM Task"))
        # Then Name and Type answer, StageName is no column of Name
        assert (ok["Name"], ok["Type"]) == ("Deal", "Opportunity")
        assert body[0]["errorCode"] == "INVALID_FIELD" and "'Name'" in body[0]["message"]


def test_order_by_a_multi_select_picklist_is_refused() -> None:
    """Source: SOQL and SOSL Reference, "ORDER BY": multi-select picklist, rich text area and long text
    area fields aren't supported in ORDER BY."""
    with Emulator.from_fixture(SOQL_ORG) as emu:
        sf = salesforce_client(emu.connection)
        # When opportunities are ordered by a multi-select picklist / Then the field cannot be sorted
        body = error_body(lambda: sf.query("SELECT Id FROM Opportunity ORDER BY Competitors__c"))
        assert body[0]["errorCode"] == "INVALID_FIELD" and "can not be sorted" in body[0]["message"]


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM Contact LIMIT 10 OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE"),
        ("SELECT Name, (SELECT LastName FROM Contacts LIMIT 5 OFFSET 1) FROM Account", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact LIMIT 5 OFFSET 1)", "MALFORMED_QUERY"),
        ("SELECT Name, (SELECT LastName FROM Contacts LIMIT 5 OFFSET 1) FROM Account LIMIT 1", None),
        ("SELECT Id FROM Contact LIMIT 10 OFFSET 2000", None),
    ],
)
def test_offset_limits(soql: str, code: str | None) -> None:
    """Source: SOQL and SOSL Reference, "OFFSET": the maximum offset is 2,000 rows (more is
    NUMBER_OUTSIDE_VALID_RANGE); a subquery can use OFFSET only if the parent query has LIMIT 1; never a
    semi-join's WHERE subquery."""
    with Emulator.from_fixture(SOQL_ORG) as emu:
        sf = salesforce_client(emu.connection)
        # When the query is sent / Then it is answered or refused with Salesforce's code
        if code is None:
            assert sf.query(soql)["done"] is True
        else:
            assert error_body(lambda: sf.query(soql))[0]["errorCode"] == code


def test_child_subquery_may_name_its_parent_object() -> None:
    """Source: SOQL and SOSL Reference, "Using Relationship Queries" / "Understanding Relationship Names"
    (``SELECT Name, (SELECT Contact.LastName FROM Account.Contacts) FROM Account`` is valid SOQL)."""
    with Emulator.from_fixture(SOQL_ORG) as emu:
        sf = salesforce_client(emu.connection)
        # When the child relationship is qualified by its parent object and the fields by the child object
        record = sf.query("SELECT Name, (SELECT Contact.LastName FROM Account.Contacts) FROM Account")["records"][0]
        # Then the contacts come back as with the plain form
        assert [c["LastName"] for c in record["Contacts"]["records"]] == ["Doe"]
        # And another object's name as qualifier is refused
        body = error_body(lambda: sf.query("SELECT Name, (SELECT LastName FROM Contact.Contacts) FROM Account"))
        assert body[0]["errorCode"] == "INVALID_TYPE"


# -- 6. describe realism ------------------------------------------------------------------------------------


def _get(sf: simple_salesforce.Salesforce, path: str, **headers: str) -> Any:
    return sf.session.get(sf.base_url + path, headers={**sf.headers, **headers})


@pytest.mark.parametrize("path", ["sobjects/Contact/describe", "sobjects/"])
def test_describe_answers_304_without_a_body_when_unchanged(
    org: tuple[Emulator, simple_salesforce.Salesforce], path: str
) -> None:
    """Source: REST API Developer Guide, "Get Object Metadata Changes"
    (developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/sobject_describe_with_ifmodified_header.htm)
    and "Get a List of Objects If Metadata Has Changed" (describe_global_with_ifmodified_header.htm): with
    If-Modified-Since, sObject Describe and Describe Global return the metadata only when it changed after
    that date, otherwise 304 Not Modified with no response body."""
    _, sf = org
    # When the describe is asked with a date after the org's last metadata change
    unchanged = _get(sf, path, **{"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"})
    # Then the answer is 304 without a body
    assert unchanged.status_code == 304 and unchanged.content == b""
    # And with a date before it, the full answer comes back
    changed = _get(sf, path, **{"If-Modified-Since": "Wed, 3 Jul 2013 19:43:31 GMT"})
    assert changed.status_code == 200 and changed.json()


def test_describe_answers_carry_no_etag(org: tuple[Emulator, simple_salesforce.Salesforce]) -> None:
    """Source: REST API Developer Guide, "Conditional Request Headers"
    (developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/intro_rest_conditional_requests.htm):
    the ETag response header is returned by the sObject Rows resource only (Account records only); the
    describe resources are revalidated with If-Modified-Since, not with entity tags."""
    _, sf = org
    # When an object and the org are described
    answers = [_get(sf, "sobjects/Contact/describe"), _get(sf, "sobjects/")]
    # Then neither answer has an ETag
    assert [a.status_code for a in answers] == [200, 200]
    assert all("ETag" not in a.headers for a in answers)


def test_standard_picklists_describe_with_length_255(org: tuple[Emulator, simple_salesforce.Salesforce]) -> None:
    """Source: Salesforce Field Reference Guide, "Opportunity"
    (developer.salesforce.com/docs/atlas.en-us.228.0.sfFieldRef.meta/sfFieldRef/salesforce_field_reference_Opportunity.htm
    and the current field-reference page): ForecastCategoryName and LeadSource are picklists of length 255
    (ForecastCategory, not in the emulator, is 40). Editions of that guide up to API 32.0 listed 40 for both."""
    _, sf = org
    # When Opportunity is described
    fields = {f["name"]: f for f in sf.Opportunity.describe()["fields"]}
    # Then its standard picklists have length 255
    assert {name: fields[name]["length"] for name in ("ForecastCategoryName", "LeadSource")} == {
        "ForecastCategoryName": 255,
        "LeadSource": 255,
    }
    assert fields["LeadSource"]["type"] == fields["ForecastCategoryName"]["type"] == "picklist"


def test_people_name_their_event_and_email_relations(org: tuple[Emulator, simple_salesforce.Salesforce]) -> None:
    """Source: a recorded UI API object-info answer for User in the public repository
    salesforce/base-components-recipes, force-app/main/default/lwc/fieldUtils/__tests__/notperson.json:
    User's child relationships include EventRelation.RelationId as "EventRelations" and
    EmailMessageRelation.RelationId as "EmailMessageRelations". Contact and Lead, the other people those
    lookups point at, get the same names (one lookup field, one relationship name)."""
    _, sf = org
    for person in ("User", "Contact", "Lead"):
        # When a person object is described
        rels = {
            (r["childSObject"], r["field"]): r["relationshipName"]
            for r in sf.restful(f"sobjects/{person}/describe")["childRelationships"]
        }
        # Then the relation rows pointing at it are named
        assert rels[("EventRelation", "RelationId")] == "EventRelations", person
        assert rels[("EmailMessageRelation", "RelationId")] == "EmailMessageRelations", person
    # And the relationship can be queried from a contact
    answer = sf.query(
        "SELECT Id, (SELECT Id FROM EventRelations), (SELECT Id FROM EmailMessageRelations) FROM Contact LIMIT 1"
    )
    assert answer["records"][0]["EventRelations"] is None
    # And Account, which EventRelation.RelationId also reaches, gets no such name
    account = {
        (r["childSObject"], r["field"]): r["relationshipName"] for r in sf.Account.describe()["childRelationships"]
    }
    assert account.get(("EventRelation", "RelationId")) is None


@pytest.mark.parametrize("org", [{"schema": {"Deal_Review__c": {"label": "Deal Review"}}}], indirect=True)
def test_custom_objects_may_be_owned_by_a_group(org: tuple[Emulator, simple_salesforce.Salesforce]) -> None:
    """Source: a recorded UI API object info of the custom object TestObject__c in the public repository
    salesforce/base-components-recipes, force-app/main/default/lwc/fieldUtils/__tests__/lookupNotInPageLayout.json
    (custom: true; OwnerId: Reference, polymorphicForeignKey true, relationship Owner, referenceToInfos Group
    and User): a custom object's OwnerId is a polymorphic reference to Group (queues) and User."""
    _, sf = org
    # When a custom object is described
    owner = {f["name"]: f for f in sf.Deal_Review__c.describe()["fields"]}["OwnerId"]
    # Then OwnerId may point at a Group or a User
    assert owner["referenceTo"] == ["Group", "User"] and owner["polymorphicForeignKey"] is True
    assert owner["relationshipName"] == "Owner"
    # And standard objects keep their User owners
    account = {f["name"]: f for f in sf.Account.describe()["fields"]}["OwnerId"]
    assert account["referenceTo"] == ["User"] and account["polymorphicForeignKey"] is False


def _fields(sf: simple_salesforce.Salesforce, obj: str) -> dict[str, Any]:
    return {f["name"]: f for f in sf.restful(f"sobjects/{obj}/describe")["fields"]}


def test_stage_is_an_open_picklist_and_forecast_category_a_restricted_one(
    org: tuple[Emulator, simple_salesforce.Salesforce],
) -> None:
    """Sources: Object Reference, "Opportunity" (sforce_api_objects_opportunity.htm) as quoted on
    salesforce.stackexchange.com/questions/47367: ForecastCategory is called a "Restricted picklist field";
    StageName ("Required. Current stage of this record ...") is not. Object Reference "OpportunityStage"
    (developer.salesforce.com/docs/platform/object-reference/references/standard-objects/object-opportunitystage.html)
    and "ForecastingFact" mark the forecast category names a "Restricted picklist". Whether the Opportunity
    page itself lists "Restricted picklist" for ForecastCategoryName could not be read offline (docs/emulator.md
    says so). An unrestricted picklist stores a value outside its list as given."""
    _, sf = org
    # When Opportunity is described
    fields = _fields(sf, "Opportunity")
    # Then StageName is open and ForecastCategoryName restricted
    assert fields["StageName"]["restrictedPicklist"] is False
    assert fields["ForecastCategoryName"]["restrictedPicklist"] is True
    # And a stage the picklist does not list is saved, an open opportunity
    opp = sf.Opportunity.create({"Name": "Deal", "StageName": "Discovery Call", "CloseDate": "2026-12-31"})["id"]
    saved = sf.Opportunity.get(opp)
    assert (saved["StageName"], saved["IsClosed"], saved["IsWon"]) == ("Discovery Call", False, False)
    # But a forecast category outside the list is refused, and a listed one is kept
    refused = error_body(lambda: sf.Opportunity.update(opp, {"ForecastCategoryName": "Maybe"}))
    assert refused[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert refused[0]["message"] == "Forecast Category: bad value for restricted picklist field: Maybe"
    sf.Opportunity.update(opp, {"ForecastCategoryName": "Commit"})
    assert sf.Opportunity.get(opp)["ForecastCategoryName"] == "Commit"


def test_event_show_time_as_is_restricted(org: tuple[Emulator, simple_salesforce.Salesforce]) -> None:
    """Source: Object Reference, "Event" (sforce_api_objects_event.htm): ShowAs, label "Show Time As", a
    picklist of Busy, OutOfOffice and Free marked "Restricted picklist" and "Defaulted on create". The page
    is held in the reference corpus, but the ShowAs passage could not be retrieved offline (docs/emulator.md
    says so); the rule follows the object reference as it reads in a live describe."""
    _, sf = org
    # When Event is described
    show_as = _fields(sf, "Event")["ShowAs"]
    # Then ShowAs is a restricted picklist of three values, Busy by default
    assert show_as["restrictedPicklist"] is True
    assert [v["value"] for v in show_as["picklistValues"]] == ["Busy", "OutOfOffice", "Free"]
    assert [v["value"] for v in show_as["picklistValues"] if v["defaultValue"]] == ["Busy"]
    # And a value outside it is refused while a listed one is saved
    when = {"Subject": "Demo", "StartDateTime": "2026-11-20T15:00:00Z", "DurationInMinutes": 30}
    refused = error_body(lambda: sf.Event.create({**when, "ShowAs": "Tentative"}))
    assert refused[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    event = sf.Event.create({**when, "ShowAs": "Free"})["id"]
    assert sf.Event.get(event)["ShowAs"] == "Free"


def test_activity_subjects_are_comboboxes_that_suggest_values_and_take_any_text(
    org: tuple[Emulator, simple_salesforce.Salesforce],
) -> None:
    """Sources: Object Reference, "Task" and "Event": Subject is of type combobox, limit 255 characters;
    SOAP API Developer Guide, "Field Types" (a combobox offers enumerated values and accepts a value that is
    not among them). The suggested values are those of a new org (Setup, Task/Event Fields, Subject); no
    recorded describe was found to confirm them (docs/emulator.md), and a fixture's ``schema`` replaces them."""
    _, sf = org
    for obj, suggested in (("Task", ["Call", "Send Letter", "Send Quote", "Other"]),
                           ("Event", ["Call", "Email", "Meeting", "Send Letter/Quote", "Other"])):  # fmt: skip
        # When the activity object is described
        subject = _fields(sf, obj)["Subject"]
        # Then Subject is a combobox with suggestions, never restricted, 255 long
        assert subject["type"] == "combobox" and subject["restrictedPicklist"] is False, obj
        assert [v["value"] for v in subject["picklistValues"]] == suggested, obj
        assert subject["length"] == 255
    # And any text is a valid subject
    task = sf.Task.create({"Subject": "[Airspeed] Globex weekly — pricing follow-up"})["id"]
    assert sf.Task.get(task)["Subject"] == "[Airspeed] Globex weekly — pricing follow-up"


def test_a_queue_may_own_a_lead_but_not_a_contact(org: tuple[Emulator, simple_salesforce.Salesforce]) -> None:
    """Sources: Object Reference, "QueueSobject"
    (developer.salesforce.com/docs/platform/object-reference/references/standard-objects/object-queuesobject.html):
    a queue is a Group whose Type is Queue, mapped to the objects it may own; lead queues own leads and
    contacts cannot be assigned to them (Adobe Marketo's Salesforce sync, "Change Owner",
    experienceleague.adobe.com/en/docs/marketo/using/product-docs/core-marketo-concepts/smart-campaigns/salesforce-flow-actions/change-owner:
    "Salesforce does not allow contacts to be assigned to lead queues"). So Lead.OwnerId is a polymorphic
    reference to Group and User, Contact.OwnerId to User only."""
    _, sf = org
    # When Lead is described
    owner = _fields(sf, "Lead")["OwnerId"]
    # Then its owner may be a Group (queue) or a User
    assert owner["referenceTo"] == ["Group", "User"] and owner["polymorphicForeignKey"] is True
    assert _fields(sf, "Contact")["OwnerId"]["referenceTo"] == ["User"]
    # And a lead saved with a queue as owner names the queue through Owner
    queue = sf.Group.create({"Name": "Inbound Leads", "Type": "Queue"})["id"]
    lead = sf.Lead.create({"LastName": "Lee", "Company": "Startup", "OwnerId": queue})["id"]
    row = sf.query(f"SELECT Owner.Name FROM Lead WHERE Id = '{lead}'")["records"][0]
    assert row["Owner"]["Name"] == "Inbound Leads"
    # But a contact cannot be given to the queue
    refused = error_body(lambda: sf.Contact.create({"LastName": "Doe", "OwnerId": queue}))
    assert refused[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_account_rows_carry_an_etag_that_conditional_requests_check(
    org: tuple[Emulator, simple_salesforce.Salesforce],
) -> None:
    """Source: REST API Developer Guide, "Conditional Request Headers"
    (developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api/intro_rest_conditional_requests.htm) and
    "Get Records Using sObject Rows" / "Update Records Using sObject Rows": an Account record's GET and PATCH
    answer with an ETag (example ``"ddpAdaTHz+GcV35e7NLJ9iKD3XXVqAzXT1Sl2ykkP7g=--gzip"``); If-None-Match with
    a matching tag gives 304 Not Modified on GET and 412 Precondition Failed on PATCH; If-Match with no
    matching tag gives 412 and the request is not processed; the headers only have an effect on Account. The
    412 body's error code is not documented (the emulator answers PRECONDITION_FAILED)."""
    emu, sf = org
    account = emu.records("Account")[0]["Id"]
    url = f"sobjects/Account/{account}"
    # When an Account record is read
    first = _get(sf, url)
    tag = first.headers["ETag"]
    assert first.status_code == 200 and tag.startswith('"') and tag.endswith('--gzip"')
    # Then reading it again with that tag answers 304 without a body, with another tag the record
    unchanged = _get(sf, url, **{"If-None-Match": tag})
    assert (unchanged.status_code, unchanged.content, unchanged.headers["ETag"]) == (304, b"", tag)
    assert _get(sf, url, **{"If-None-Match": '"other--gzip"'}).status_code == 200
    # When it is updated with If-Match naming an old tag / Then 412 and nothing changes
    stale = sf.session.patch(
        sf.base_url + url, headers={**sf.headers, "If-Match": '"other--gzip"'}, json={"Name": "Globex 2"}
    )
    assert stale.status_code == 412 and sf.Account.get(account)["Name"] == "Globex"
    # When updated with the current tag / Then saved, with a new tag that a GET repeats
    fresh = sf.session.patch(sf.base_url + url, headers={**sf.headers, "If-Match": tag}, json={"Name": "Globex 2"})
    assert fresh.status_code == 204 and fresh.headers["ETag"] != tag
    assert _get(sf, url).headers["ETag"] == fresh.headers["ETag"]
    # And other objects carry no tag and ignore the headers
    contact = emu.records("Contact")[0]["Id"]
    plain = _get(sf, f"sobjects/Contact/{contact}", **{"If-Match": '"nothing--gzip"'})
    assert plain.status_code == 200 and "ETag" not in plain.headers


@pytest.mark.parametrize(
    "org", [{"schema": {"Event": {"fields": {"Subject": {"values": ["Discovery", "Demo"]}}}}}], indirect=True
)
def test_an_org_sets_its_own_subject_suggestions(org: tuple[Emulator, simple_salesforce.Salesforce]) -> None:
    """Source: as for the combobox rule above: the Subject suggestions are org configuration (Setup, Event
    Fields, Subject), so a fixture's ``schema`` replaces them; the field stays a combobox taking any text."""
    _, sf = org
    # When Event is described in an org that lists its own subjects
    subject = _fields(sf, "Event")["Subject"]
    # Then those are the suggestions, and other text is still a valid subject
    assert subject["type"] == "combobox" and [v["value"] for v in subject["picklistValues"]] == ["Discovery", "Demo"]
    when = {"StartDateTime": "2026-11-20T15:00:00Z", "DurationInMinutes": 30}
    assert sf.Event.create({**when, "Subject": "Quarterly review"})["success"] is True
