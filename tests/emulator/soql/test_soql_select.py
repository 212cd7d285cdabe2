"""SELECT, FROM and the JSON shape of records: fields, parents, children, COUNT(), errors."""

from __future__ import annotations

from typing import Any

import pytest
from callsync_dev.emulator.soql import QueryResult, SoqlError, run_query
from soql_org import ACME, ADA, BIG_DEAL, BOB, CARA, DAN, EVE, GLOBEX, LEAD, make_catalog


def run(text: str, **kwargs: Any) -> QueryResult:
    return run_query(text, make_catalog(), **kwargs)


def by_id(result: QueryResult) -> dict[str, dict[str, Any]]:
    return {r["Id"]: r for r in result.records}


def error_of(text: str) -> SoqlError:
    with pytest.raises(SoqlError) as raised:
        run(text)
    return raised.value


def test_plain_fields_in_canonical_case_and_select_order() -> None:
    # Given a query naming fields in any case
    result = run(f"select email, ID, lastname from CONTACT where id = '{ADA}'")
    # Then one record comes back, keys spelled as in the schema and in SELECT order, after attributes
    assert result.total_size == 1
    record = result.records[0]
    assert list(record) == ["attributes", "Email", "Id", "LastName"]
    assert record["attributes"] == {"type": "Contact", "url": f"/services/data/v62.0/sobjects/Contact/{ADA}"}
    assert (record["Email"], record["Id"], record["LastName"]) == ("Ada@Acme.com", ADA, "Lovelace")


def test_values_serialize_like_salesforce_json() -> None:
    # Given fields of every value type
    record = by_id(
        run(
            "SELECT Id, Birthdate, CreatedDate, HasOptedOutOfEmail, NumberOfCalls__c, Languages__c, "
            "FirstName FROM Contact"
        )
    )
    # Then dates, datetimes, numbers, booleans, multipicklists and nulls have Salesforce's JSON form
    ada, bob, dan = record[ADA], record[BOB], record[DAN]
    assert ada["Birthdate"] == "1990-12-10"
    assert ada["CreatedDate"] == "2026-11-20T09:30:00.000+0000"
    assert bob["CreatedDate"] == "2026-11-13T23:59:59.500+0000"
    assert (ada["HasOptedOutOfEmail"], bob["HasOptedOutOfEmail"]) == (False, True)
    assert (ada["NumberOfCalls__c"], bob["NumberOfCalls__c"]) == (3, 10.5)
    assert ada["Languages__c"] == "English;French"
    assert (bob["Birthdate"], dan["FirstName"]) == (None, None)


def test_api_version_goes_into_attribute_urls() -> None:
    result = run(f"SELECT Id FROM Account WHERE Id = '{ACME}'", api_version="58.0")
    assert result.records[0]["attributes"]["url"] == f"/services/data/v58.0/sobjects/Account/{ACME}"


def test_parent_fields_nest_up_to_two_levels_and_null_lookups_are_null() -> None:
    # Given parent fields one and two levels up
    records = by_id(run("SELECT Id, account.name, Account.Owner.Name, Account.Owner.Email FROM Contact"))
    # Then they nest under the relationship names, with the parent's attributes
    assert records[ADA]["Account"] == {
        "attributes": {"type": "Account", "url": f"/services/data/v62.0/sobjects/Account/{ACME}"},
        "Name": "Acme",
        "Owner": {
            "attributes": {"type": "User", "url": "/services/data/v62.0/sobjects/User/005000000000001AAA"},
            "Name": "Olga Owner",
            "Email": "olga@example.com",
        },
    }
    # And a contact without an account has Account null
    assert records[DAN]["Account"] is None


def test_grandparent_of_a_role_through_the_opportunity() -> None:
    # Given a path through two relationships from a child object
    result = run(
        f"SELECT Opportunity.Account.Name, Contact.Email FROM OpportunityContactRole WHERE ContactId = '{ADA}'"
    )
    # Then both parents are there
    record = result.records[0]
    assert record["Opportunity"]["Account"]["Name"] == "Acme"
    assert record["Contact"]["Email"] == "Ada@Acme.com"


