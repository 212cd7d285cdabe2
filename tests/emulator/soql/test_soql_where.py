"""WHERE: operators, null semantics, LIKE, boolean logic, joins, dates, type checks."""

from __future__ import annotations

import pytest
from callsync_dev.emulator.soql import SoqlError, run_query
from soql_org import ACME, ADA, BIG_DEAL, BOB, CARA, DAN, GLOBEX, INITECH, make_catalog


def ids(text: str) -> set[str]:
    return {r["Id"] for r in run_query(text, make_catalog()).records}


def contacts(where: str) -> set[str]:
    return ids(f"SELECT Id FROM Contact WHERE {where}")


def error_of(text: str) -> SoqlError:
    with pytest.raises(SoqlError) as raised:
        run_query(text, make_catalog())
    return raised.value


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Email = 'ada@acme.COM'", {ADA}),  # case-insensitive
        ("Email != 'ada@acme.com'", {BOB, CARA, DAN}),  # != keeps nulls
        ("Email <> 'ada@acme.com'", {BOB, CARA, DAN}),
        ("Email = null", {CARA}),
        ("Email != null", {ADA, BOB, DAN}),
        ("Email IN ('BOB@acme.com', 'dan@example.com', 'nobody@x.com')", {BOB, DAN}),
        ("Email IN ('bob@acme.com', null)", {BOB, CARA}),
        ("Email NOT IN ('bob@acme.com')", {ADA, CARA, DAN}),
        ("NumberOfCalls__c > 3", {BOB}),
        ("NumberOfCalls__c >= 3", {ADA, BOB}),
        ("NumberOfCalls__c < 3", {DAN}),  # null never compares
        ("NumberOfCalls__c <= 3.0", {ADA, DAN}),
        ("NumberOfCalls__c = 10.5", {BOB}),
        ("HasOptedOutOfEmail = true", {BOB}),
        ("HasOptedOutOfEmail = FALSE", {ADA, CARA, DAN}),
        ("LastName > 'm'", {DAN, BOB}),  # Noaccount, O'Brien (case-insensitive order)
        ("LastName = 'O\\'Brien'", {BOB}),
    ],
)
def test_comparison_operators(where: str, expected: set[str]) -> None:
    # Given a comparison / When the query runs / Then exactly the expected live contacts match
    assert contacts(where) == expected


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Name LIKE 'ada%'", {ADA}),
        ("Name LIKE '%O''%'".replace("''", "\\'"), {BOB}),
        ("Email LIKE '%@ACME.com'", {ADA, BOB}),
        ("FirstName LIKE '_da'", {ADA}),
        ("FirstName LIKE '_'", set()),
        ("LastName LIKE '100\\%\\_%'", {CARA}),
        ("LastName LIKE '100\\%x%'", set()),
        ("Email LIKE '%'", {ADA, BOB, DAN}),  # null never matches
        ("NOT Email LIKE '%acme%'", {CARA, DAN}),
    ],
)
def test_like(where: str, expected: set[str]) -> None:
    assert contacts(where) == expected


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Email LIKE '%acme%' AND HasOptedOutOfEmail = false", {ADA}),
        ("FirstName = 'Ada' OR FirstName = 'Cara' OR AccountId = null", {ADA, CARA, DAN}),
        ("(FirstName = 'Ada' OR FirstName = 'Bob') AND NumberOfCalls__c > 5", {BOB}),
        ("NOT (FirstName = 'Ada' OR FirstName = 'Bob')", {CARA, DAN}),
        ("NOT FirstName = 'Ada' AND Email != null", {BOB, DAN}),
        ("((Email = 'bob@acme.com'))", {BOB}),
    ],
)
def test_boolean_logic(where: str, expected: set[str]) -> None:
    assert contacts(where) == expected


