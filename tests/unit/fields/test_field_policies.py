"""Field policies: every policy and type, empty and filled fields, idempotent appends, lengths."""

from __future__ import annotations

from datetime import date

import pytest
from callsync.domain.field_policies import contains_entry, decide, default_rule, entry_for, fit_entry, same_value
from callsync.models.describe import FieldDescribe

CALL_DATE = date(2026, 11, 20)
E = "[2026-11-20] "


def fd(type_: str, length: int = 0, values: list[str] | None = None) -> FieldDescribe:
    return FieldDescribe(
        name="F__c", type=type_, length=length, updateable=True, createable=True, picklist_values=values or []
    )


# (type, policy, before, new (already coerced), write?, after, rule)
CASES = [
    # text area: default appends with the call date; an empty field gets the entry alone
    ("textarea", "default", None, "Budget is tight", True, E + "Budget is tight", "fill"),
    ("textarea", "default", "", "Budget is tight", True, E + "Budget is tight", "fill"),
    ("textarea", "default", "Rep notes", "Budget is tight", True, "Rep notes\n\n" + E + "Budget is tight", "append"),
    ("textarea", "append", "Rep notes", "Budget", True, "Rep notes\n\n" + E + "Budget", "append"),
    ("textarea", "overwrite", "Rep notes", "Budget", True, "Budget", "overwrite"),
    ("textarea", "overwrite", "Budget", "Budget", False, "Budget", "overwrite"),
    ("textarea", "fill_empty", "Rep notes", "Budget", False, "Rep notes", "keep"),
    ("textarea", "fill_empty", None, "Budget", True, "Budget", "fill"),
    ("textarea", "union", "Rep notes", "Budget", False, "Rep notes", "keep"),
    ("textarea", "skip", None, "Budget", False, None, "skip"),
    ("textarea", "skip", "Rep notes", "Budget", False, "Rep notes", "skip"),
    # one-line text: same, with " | " between entries
    ("string", "default", None, "Alice", True, E + "Alice", "fill"),
    ("string", "default", "Bob", "Alice", True, "Bob | " + E + "Alice", "append"),
    ("string", "overwrite", "Bob", "Alice", True, "Alice", "overwrite"),
    ("string", "fill_empty", "Bob", "Alice", False, "Bob", "keep"),
    ("string", "skip", "Bob", "Alice", False, "Bob", "skip"),
    # single-value text: filled plainly; url and phone then append a dated entry; an email (one address only) keeps
    ("email", "default", None, "b@y.com", True, "b@y.com", "fill"),
    ("email", "default", "a@x.com", "b@y.com", False, "a@x.com", "keep"),
    ("email", "append", "a@x.com", "b@y.com", False, "a@x.com", "keep"),
    ("email", "overwrite", "a@x.com", "b@y.com", True, "b@y.com", "overwrite"),
    ("url", "default", None, "https://a.io", True, "https://a.io", "fill"),
    ("url", "default", "https://x.io", "https://a.io", True, "https://x.io | [2026-11-20] https://a.io", "append"),
    (
        "url",
        "default",
        "https://x.io | [2026-11-20] https://a.io",
        "https://a.io",
        False,
        "https://x.io | [2026-11-20] https://a.io",
        "append",
    ),
    ("url", "default", "https://a.io", "https://a.io", False, "https://a.io", "append"),
    ("url", "overwrite", "https://x.io", "https://a.io", True, "https://a.io", "overwrite"),
    ("phone", "default", None, "+1 555 0100", True, "+1 555 0100", "fill"),
    ("phone", "default", "+1 555 0199", "+1 555 0100", True, "+1 555 0199 | [2026-11-20] +1 555 0100", "append"),
    # picklist: keep by default
    ("picklist", "default", None, "Hot", True, "Hot", "fill"),
    ("picklist", "default", "Cold", "Hot", False, "Cold", "keep"),
    ("picklist", "overwrite", "Cold", "Hot", True, "Hot", "overwrite"),
    ("picklist", "overwrite", "hot", "Hot", False, "hot", "overwrite"),
    ("picklist", "append", "Cold", "Hot", False, "Cold", "keep"),
    ("picklist", "union", "Cold", "Hot", False, "Cold", "keep"),
    ("picklist", "fill_empty", "Cold", "Hot", False, "Cold", "keep"),
    ("picklist", "skip", None, "Hot", False, None, "skip"),
    # multipicklist: union by default
    ("multipicklist", "default", None, ["Gong"], True, "Gong", "fill"),
    ("multipicklist", "default", "Gong", ["Chorus", "Gong"], True, "Gong;Chorus", "union"),
    ("multipicklist", "default", "Gong;Chorus", ["chorus"], False, "Gong;Chorus", "union"),
    ("multipicklist", "union", "Gong", ["Chorus"], True, "Gong;Chorus", "union"),
    ("multipicklist", "append", "Gong", ["Chorus"], True, "Gong;Chorus", "union"),
    ("multipicklist", "overwrite", "Gong", ["Chorus"], True, "Chorus", "overwrite"),
    ("multipicklist", "fill_empty", "Gong", ["Chorus"], False, "Gong", "keep"),
    ("multipicklist", "skip", "Gong", ["Chorus"], False, "Gong", "skip"),
    # numbers: keep by default
    ("int", "default", None, 5, True, 5, "fill"),
    ("int", "default", 3, 5, False, 3, "keep"),
    ("int", "overwrite", 3, 5, True, 5, "overwrite"),
    ("double", "default", 1.5, 2.5, False, 1.5, "keep"),
    ("double", "overwrite", 1.5, 2.5, True, 2.5, "overwrite"),
    ("currency", "default", None, 50000, True, 50000, "fill"),
    ("currency", "default", 10000.0, 50000, False, 10000.0, "keep"),
    ("currency", "overwrite", 10000.0, 50000, True, 50000, "overwrite"),
    ("currency", "overwrite", 50000.0, 50000, False, 50000.0, "overwrite"),
    ("currency", "append", 10000.0, 50000, False, 10000.0, "keep"),
    ("percent", "default", 20, 30, False, 20, "keep"),
    ("percent", "fill_empty", None, 30, True, 30, "fill"),
    # other types: keep by default
    ("boolean", "default", False, True, False, False, "keep"),
    ("boolean", "overwrite", False, True, True, True, "overwrite"),
    ("boolean", "default", None, True, True, True, "fill"),
    ("date", "default", None, "2026-12-01", True, "2026-12-01", "fill"),
    ("date", "default", "2026-11-01", "2026-12-01", False, "2026-11-01", "keep"),
    ("date", "overwrite", "2026-11-01", "2026-12-01", True, "2026-12-01", "overwrite"),
    (
        "datetime",
        "default",
        "2026-11-01T10:00:00.000+0000",
        "2026-12-01T10:00:00Z",
        False,
        "2026-11-01T10:00:00.000+0000",
        "keep",
    ),
    (
        "datetime",
        "overwrite",
        "2026-12-01T10:00:00.000+0000",
        "2026-12-01T10:00:00Z",
        False,
        "2026-12-01T10:00:00.000+0000",
        "overwrite",
    ),
]


