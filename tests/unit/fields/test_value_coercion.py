"""Value coercion: insight values become values the field's type accepts, or are dropped with a note."""

from __future__ import annotations

import pytest
from callsync.domain.value_coercion import coerce_value, parse_number, split_multipicklist
from callsync.models.describe import FieldDescribe

PICK = ["Hot", "Cold", "Gong", "Chorus", "Sales, EMEA"]


def fd(type_: str) -> FieldDescribe:
    return FieldDescribe(name="F__c", type=type_, length=255, updateable=True, picklist_values=PICK)


# (type, raw insight value, coerced value, substring expected in the notes or None)
CASES = [
    ("textarea", "  Budget is tight \n and slow ", "Budget is tight \n and slow", None),
    ("textarea", ["a", " b ", ""], "a; b", None),
    ("textarea", 1500.0, "1500", None),
    ("string", "line one\nline two", "line one line two", None),
    ("email", "Ann@Globex.com", "Ann@Globex.com", None),
    ("email", "not an email", None, "not an email address"),
    ("url", "https://globex.com/x", "https://globex.com/x", None),
    ("phone", 5550100, "5550100", None),
    ("picklist", "hot", "Hot", None),
    ("picklist", "Warm", None, "not an active value"),
    ("picklist", ["warm", "COLD", "Hot"], "Cold", "a picklist holds one value"),
    ("multipicklist", ["gong", "Chorus", "Nope"], ["Gong", "Chorus"], "dropped 'Nope'"),
    ("multipicklist", "Gong;chorus", ["Gong", "Chorus"], None),
    ("multipicklist", "gong, chorus", ["Gong", "Chorus"], None),
    ("multipicklist", "Sales, EMEA", ["Sales, EMEA"], None),
    ("multipicklist", ["Nope"], None, "not an active value"),
    ("int", 42, 42, None),
    ("int", "1,200", 1200, None),
    ("int", 7.0, 7, None),
    ("int", "2.5", None, "not a whole number"),
    ("double", "3.25", 3.25, None),
    ("currency", "$50k", 50000, None),
    ("currency", "1.2M", 1200000, None),
    ("currency", "about fifty grand", None, "not a number"),
    ("currency", ["1", "2"], None, "holds one number"),
    ("percent", "12.5%", 12.5, None),
    ("boolean", "Yes", True, None),
    ("boolean", 0, False, None),
    ("boolean", "maybe", None, "not a yes/no value"),
    ("date", "2026-12-01", "2026-12-01", None),
    ("date", "2026-12-01T09:00:00-08:00", "2026-12-01", None),
    ("date", "next week", None, "not a date"),
    ("datetime", "2026-12-01T09:00:00-08:00", "2026-12-01T17:00:00Z", None),
    ("datetime", "2026-12-01", "2026-12-01T00:00:00Z", None),
    ("datetime", "soon", None, "not an RFC 3339 datetime"),
    ("reference", "001000000000001AAA", None, "cannot be written to a reference field"),
    ("textarea", "", None, "no value in this call"),
    ("picklist", None, None, "no value in this call"),
]


@pytest.mark.parametrize(("type_", "raw", "value", "note"), CASES)
def test_coerce_value(type_, raw, value, note):
    # Given a field of this type, When an insight value is coerced to it
    coerced = coerce_value(raw, fd(type_))
    # Then the value is the field's own spelling/type, or dropped with a note saying why
    assert coerced.value == value
    if note is None:
        assert coerced.notes == ()
    else:
        assert any(note in n for n in coerced.notes), coerced.notes


def test_parse_number_rejects_bools_and_words():
    assert parse_number(True) is None
    assert parse_number("12 apples") is None
    assert parse_number("-3") == -3


def test_split_multipicklist_reads_salesforce_storage():
    assert split_multipicklist("A;B; C") == ["A", "B", "C"]
    assert split_multipicklist(None) == []


def number_field(type_: str, *, precision: int = 0, scale: int = 0, digits: int = 0) -> FieldDescribe:
    return FieldDescribe(name="N__c", type=type_, updateable=True, precision=precision, scale=scale, digits=digits)


@pytest.mark.parametrize("raw", [float("nan"), float("inf"), float("-inf"), [float("nan")]])
@pytest.mark.parametrize("type_", ["currency", "double", "int", "percent", "textarea", "string", "picklist"])
def test_non_finite_numbers_are_dropped_for_every_type(type_, raw):
    # Given NaN or Infinity (Python's json reads them; JSON and Salesforce have no such numbers)
    # When it is coerced to any field
    coerced = coerce_value(raw, FieldDescribe(name="F__c", type=type_, precision=18, scale=2, picklist_values=PICK))
    # Then nothing is sent, and the note says why
    assert coerced.value is None
    assert any("not a finite number" in n for n in coerced.notes), coerced.notes


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (1e30, None),  # 31 digits before the point
        (10**16, None),  # exactly one digit too many for currency(18,2)
        (9_999_999_999_999_999, 9_999_999_999_999_999),  # the largest whole value that fits
        (-1e16, None),
        ("$50k", 50000),
        (1234.567, 1234.567),  # extra decimals: Salesforce rounds them to the scale
    ],
)
def test_currency_values_beyond_the_describes_precision_are_dropped_not_clamped(raw, value):
    """Given a currency(18,2) field as Salesforce describes it.

    Precision is the total number of digits, scale the digits right of the decimal point
    (Salesforce Field Reference, "Precision" / "Scale": 12345.67 has precision 7, scale 2), so
    16 digits fit before the point.
    """
    field = number_field("currency", precision=18, scale=2)
    # When a value is coerced
    coerced = coerce_value(raw, field)
    # Then it is kept when it fits, else dropped with the limit named (clamping would invent a number)
    assert coerced.value == value
    if value is None:
        assert any("out of range for this field (16 digit(s) before the decimal point)" in n for n in coerced.notes)
    else:
        assert coerced.notes == ()


def test_an_int_field_is_bounded_by_its_digits_or_else_its_precision():
    # Given int fields described with digits (Salesforce) or precision only (some describes)
    by_digits = number_field("int", digits=8)
    by_precision = number_field("int", precision=3)
    # When values are coerced / Then the bound is the one given
    assert coerce_value(99_999_999, by_digits).value == 99_999_999
    assert coerce_value(100_000_000, by_digits).value is None
    assert coerce_value(1000, by_precision).value is None
    assert coerce_value(999, by_precision).value == 999


def test_a_number_field_without_precision_is_not_bounded():
    # Given a describe that gives no precision / Then only finiteness is checked
    assert coerce_value(1e30, number_field("double")).value == 1e30
