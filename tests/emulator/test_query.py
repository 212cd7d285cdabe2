"""query and queryAll: 2,000-row pages, nextRecordsUrl, relationships, SOQL errors."""

from __future__ import annotations

import pytest
import simple_salesforce
from callsync_dev.emulator import Emulator
from callsync_dev.emulator.testing import salesforce_client
from simple_salesforce import format_soql
from simple_salesforce.exceptions import SalesforceMalformedRequest

BIG_ORG = {"records": {"Contact": [{"LastName": f"C{i:05d}", "Email": f"c{i}@big.example"} for i in range(4500)]}}


@pytest.fixture(scope="module")
def big() -> Emulator:
    emu = Emulator.from_fixture(BIG_ORG).start()
    yield emu  # type: ignore[misc]
    emu.stop()


def test_pages_of_2000_with_next_records_url(big: Emulator) -> None:
    sf = salesforce_client(big.connection)
    big.reset_api_requests()
    # When 4,500 contacts are queried
    first = sf.query("SELECT Id, LastName FROM Contact ORDER BY LastName")
    # Then the first page has 2,000 rows, a relative nextRecordsUrl, and the total
    assert (first["totalSize"], first["done"], len(first["records"])) == (4500, False, 2000)
    assert first["nextRecordsUrl"].startswith("/services/data/v62.0/query/")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert (second["done"], len(second["records"])) == (False, 2000)
    third = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)
    assert third["done"] is True and "nextRecordsUrl" not in third and len(third["records"]) == 500
    assert third["records"][-1]["LastName"] == "C04499"
    # And each page counted as one API request; query_all follows the pages itself
    assert big.api_requests == 3
    assert len(sf.query_all("SELECT Id FROM Contact")["records"]) == 4500


def test_email_in_query_is_case_insensitive(big: Emulator) -> None:
    sf = salesforce_client(big.connection)
    # When contacts are looked up by a list of emails in another case
    emails = [f"C{i}@BIG.example" for i in (1, 2, 4499)] + ["nobody@nowhere.example"]
    result = sf.query(format_soql("SELECT Id, Email FROM Contact WHERE Email IN {}", emails))
    # Then the three that exist are found
    assert sorted(r["Email"] for r in result["records"]) == ["c1@big.example", "c2@big.example", "c4499@big.example"]


def test_parent_and_child_relationships(sf: simple_salesforce.Salesforce) -> None:
    # When an account is queried with its contacts and opportunities, and contacts with their roles
    account = sf.query(
        "SELECT Name, (SELECT Name FROM Contacts), (SELECT Name, StageName FROM Opportunities) FROM Account"
    )["records"][0]
    contact = sf.query("SELECT Account.Name, (SELECT Role, IsPrimary FROM OpportunityContactRoles) FROM Contact")[
        "records"
    ][0]
    opp = sf.query("SELECT Name, (SELECT Contact.Email FROM OpportunityContactRoles) FROM Opportunity")["records"][0]
    # Then nested results have Salesforce's shape
    assert account["Contacts"]["records"][0]["Name"] == "Hank Scorpio"
    assert account["Opportunities"]["totalSize"] == 1
    assert contact["Account"]["Name"] == "Globex"
    assert contact["OpportunityContactRoles"]["records"][0]["Role"] == "Decision Maker"
    assert opp["OpportunityContactRoles"]["records"][0]["Contact"]["Email"] == "Hank@Globex.com"


def test_query_all_includes_deleted(sf: simple_salesforce.Salesforce) -> None:
    # Given a deleted task
    task_id = sf.Task.create({"Subject": "gone"})["id"]
    sf.Task.delete(task_id)
    # When query and queryAll look for it
    live = sf.query("SELECT Id FROM Task WHERE Subject = 'gone'")
    everything = sf.query_all("SELECT Id, IsDeleted FROM Task WHERE Subject = 'gone'", include_deleted=True)
    # Then only queryAll returns it
    assert live["totalSize"] == 0
    assert everything["records"][0]["IsDeleted"] is True


def test_soql_errors(sf: simple_salesforce.Salesforce) -> None:
    cases = {
        "SELECT Id FROM Nope__c": "INVALID_TYPE",
        "SELECT Nope FROM Contact": "INVALID_FIELD",
        "SELEKT Id FROM Contact": "MALFORMED_QUERY",
        "SELECT Id FROM Task WHERE Description = 'x'": None,
    }
    for text, code in cases.items():
        # When a bad query is sent
        with pytest.raises(SalesforceMalformedRequest) as info:
            sf.query(text)
        # Then 400 with the engine's error code
        if code:
            assert info.value.content[0]["errorCode"] == code, text