@pytest.mark.parametrize(("type_", "policy", "before", "new", "write", "after", "rule"), CASES)
def test_policy_by_type(type_, policy, before, new, write, after, rule):
    # Given a field of this type holding `before`, and a coerced insight value
    field = fd(type_, length=255, values=["Hot", "Cold", "Gong", "Chorus"])
    # When the mapping's policy decides
    decision = decide(field, before, new, policy=policy, call_date=CALL_DATE)
    # Then it writes (or not) the expected value, naming the rule that decided
    assert (decision.write, decision.after, decision.policy) == (write, after, rule)


def test_default_rule_per_type():
    # Given the documented defaults, When asked per type, Then text appends, multipicklists union, the rest keep
    assert [
        default_rule(t)
        for t in (
            "string",
            "textarea",
            "multipicklist",
            "picklist",
            "int",
            "double",
            "currency",
            "percent",
            "boolean",
            "date",
            "email",
            "url",
            "phone",
        )
    ] == [
        "append",
        "append",
        "union",
        "keep",
        "keep",
        "keep",
        "keep",
        "keep",
        "keep",
        "keep",
        "append",
        "append",
        "append",
    ]


def test_append_twice_adds_the_entry_once():
    # Given a field that already got this call's entry
    field = fd("textarea", 32768)
    first = decide(field, "Rep notes", "Budget is tight", policy="default", call_date=CALL_DATE)
    # When the same call is synced again
    second = decide(field, first.after, "Budget is tight", policy="default", call_date=CALL_DATE)
    # Then nothing is written and the field keeps one entry
    assert first.write and not second.write
    assert second.after.count("Budget is tight") == 1
    assert "already there" in (second.notes[0])