def test_parent_that_is_missing_is_null() -> None:
    # Given an account whose owner is null
    result = run("SELECT Name, Owner.Name FROM Account WHERE Name = 'Initech'")
    # Then Owner is null
    assert result.records[0]["Owner"] is None


def test_polymorphic_parents_resolve_by_id() -> None:
    # Given tasks whose What/Who point at different objects
    records = {r["Subject"]: r for r in run("SELECT Subject, Who.Name, What.Name, What.Type FROM Task").records}
    # Then each parent carries its own type
    assert records["Call Ada"]["Who"]["attributes"]["type"] == "Contact"
    assert records["Call Ada"]["Who"]["Name"] == "Ada Lovelace"
    assert records["Call Ada"]["What"]["Name"] == "Big deal"
    assert records["Call Ada"]["What"]["Type"] == "Opportunity"
    assert records["Call Lee"]["Who"]["attributes"] == {
        "type": "Lead",
        "url": f"/services/data/v62.0/sobjects/Lead/{LEAD}",
    }
    assert records["Call Lee"]["What"]["Type"] == "Account"
    assert records["Note"]["Who"] is None and records["Note"]["What"] is None


def test_child_subquery_with_where_order_and_limit() -> None:
    # Given a child relationship query with filters
    records = by_id(
        run(
            "SELECT Id, (SELECT Contact.LastName, IsPrimary FROM OpportunityContactRoles "
            "WHERE Role != null ORDER BY Contact.LastName DESC LIMIT 5) FROM Opportunity"
        )
    )
    # Then children nest as a query result, filtered, ordered and limited per parent
    big = records[BIG_DEAL]["OpportunityContactRoles"]
    assert big["totalSize"] == 2 and big["done"] is True
    assert [(r["Contact"]["LastName"], r["IsPrimary"]) for r in big["records"]] == [
        ("O'Brien", False),
        ("Lovelace", True),
    ]
    assert big["records"][0]["attributes"]["type"] == "OpportunityContactRole"
    # And a parent with no matching child has null, not an empty list
    small = next(r for i, r in records.items() if i != BIG_DEAL)
    assert small["OpportunityContactRoles"] is None


def test_child_subquery_limit_applies_per_parent() -> None:
    records = by_id(run("SELECT Id, (SELECT Id FROM OpportunityContactRoles ORDER BY Role LIMIT 1) FROM Opportunity"))
    assert records[BIG_DEAL]["OpportunityContactRoles"]["totalSize"] == 1
    assert all(r["OpportunityContactRoles"]["totalSize"] == 1 for r in records.values())


def test_count_returns_no_records_and_the_count() -> None:
    # Given COUNT() with a filter
    result = run("SELECT COUNT() FROM Contact WHERE AccountId = null OR Email LIKE '%acme%'")
    # Then only the size is returned (the deleted contact is not counted)
    assert result.records == []
    assert result.total_size == 3


def test_count_honours_limit() -> None:
    assert run("SELECT COUNT() FROM Contact LIMIT 2").total_size == 2


def test_deleted_rows_only_with_include_deleted() -> None:
    # Given a deleted contact
    live = by_id(run("SELECT Id FROM Contact"))
    everything = by_id(run("SELECT Id FROM Contact", include_deleted=True))
    # Then only queryAll sees it
    assert EVE not in live and EVE in everything
    assert set(everything) - set(live) == {EVE}


def test_unknown_object_is_invalid_type() -> None:
    error = error_of("SELECT Id FROM Foo")
    assert error.error_code == "INVALID_TYPE"
    assert error.detail.startswith("sObject type 'Foo' is not supported.")
    assert "ERROR at Row:1:Column:16" in error.message


@pytest.mark.parametrize(
    "text",
    [
        "SELECT Id, Foo FROM Contact",
        "SELECT Id FROM Contact WHERE Foo = 'x'",
        "SELECT Id FROM Contact ORDER BY Foo",
    ],
)
def test_unknown_field_is_invalid_field(text: str) -> None:
    error = error_of(text)
    assert error.error_code == "INVALID_FIELD"
    assert error.detail == (
        "No such column 'Foo' on entity 'Contact'. If you are attempting to use a custom field, be sure to "
        "append the '__c' after the custom field name. Please reference your WSDL or the describe call for "
        "the appropriate names."
    )


