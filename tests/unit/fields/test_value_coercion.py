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