def test_a_later_call_with_other_text_appends_after_earlier_entries():
    # Given a field with an earlier call's entry, When a later call appends, Then both entries remain in order
    field = fd("textarea", 32768)
    earlier = decide(field, None, "first", policy="default", call_date=date(2026, 11, 1)).after
    later = decide(field, earlier, "second", policy="default", call_date=CALL_DATE)
    assert later.after == "[2026-11-01] first\n\n[2026-11-20] second"


def test_fill_of_an_empty_field_is_idempotent_too():
    # Given an empty field filled by this call, When the call is replayed, Then nothing more is appended
    field = fd("textarea", 1000)
    filled = decide(field, None, "Pain: slow reporting", policy="default", call_date=CALL_DATE)
    again = decide(field, filled.after, "Pain: slow reporting", policy="default", call_date=CALL_DATE)
    assert filled.write and not again.write and again.after == filled.after


def test_over_long_entry_is_cut_to_the_room_left_and_the_rep_text_is_kept():
    # Given a 100-character field holding 30 characters a rep typed
    field = fd("textarea", 100)
    rep = "r" * 30
    text = "x" * 200
    # When a long entry is appended
    decision = decide(field, rep, text, policy="default", call_date=CALL_DATE)
    # Then the rep's text is intact, the result fits exactly, the cut is marked and noted
    assert decision.write and decision.after.startswith(rep + "\n\n" + E)
    assert len(decision.after) == 100 and decision.after.endswith("…")
    assert "truncated this call's entry" in decision.notes[0]
    # And a replay recognises the cut entry as this call's
    again = decide(field, decision.after, text, policy="default", call_date=CALL_DATE)
    assert not again.write


def test_entry_is_dropped_when_the_field_is_nearly_full():
    # Given a field with almost no room left
    field = fd("textarea", 100)
    rep = "r" * 90
    # When an entry is appended, Then the entry is dropped (not the rep's text) and the drop is noted
    decision = decide(field, rep, "Budget is tight and approval is slow", policy="default", call_date=CALL_DATE)
    assert not decision.write and decision.after == rep
    assert decision.notes[0].startswith("dropped this call's entry")


def test_over_long_fill_is_truncated_to_the_field_length():
    # Given an empty 50-character string field, When a long value fills it, Then it is cut to 50 with a note
    decision = decide(fd("string", 50), None, "y" * 80, policy="default", call_date=CALL_DATE)
    assert decision.write and len(decision.after) == 50 and decision.after.endswith("…")
    assert "truncated" in decision.notes[0]
    plain = decide(fd("string", 50), "old", "y" * 80, policy="overwrite", call_date=CALL_DATE)
    assert plain.after == "y" * 49 + "…" and "truncated from 80 to 50" in plain.notes[0]


def test_over_long_url_is_dropped_not_cut():
    # Given a 20-character url field, When a longer URL would fill it, Then it is dropped with a note
    decision = decide(fd("url", 20), None, "https://example.com/very/long", policy="default", call_date=CALL_DATE)
    assert not decision.write and decision.after is None and "dropped" in decision.notes[0]


def test_contains_entry_does_not_confuse_a_different_call():
    # Given an entry of another date with the same text, Then this call's entry is not considered present
    entry = entry_for("Budget is tight, approval takes weeks", CALL_DATE)
    assert not contains_entry("[2026-11-01] Budget is tight, approval takes weeks", entry)
    cut, _ = fit_entry(entry, 40)
    assert cut is not None and contains_entry("notes\n\n" + cut, entry)


def test_same_value_normalises_numbers_and_multipicklists():
    assert same_value(fd("currency"), 50000.0, 50000)
    assert same_value(fd("multipicklist"), "A;B", "b;a")
    assert not same_value(fd("string"), "a", "b")