def test_unknown_parent_field_names_the_parent_entity() -> None:
    error = error_of("SELECT Account.Foo FROM Contact")
    assert error.error_code == "INVALID_FIELD"
    assert error.detail.startswith("No such column 'Foo' on entity 'Account'.")


@pytest.mark.parametrize(
    "text", ["SELECT Foo.Name FROM Contact", "SELECT Email.Name FROM Contact", "SELECT Account.Foo.Name FROM Contact"]
)
def test_unknown_relationship_is_invalid_field(text: str) -> None:
    error = error_of(text)
    assert error.error_code == "INVALID_FIELD"
    assert error.detail.startswith("Didn't understand relationship '")
    assert "in field path." in error.detail


def test_unknown_child_relationship_is_invalid_type() -> None:
    error = error_of("SELECT Id, (SELECT Id FROM Cases) FROM Contact")
    assert error.error_code == "INVALID_TYPE"
    assert error.detail.startswith("Didn't understand relationship 'Cases' in FROM part of query call.")


def test_relationship_name_alone_is_not_a_column() -> None:
    error = error_of("SELECT Account FROM Contact")
    assert error.error_code == "INVALID_FIELD"
    assert "No such column 'Account'" in error.detail


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("SELECT Id, id FROM Contact", "duplicate field selected: Id"),
        ("SELECT COUNT(), Id FROM Contact", "COUNT() must be the only element"),
        ("SELECT COUNT(Id) FROM Contact", "aggregate queries"),
    ],
)
def test_select_list_misuse_is_malformed(text: str, fragment: str) -> None:
    error = error_of(text)
    assert error.error_code == "MALFORMED_QUERY"
    assert fragment in error.detail


def test_object_name_prefix_on_own_fields_is_allowed() -> None:
    result = run(f"SELECT Contact.Email FROM Contact WHERE Contact.Id = '{CARA}'")
    assert result.records[0]["Email"] is None
    assert run(f"SELECT Id FROM Account WHERE Id = '{GLOBEX}'").total_size == 1


def test_children_through_a_polymorphic_lookup() -> None:
    # Given tasks whose WhatId points at an opportunity
    records = by_id(run("SELECT Id, (SELECT Subject, Who.Name FROM Tasks) FROM Opportunity"))
    # Then the opportunity lists them as children
    tasks = records[BIG_DEAL]["Tasks"]
    assert tasks["totalSize"] == 1
    assert tasks["records"][0]["Subject"] == "Call Ada"
    assert tasks["records"][0]["Who"]["Name"] == "Ada Lovelace"


def test_child_subquery_errors_are_checked_against_the_child_object() -> None:
    error = error_of("SELECT Id, (SELECT Foo FROM OpportunityContactRoles) FROM Contact")
    assert error.error_code == "INVALID_FIELD"
    assert error.detail.startswith("No such column 'Foo' on entity 'OpportunityContactRole'.")
    assert (
        error_of("SELECT Id, (SELECT COUNT() FROM OpportunityContactRoles) FROM Contact").error_code
        == "MALFORMED_QUERY"
    )


def test_from_alias_may_prefix_field_paths() -> None:
    # Given an aliased object
    result = run(
        "SELECT c.Id, c.Account.Name, Email FROM Contact c WHERE c.Email LIKE '%acme%' ORDER BY c.LastName DESC"
    )
    # Then the alias is dropped from output keys and paths resolve on Contact
    assert [list(r) for r in result.records] == [["attributes", "Id", "Account", "Email"]] * 2
    assert [r["Id"] for r in result.records] == [BOB, ADA]
    assert result.records[0]["Account"]["Name"] == "Acme"


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("SELECT AccountId FROM Contact GROUP BY AccountId", "GROUP"),
        ("SELECT Id FROM Contact WITH SECURITY_ENFORCED", "WITH"),
    ],
)
def test_unsupported_clauses_are_unexpected_tokens(text: str, token: str) -> None:
    error = error_of(text)
    assert error.error_code == "MALFORMED_QUERY"
    assert error.detail == f"unexpected token: '{token}'"