def test_parent_fields_filter() -> None:
    # Given conditions on a parent and a grandparent
    assert contacts("Account.Name = 'ACME'") == {ADA, BOB}
    assert contacts("Account.Owner.Name LIKE 'olga%'") == {ADA, BOB, CARA}
    assert ids("SELECT Id FROM OpportunityContactRole WHERE Contact.Email = 'ada@acme.com'") == {"00K000000000001AAA"}
    # And a null parent makes the parent field null
    assert contacts("Account.Name = null") == {DAN}


def test_polymorphic_parent_in_where() -> None:
    assert ids("SELECT Id FROM Task WHERE What.Type = 'Opportunity'") == {"00T000000000001AAA"}
    assert ids("SELECT Id FROM Task WHERE Who.Name LIKE 'Lee%'") == {"00T000000000002AAA"}


def test_semi_join_and_anti_join() -> None:
    # Given accounts with and without contacts who have roles
    with_roles = ids(
        "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE Id IN "
        "('003000000000001AAA', '003000000000003AAA'))"
    )
    without_contacts = ids("SELECT Id FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact)")
    # Then the semi-join keeps the matching parents and the anti-join the others
    assert with_roles == {ACME, GLOBEX}
    assert without_contacts == {INITECH}
    # And a reference field can be the left side
    assert contacts("Id IN (SELECT ContactId FROM OpportunityContactRole WHERE IsPrimary = true)") == {ADA, CARA}
    assert ids("SELECT Id FROM Opportunity WHERE AccountId IN (SELECT Id FROM Account WHERE Name = 'acme')") == {
        BIG_DEAL
    }


def test_semi_join_misuse_is_refused() -> None:
    assert error_of("SELECT Id FROM Contact WHERE Email IN (SELECT Email FROM Lead)").error_code == "MALFORMED_QUERY"
    assert (
        error_of("SELECT Id FROM Account WHERE Id IN (SELECT Id, AccountId FROM Contact)").error_code
        == "MALFORMED_QUERY"
    )
    assert error_of("SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Nope)").error_code == "INVALID_TYPE"


def test_ids_match_in_15_and_18_characters() -> None:
    assert contacts(f"Id = '{ADA[:15]}'") == {ADA}
    assert contacts(f"AccountId IN ('{ACME[:15]}', '{GLOBEX.lower()}')") == {ADA, BOB, CARA}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Birthdate = 2026-11-20", {CARA}),
        ("Birthdate > 2026-11-20", {DAN}),
        ("Birthdate < 2000-01-01", {ADA}),
        ("Birthdate != 2026-11-20", {ADA, BOB, DAN}),
        ("CreatedDate >= 2026-11-13T23:59:59Z", {ADA, BOB}),
        ("CreatedDate > 2026-11-13T23:59:59.500Z", {ADA}),
        ("CreatedDate = 2026-11-20T10:30:00+01:00", {ADA}),  # same instant in another offset
        ("CreatedDate < 2026-11-13T15:59:59-0800", {CARA, DAN}),
        ("CreatedDate < 2026-11-13T16:00:00-0800", {BOB, CARA, DAN}),
    ],
)
def test_date_and_datetime_literals(where: str, expected: set[str]) -> None:
    assert contacts(where) == expected


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        # today is Friday 2026-11-20 (UTC)
        ("Birthdate = TODAY", {CARA}),
        ("CreatedDate = TODAY", {ADA}),  # datetime fields compare their UTC date
        ("Birthdate = TOMORROW", set()),
        ("Birthdate > TODAY", {DAN}),
        ("Birthdate <= TODAY", {ADA, CARA}),
        ("Birthdate = NEXT_N_DAYS:5", {DAN}),
        ("Birthdate = NEXT_N_DAYS:4", set()),
        ("CreatedDate = LAST_N_DAYS:7", {ADA, BOB}),
        ("CreatedDate = LAST_N_DAYS:6", {ADA}),
        ("CreatedDate != LAST_N_DAYS:7", {CARA, DAN}),
        ("CreatedDate = YESTERDAY", set()),
        ("CreatedDate = THIS_YEAR", {ADA, BOB, CARA}),
        ("CreatedDate = LAST_YEAR", {DAN}),
        ("CreatedDate < THIS_MONTH", {CARA, DAN}),
        ("Birthdate IN (TODAY, NEXT_N_DAYS:5)", {CARA, DAN}),
    ],
)
def test_relative_date_literals_on_dates_and_datetimes(where: str, expected: set[str]) -> None:
    assert contacts(where) == expected


