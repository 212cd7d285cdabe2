"""The SOQL features callsync relies on, end to end through simple-salesforce over HTTPS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import simple_salesforce
from callsync_dev.emulator import Emulator
from simple_salesforce import format_soql
from simple_salesforce.exceptions import SalesforceMalformedRequest


def test_semi_join_like_order_limit_offset(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    # Given two more accounts, one with a contact
    other = sf.Account.create({"Name": "Acme Corp"})["id"]
    sf.Account.create({"Name": "Zeta"})
    sf.Contact.create({"LastName": "Road", "AccountId": other, "Email": "road@acme.example"})
    # When accounts with contacts are found by a semi-join, and accounts are paged by name
    with_contacts = sf.query("SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact) ORDER BY Name")
    page = sf.query("SELECT Name FROM Account ORDER BY Name DESC LIMIT 2 OFFSET 1")
    like = sf.query(format_soql("SELECT Name FROM Account WHERE Name LIKE '{:like}%'", "ACME"))
    # Then the results are Salesforce's
    assert [r["Name"] for r in with_contacts["records"]] == ["Acme Corp", "Globex"]
    assert [r["Name"] for r in page["records"]] == ["Globex", "Acme Corp"]
    assert [r["Name"] for r in like["records"]] == ["Acme Corp"]


def test_count_and_escaping(sf: simple_salesforce.Salesforce) -> None:
    # Given a contact whose name needs escaping
    sf.Contact.create({"LastName": "O'Brien \\ Sons"})
    # When it is found with format_soql and counted
    found = sf.query(format_soql("SELECT Name FROM Contact WHERE LastName = {}", "O'Brien \\ Sons"))
    count = sf.query("SELECT COUNT() FROM Contact")
    # Then the quote and backslash survive, and COUNT() has a size but no records
    assert found["records"][0]["Name"] == "O'Brien \\ Sons"
    assert count["totalSize"] == 2 and count["records"] == []


def test_date_literals_and_datetime_ranges(sf: simple_salesforce.Salesforce) -> None:
    today = datetime.now(UTC).date()
    now = datetime.now(UTC).replace(microsecond=0)
    # Given tasks due today and long ago, and an event starting now
    sf.Task.create({"Subject": "today", "ActivityDate": today.isoformat()})
    sf.Task.create({"Subject": "old", "ActivityDate": (today - timedelta(days=400)).isoformat()})
    sf.Event.create({"Subject": "now", "StartDateTime": now.isoformat(), "DurationInMinutes": 30})
    # When they are filtered with TODAY, LAST_N_DAYS and a datetime range built by format_soql
    due_today = sf.query("SELECT Subject FROM Task WHERE ActivityDate = TODAY")
    recent = sf.query("SELECT Subject FROM Task WHERE ActivityDate = LAST_N_DAYS:30")
    window = sf.query(
        format_soql(
            "SELECT Subject FROM Event WHERE StartDateTime >= {} AND StartDateTime <= {}",
            now - timedelta(hours=1),
            now + timedelta(hours=1),
        )
    )
    # Then only the matching rows come back
    assert [r["Subject"] for r in due_today["records"]] == ["today"]
    assert [r["Subject"] for r in recent["records"]] == ["today"]
    assert [r["Subject"] for r in window["records"]] == ["now"]


def test_polymorphic_parents(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    opp = emulator.records("Opportunity")[0]
    contact = emulator.records("Contact")[0]
    # Given a task on an opportunity and a contact
    sf.Task.create({"Subject": "poly", "WhatId": opp["Id"], "WhoId": contact["Id"]})
    # When What and Who fields are selected
    record = sf.query("SELECT What.Name, Who.Name, Account.Name FROM Task WHERE Subject = 'poly'")["records"][0]
    # Then they resolve to the right objects
    assert record["What"]["Name"] == "Globex expansion" and record["Who"]["Name"] == "Hank Scorpio"
    assert record["Account"]["Name"] == "Globex"


def test_long_text_cannot_be_filtered_and_date_types_do_not_mix(sf: simple_salesforce.Salesforce) -> None:
    for text in (
        "SELECT Id FROM Task WHERE Description = 'x'",
        "SELECT Id FROM Task WHERE ActivityDate = 2026-11-20T15:00:00Z",
    ):
        # When a long text area is filtered, or a date compared with a datetime
        with pytest.raises(SalesforceMalformedRequest) as info:
            sf.query(text)
        # Then the query is refused with a 400 error list
        assert info.value.content[0]["errorCode"] in (
            "INVALID_FIELD",
            "MALFORMED_QUERY",
            "INVALID_QUERY_FILTER_OPERATOR",
        )


def test_content_document_link_subquery_and_filters(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    opp_id = emulator.records("Opportunity")[0]["Id"]
    note_id = sf.ContentNote.create({"Title": "N", "Content": "PHA+bjwvcD4="})["id"]
    sf.ContentDocumentLink.create({"ContentDocumentId": note_id, "LinkedEntityId": opp_id})
    # When links are queried by IN on LinkedEntityId with a parent field, and as a child subquery
    links = sf.query(
        format_soql(
            "SELECT ContentDocumentId, ContentDocument.Title FROM ContentDocumentLink WHERE LinkedEntityId IN {}",
            [opp_id],
        )
    )
    child = sf.query(
        format_soql(
            "SELECT Id, (SELECT ContentDocumentId FROM ContentDocumentLinks) FROM Opportunity WHERE Id = {}", opp_id
        )
    )
    # Then both find the note
    assert links["records"][0]["ContentDocument"]["Title"] == "N"
    assert child["records"][0]["ContentDocumentLinks"]["records"][0]["ContentDocumentId"] == note_id
