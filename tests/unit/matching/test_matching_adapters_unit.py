"""The Salesforce adapters' pure parts: the query plan (chunks, ≤5 queries, escaping) and save results."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from callsync.adapters.salesforce_match import SalesforceMatchReader
from callsync.adapters.salesforce_people import SalesforcePeopleWriter, interpret
from callsync.domain.matching import MatchInput
from callsync.errors import SalesforceRowLocked
from callsync.ports.match import MappedFields, MatchQuery, MatchRead

START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def query(emails: list[str], external: list[str] | None = None, **kw) -> MatchQuery:
    return MatchQuery(emails=tuple(emails), external_emails=tuple(external if external is not None else emails),
                      started_at=START, **kw)  # fmt: skip


def test_one_composite_of_five_queries_for_up_to_20_participants() -> None:
    # Given 20 participants and activity sync on
    emails = [f"p{i}@globex.com" for i in range(20)]
    plan = SalesforceMatchReader(None).plan(query(emails, activity_object="Task", activity_subjects=("T",)))  # type: ignore[arg-type]
    # Then one composite with Users, Contacts, Leads, Opportunities and the activity candidates
    assert len(plan) == 1
    assert [ref for ref, _ in plan[0]] == ["users0", "contacts0", "leads0", "opportunities0", "activities"]


def test_200_participants_are_chunked_by_20_with_activities_once() -> None:
    # Given 200 participants
    emails = [f"p{i}@globex.com" for i in range(200)]
    plan = SalesforceMatchReader(None).plan(query(emails, activity_object="Event", activity_subjects=("T",)))  # type: ignore[arg-type]
    # Then 10 composites, none over 5 queries, activity candidates read once
    assert len(plan) == 10
    assert all(len(c) <= 5 for c in plan)
    assert sum(ref == "activities" for c in plan for ref, _ in c) == 1
    # And every URI stays far below 16 KB
    assert max(len(soql) for c in plan for _, soql in c) < 8000


def test_internal_only_chunk_queries_users_only() -> None:
    plan = SalesforceMatchReader(None).plan(query(["a@ourco.com"], external=[]))  # type: ignore[arg-type]
    assert [ref for ref, _ in plan[0]] == ["users0"]


def test_injection_shaped_values_are_escaped() -> None:
    # Given an email with a quote that tries to close the string, and a subject with quotes and backslashes
    evil = "x' OR Name != '@globex.com"
    subject = "Q3 \\ 'review' \"now\""
    reader = SalesforceMatchReader(None)  # type: ignore[arg-type]
    plan = reader.plan(query([evil], activity_object="Task", activity_subjects=(subject,)))
    soql = dict(plan[0])
    # Then the quote is escaped inside the literal, never closing it
    assert "'x\\' OR Name != \\'@globex.com'" in soql["contacts0"]
    # and the activity is looked for by the words of its title: quotes and backslashes never reach the query
    assert soql["activities"].endswith("AND Subject LIKE '%q3%review%now%'")


def test_mapped_field_names_must_be_api_names_and_are_selected_once() -> None:
    reader = SalesforceMatchReader(None)  # type: ignore[arg-type]
    # Given a mapped field that is already a base field (any case), it is selected once
    soql = reader.account_opportunities_soql(query(["a@b.com"], fields=MappedFields(opportunity=("name", "Pain__c"))),
                                             ["a@b.com"])  # fmt: skip
    assert soql.count(", Name,") == 1 and ", name," not in soql and "Pain__c" in soql
    # Given something that is not an API name, it is refused
    with pytest.raises(ValueError, match="not a Salesforce field API name"):
        reader.contacts_soql(query(["a@b.com"], fields=MappedFields(contact=("Title FROM User --",))), ["a@b.com"])


def test_account_lookup_escapes_like_wildcards_and_quotes() -> None:
    soql = SalesforcePeopleWriter(None).accounts_soql(["my_co.com"], ["O'Brien & Co"])  # type: ignore[arg-type]
    assert "Website LIKE '%my\\_co.com%'" in soql and "Name IN ('O\\'Brien & Co')" in soql


@pytest.mark.parametrize("key", ["duplicateResult", "duplicateResut"])
def test_duplicates_detected_names_the_existing_record(key: str) -> None:
    # Given a collections result refused by a duplicate rule (either spelling of the key)
    result = {"success": False, "errors": [{
        "statusCode": "DUPLICATES_DETECTED", "message": "Use one of these records?", "fields": [],
        key: {"matchResults": [{"entityType": "Contact", "matchRecords": [{"record": {"Id": "003OLD"}}]}]},
    }]}  # fmt: skip
    # Then the outcome points at the existing record
    outcome = interpret(result, "Lead")
    assert outcome.duplicate_of == ("Contact", "003OLD") and not outcome.success


def test_other_errors_are_failed_or_retryable() -> None:
    failed = interpret({"success": False, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING", "message": "m"}]}, "Lead")
    assert (failed.error_code, failed.retryable) == ("REQUIRED_FIELD_MISSING", False)
    locked = interpret({"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "m"}]}, "Lead")
    assert locked.retryable and isinstance(locked.error, SalesforceRowLocked)
    ok = interpret({"success": True, "id": "003X", "errors": []}, "Contact")
    assert ok.success and ok.id == "003X"


def test_account_lookup_is_one_query_for_200_new_people_and_splits_only_when_too_long() -> None:
    writer = SalesforcePeopleWriter(None)  # type: ignore[arg-type]
    # Given 150 distinct domains and 50 company names (200 new people)
    domains = [f"company{i}.example" for i in range(150)]
    names = [f"Company {i}" for i in range(50)]
    statements = writer.lookup_statements(domains, names)
    # Then they fit in few statements, each short enough for a GET URI, and none is lost
    assert all(len(s) <= 6000 for s in statements)
    joined = " ".join(statements)
    assert all(f"'%{d}%'" in joined for d in domains) and all(f"'{n}'" in joined for n in names)
    # Given an ordinary call's handful of terms / Then exactly one statement
    assert len(writer.lookup_statements(["globex.com", "initech.com"], ["Globex"])) == 1


def test_a_record_with_mapped_fields_is_read_with_who_last_modified_it() -> None:
    reader = SalesforceMatchReader(None)  # type: ignore[arg-type]
    # Given NextStep mapped on the Opportunity and nothing on the Contact or Account
    q = query(["a@b.com"], fields=MappedFields(opportunity=("NextStep",)))
    opportunities = reader.account_opportunities_soql(q, ["a@b.com"])
    contacts = reader.contacts_soql(q, ["a@b.com"])
    # Then the Opportunity's select adds its modifier (LastModifiedDate once), in the same query
    select = opportunities.split(" FROM Opportunity")[0]
    assert "LastModifiedById, LastModifiedBy.Name" in select and select.count("LastModifiedDate") == 1
    assert "Opportunity.LastModifiedBy.Name" in contacts  # through the contact roles
    # And the records without mapped fields are read as before
    assert "Account.LastModifiedBy.Name" not in opportunities
    assert not contacts.startswith("SELECT Id, Name, Email, AccountId, LastModifiedDate, LastModifiedById")


def test_the_read_ahead_keeps_who_last_modified_each_record_beside_its_values() -> None:
    # Given an Opportunity row as Salesforce answers the match query, with NextStep mapped
    row = {
        "attributes": {"type": "Opportunity"}, "Id": "006A", "Name": "Globex", "NextStep": "Alice's plan",
        "LastModifiedById": "005ALICE", "LastModifiedDate": "2026-06-05T09:30:00.000+0000",
        "LastModifiedBy": {"attributes": {"type": "User"}, "Name": "Alice Rep"},
    }  # fmt: skip
    reader = SalesforceMatchReader(None)  # type: ignore[arg-type]
    read = MatchRead(data=MatchInput(started_at=START))
    # When parsed
    reader._parse("opportunities0", [row], query(["a@b.com"], fields=MappedFields(opportunity=("NextStep",))), read)
    # Then its values and its modifier are kept by record id
    assert read.values == {"006A": {"NextStep": "Alice's plan"}}
    modified = read.modified["006A"]
    assert (modified.by_id, modified.by_name, modified.at) == (
        "005ALICE", "Alice Rep", datetime(2026, 6, 5, 9, 30, tzinfo=UTC)
    )  # fmt: skip