@pytest.mark.parametrize(
    ("where", "word", "quotes"),
    [
        ("Birthdate = 2026-11-20T00:00:00Z", "date", "should not"),
        ("CreatedDate = 2026-11-20", "dateTime", "should not"),
        ("Birthdate = '2026-11-20'", "date", "should not"),
        ("Email = 5", "string", "should"),
        ("HasOptedOutOfEmail = 'true'", "boolean", "should not"),
        ("NumberOfCalls__c = '3'", "double", "should not"),
        ("Id = 3", "id", "should"),
    ],
)
def test_literal_of_the_wrong_type_is_invalid_field(where: str, word: str, quotes: str) -> None:
    error = error_of(f"SELECT Id FROM Contact WHERE {where}")
    assert error.error_code == "INVALID_FIELD"
    field_name = where.split()[0]
    assert error.detail == (
        f"value of filter criterion for field '{field_name}' must be of type {word} and {quotes} be enclosed in quotes"
    )


def test_non_filterable_field_is_refused_in_where_and_order_by() -> None:
    error = error_of("SELECT Id FROM Task WHERE Subject = 'x' AND Description LIKE '%x%'")
    assert error.error_code == "INVALID_FIELD"
    assert error.detail == "field 'Description' can not be filtered in a query call"
    assert error_of("SELECT Id FROM Task ORDER BY Description").error_code == "INVALID_FIELD"
    # But it can be selected
    notes = run_query("SELECT Description FROM Task WHERE Subject = 'Call Ada'", make_catalog()).records
    assert notes[0]["Description"] == "long notes"


def test_operator_misuse_is_refused() -> None:
    assert error_of("SELECT Id FROM Contact WHERE NumberOfCalls__c LIKE '1%'").error_code == "INVALID_FIELD"
    assert error_of("SELECT Id FROM Contact WHERE HasOptedOutOfEmail > false").error_code == "INVALID_FIELD"
    assert error_of("SELECT Id FROM Contact WHERE Email INCLUDES ('a')").error_code == "INVALID_FIELD"


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Languages__c INCLUDES ('english')", {ADA, DAN}),
        ("Languages__c INCLUDES ('English;Spanish', 'German')", {BOB, DAN}),
        ("Languages__c EXCLUDES ('French')", {BOB, CARA}),
        ("Languages__c = 'french;english'", {ADA}),  # the same set, any order
        ("Languages__c != 'English;French'", {BOB, CARA, DAN}),
    ],
)
def test_multipicklist_operators(where: str, expected: set[str]) -> None:
    assert contacts(where) == expected


def test_in_list_mixing_date_ranges_and_dates() -> None:
    assert contacts("Birthdate IN (TODAY, 1990-12-10)") == {ADA, CARA}
    assert contacts("Birthdate NOT IN (TODAY, 1990-12-10)") == {BOB, DAN}


def test_three_way_and_or() -> None:
    assert contacts("Email != null AND HasOptedOutOfEmail = false AND NumberOfCalls__c < 5") == {ADA, DAN}
    assert contacts("FirstName = 'Ada' OR FirstName = 'Bob' OR FirstName = 'Cara' OR LastName = 'x'") == {
        ADA,
        BOB,
        CARA,
    }


@pytest.mark.parametrize("where", ["Id = 'not-an-id'", "AccountId IN ('001000000000001AAA', 'abc')"])
def test_malformed_id_values_are_refused_like_salesforce(where: str) -> None:
    error = error_of(f"SELECT Id FROM Contact WHERE {where}")
    assert error.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    assert error.detail.startswith("invalid ID field: ")


def test_empty_id_value_matches_nothing() -> None:
    assert contacts("AccountId = ''") == set()