def test_invalid_query_locator(sf: simple_salesforce.Salesforce) -> None:
    # When a made-up locator is followed
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query_more("01gdeadbeef-2000")
    # Then INVALID_QUERY_LOCATOR
    assert info.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_request_uris_over_16_kb_are_refused(sf: simple_salesforce.Salesforce) -> None:
    # Given an IN list too long for one GET
    emails = [f"someone{i}@a-rather-long-domain-name.example" for i in range(600)]
    text = format_soql("SELECT Id FROM Contact WHERE Email IN {}", emails)
    # When it is sent as one query, directly or as a composite subrequest
    with pytest.raises(simple_salesforce.exceptions.SalesforceGeneralError) as info:
        sf.query(text)
    sub = sf.restful(
        "composite",
        method="POST",
        json={
            "compositeRequest": [
                {"method": "GET", "url": "/services/data/v62.0/query/?q=" + text.replace(" ", "+"), "referenceId": "q"}
            ]
        },
    )
    # Then 414, while half the list passes
    assert info.value.status == 414
    assert sub["compositeResponse"][0]["httpStatusCode"] == 414
    assert sf.query(format_soql("SELECT Id FROM Contact WHERE Email IN {}", emails[:200]))["totalSize"] == 0


EMAIL_ORG = {"records": {
    "Account": [{"Id": "globex", "Name": "Globex"}],
    "Contact": [{"Id": "raj", "LastName": "Patel", "Email": "raj@globex.example", "AccountId": "globex"}],
    "Lead": [{"Id": "lee", "LastName": "Lee", "Email": "lee@elsewhere.example", "Company": "Elsewhere"}],
    "EmailMessage": [{"Id": "to-raj", "Subject": "SSO", "Status": "3", "MessageDate": "2026-11-15T11:00:00Z"},
                     {"Id": "to-globex", "Subject": "Renewal", "Status": "3", "RelatedToId": "globex",
                      "MessageDate": "2026-11-10T08:00:00Z"}],
    "EmailMessageRelation": [{"EmailMessageId": "to-raj", "RelationId": "raj", "RelationType": "ToAddress"},
                             {"EmailMessageId": "to-raj", "RelationId": "lee", "RelationType": "CcAddress"}],
}}  # fmt: skip


def test_emails_reach_people_through_email_message_relation_not_an_emails_relationship() -> None:
    emu = Emulator.from_fixture(EMAIL_ORG).start()
    try:
        sf = salesforce_client(emu.connection)
        # When Contact is asked for an Emails child relationship (RelatedToId never points at people)
        with pytest.raises(SalesforceMalformedRequest) as info:
            sf.query("SELECT Id, (SELECT Id FROM Emails) FROM Contact")
        # Then the query is refused as a real org refuses it (an unknown child relationship is INVALID_TYPE)
        error = info.value.content[0]
        assert error["errorCode"] == "INVALID_TYPE" and "Didn't understand relationship 'Emails'" in error["message"]
        # And an Account still has its Emails (EmailMessage.RelatedToId)
        account = sf.query("SELECT Name, (SELECT Subject FROM Emails) FROM Account")["records"][0]
        assert [e["Subject"] for e in account["Emails"]["records"]] == ["Renewal"]
        # And the relations carry the derived object type and the person's address
        rows = sf.query("SELECT RelationType, RelationAddress, RelationObjectType FROM EmailMessageRelation "
                        "ORDER BY RelationType DESC")["records"]  # fmt: skip
        assert [(r["RelationType"], r["RelationAddress"], r["RelationObjectType"]) for r in rows] == [
            ("ToAddress", "raj@globex.example", "Contact"),
            ("CcAddress", "lee@elsewhere.example", "Lead"),
        ]
        # And a Contact's emails are found with a semi-join on EmailMessageRelation, with their relations
        found = sf.query(
            format_soql(
                "SELECT Subject, (SELECT RelationId FROM EmailMessageRelations WHERE RelationObjectType = 'Contact')"
                " FROM EmailMessage WHERE Id IN (SELECT EmailMessageId FROM EmailMessageRelation"
                " WHERE RelationAddress IN {} AND RelationObjectType = 'Contact')",
                ["RAJ@globex.example"],
            )
        )["records"]
        assert [(e["Subject"], [r["RelationId"] for r in e["EmailMessageRelations"]["records"]]) for e in found] == [
            ("SSO", [next(r["Id"] for r in emu.records("Contact"))])
        ]
        # And an EmailMessage cannot be related to a Contact
        with pytest.raises(simple_salesforce.exceptions.SalesforceError) as created:
            sf.EmailMessage.create({"Subject": "x", "Status": "3", "RelatedToId": emu.records("Contact")[0]["Id"]})
        assert created.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    finally:
        emu.stop()
