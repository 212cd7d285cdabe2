"""The SOQL parser: AST shape, literals, and Salesforce-shaped syntax errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from callsync_dev.emulator.soql import SoqlError, nodes, parse


def where_of(text: str) -> nodes.Condition:
    condition = parse(text).where
    assert condition is not None
    return condition


def test_full_query_becomes_dataclasses() -> None:
    # Given a query with every clause, keywords in mixed case
    text = (
        "select Id, Account.Name, (SELECT Id FROM OpportunityContactRoles WHERE IsPrimary = TRUE "
        "order by Role limit 1) FROM Contact where Email != null Order By LastName desc nulls first, "
        "Id LIMIT 10 offset 5"
    )
    # When it is parsed
    query = parse(text)
    # Then each clause is in the AST
    assert query.object_name == "Contact"
    assert query.select[0] == nodes.FieldPath(("Id",), (1, 8))
    assert isinstance(query.select[1], nodes.FieldPath) and query.select[1].parts == ("Account", "Name")
    sub = query.select[2]
    assert isinstance(sub, nodes.SubQuery)
    assert sub.query.object_name == "OpportunityContactRoles" and sub.query.limit == 1
    assert query.where == nodes.Comparison(
        nodes.FieldPath(("Email",), query.where.field.position),  # type: ignore[union-attr]
        "!=",
        nodes.Literal("null", None, "null"),
    )
    assert [(k.field.parts, k.descending, k.nulls_first) for k in query.order_by] == [
        (("LastName",), True, True),
        (("Id",), False, True),
    ]
    assert (query.limit, query.offset) == (10, 5)


def test_order_by_defaults_follow_salesforce() -> None:
    # Given ORDER BY keys without NULLS
    keys = parse("SELECT Id FROM Contact ORDER BY Name ASC, Email DESC, Phone").order_by
    # Then ASC sorts nulls first and DESC nulls last
    assert [(k.descending, k.nulls_first) for k in keys] == [(False, True), (True, False), (False, True)]


def test_string_escapes_are_decoded() -> None:
    # Given a string with every escape SOQL knows
    cond = where_of(r"SELECT Id FROM Contact WHERE Name = 'O\'Brien \\ \" \n\r\t\b\f \u00e9'")
    # Then the literal holds the decoded text
    assert isinstance(cond, nodes.Comparison) and isinstance(cond.value, nodes.Literal)
    assert cond.value.value == "O'Brien \\ \" \n\r\t\b\f é"


@pytest.mark.parametrize(
    ("pattern", "regex"),
    [
        (r"'Ada%'", "Ada.*"),
        (r"'_d%'", ".d.*"),
        (r"'100\%\_x'", r"100%_x"),
        (r"'a.b'", r"a\.b"),
    ],
)
def test_like_patterns_compile_to_regexes(pattern: str, regex: str) -> None:
    # Given a LIKE pattern with wildcards or escaped wildcards
    cond = where_of(f"SELECT Id FROM Contact WHERE Name LIKE {pattern}")
    # Then the literal carries the regex that matches it
    assert isinstance(cond, nodes.Comparison) and isinstance(cond.value, nodes.Literal)
    assert cond.value.kind == "like" and cond.value.value == regex


def test_wildcard_escapes_outside_like_are_refused() -> None:
    # Given \% in an equality
    with pytest.raises(SoqlError) as raised:
        parse(r"SELECT Id FROM Contact WHERE Name = '100\%'")
    # Then it is a malformed query
    assert raised.value.error_code == "MALFORMED_QUERY"
    assert "Illegal character sequence" in raised.value.message


@pytest.mark.parametrize(
    ("literal", "kind", "value"),
    [
        ("42", "number", 42),
        ("-3.25", "number", -3.25),
        ("true", "boolean", True),
        ("FALSE", "boolean", False),
        ("2026-11-20", "date", date(2026, 11, 20)),
        ("2026-11-20T15:00:00Z", "datetime", datetime(2026, 11, 20, 15, tzinfo=UTC)),
        (
            "2026-11-20T15:00:00.250+01:00",
            "datetime",
            datetime(2026, 11, 20, 15, 0, 0, 250000, tzinfo=timezone(timedelta(hours=1))),
        ),
        ("2026-11-20T15:00:00-0800", "datetime", datetime(2026, 11, 20, 23, tzinfo=UTC)),
        ("TODAY", "date_range", ("TODAY", None)),
        ("last_n_days:30", "date_range", ("LAST_N_DAYS", 30)),
        ("NEXT_N_DAYS:2", "date_range", ("NEXT_N_DAYS", 2)),
    ],
)
def test_literals(literal: str, kind: str, value: object) -> None:
    # Given a comparison with a literal
    cond = where_of(f"SELECT Id FROM Contact WHERE X = {literal}")
    # Then the literal has the right kind and value
    assert isinstance(cond, nodes.Comparison) and isinstance(cond.value, nodes.Literal)
    assert (cond.value.kind, cond.value.value) == (kind, value)


def test_boolean_structure_and_joins() -> None:
    # Given nested AND/OR/NOT with IN lists and a semi-join
    cond = where_of(
        "SELECT Id FROM Account WHERE NOT Name = 'a' AND (Type IN ('x', 'y') OR "
        "Id NOT IN (SELECT AccountId FROM Contact)) AND Tags__c INCLUDES ('a;b', 'c')"
    )
    # Then the tree mirrors it
    assert isinstance(cond, nodes.And) and len(cond.items) == 3
    assert isinstance(cond.items[0], nodes.Not)
    either = cond.items[1]
    assert isinstance(either, nodes.Or)
    assert isinstance(either.items[0], nodes.InList) and not either.items[0].negated
    assert isinstance(either.items[1], nodes.InSubquery) and either.items[1].negated
    assert either.items[1].query.object_name == "Contact"
    includes = cond.items[2]
    assert isinstance(includes, nodes.Comparison) and includes.op == "INCLUDES"


def test_not_equal_spellings_are_the_same() -> None:
    # Given <> and !=
    # Then both parse to !=
    assert where_of("SELECT Id FROM A WHERE X <> 1") == where_of("SELECT Id FROM A WHERE X != 1")


def test_names_that_start_with_keywords_are_names() -> None:
    # Given fields and objects whose names begin with keywords
    query = parse("SELECT Notes, Ordering, Selection FROM Order WHERE Notes = 'x' ORDER BY Ordering")
    # Then they are names
    assert [i.parts for i in query.select if isinstance(i, nodes.FieldPath)] == [
        ("Notes",),
        ("Ordering",),
        ("Selection",),
    ]
    assert query.object_name == "Order"


@pytest.mark.parametrize(
    ("text", "detail", "column"),
    [
        ("SELECT Id FROMM Contact", "unexpected token: 'FROMM'", 11),
        ("SELECT Id FROM Contact WHERE", "unexpected token: <EOF>", 29),
        ("SELECT Id FROM Contact WHERE A = 1 AND B = 2 OR C = 3", "unexpected token: 'OR'", 46),
        ("SELECT FROM Contact", "unexpected token: 'FROM'", 8),
        ("SELECT Id, FROM Contact", "unexpected token: 'FROM'", 12),
        ("SELECT Id FROM Contact LIMIT x", "unexpected token: 'x'", 30),
    ],
)
def test_syntax_errors_name_the_unexpected_token(text: str, detail: str, column: int) -> None:
    # Given a malformed query
    with pytest.raises(SoqlError) as raised:
        parse(text)
    # Then it is MALFORMED_QUERY, with the token and its position as Salesforce reports them
    error = raised.value
    assert error.error_code == "MALFORMED_QUERY"
    assert error.detail == detail
    assert error.message.endswith(f"ERROR at Row:1:Column:{column}\n{detail}")
    assert error.message.startswith(f"\n{text}\n{' ' * (column - 1)}^\n")


def test_unknown_characters_are_reported_without_lark_details() -> None:
    # Given a double-quoted string, which SOQL does not have
    with pytest.raises(SoqlError) as raised:
        parse('SELECT Id FROM Contact WHERE Name = "Ada"')
    # Then the error is Salesforce's, not lark's
    assert raised.value.error_code == "MALFORMED_QUERY"
    assert raised.value.message == "line 1:36 no viable alternative at character '\"'"
    assert "lark" not in raised.value.message.lower()
    assert raised.value.__cause__ is None


def test_invalid_calendar_dates_are_malformed() -> None:
    with pytest.raises(SoqlError) as raised:
        parse("SELECT Id FROM Contact WHERE Birthdate = 2026-02-30")
    assert raised.value.error_code == "MALFORMED_QUERY"
    assert "2026-02-30" in raised.value.message


def test_parsed_queries_are_cached() -> None:
    # Given the same text twice
    text = "SELECT Id FROM Contact WHERE Email = 'cache@example.com'"
    # Then the second parse returns the very same (immutable) object
    assert parse(text) is parse(text)
