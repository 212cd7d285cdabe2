"""A combobox field (describe type ``combobox``) takes any text up to its length, with suggested values:
"Comboboxes, which provide a set of enumerated values and allow the user to specify a value not in the
list" (Apex Reference, "DisplayType Enum",
https://developer.salesforce.com/docs/platform/apex-ref/references/apex-ref/apex-enum-schema-displaytype.html).
callsync treats it as one value of single-line text: filled when empty, kept by default, replaced by
``overwrite``, cut to its length like any text."""

from __future__ import annotations

from datetime import date

import pytest
from callsync.domain.field_policies import decide, default_rule
from callsync.domain.value_coercion import coerce_value
from callsync.models.describe import FieldDescribe

CALL_DATE = date(2026, 11, 20)
SUGGESTED = ["Gong", "Chorus", "Clari"]


def combobox(length: int = 40) -> FieldDescribe:
    return FieldDescribe(
        name="Main_Competitor__c",
        type="combobox",
        length=length,
        createable=True,
        updateable=True,
        picklist_values=SUGGESTED,
    )


@pytest.mark.parametrize(
    ("raw", "sent"),
    [
        ("Outreach", "Outreach"),  # not among the suggestions: taken as typed
        ("chorus", "Chorus"),  # a suggestion but for case: the field's spelling
        ("  Salesloft\nKaia ", "Salesloft Kaia"),  # one line, trimmed
        (["Gong", "Outreach"], "Gong; Outreach"),  # a list as text
        (42, "42"),
    ],
)
def test_any_text_is_a_value_of_a_combobox(raw: object, sent: str) -> None:
    # Given an insight value for a combobox field / When coerced / Then it is kept as one line of text
    coerced = coerce_value(raw, combobox())
    assert coerced.value == sent and coerced.notes == ()


@pytest.mark.parametrize(
    ("policy", "before", "write", "after", "rule"),
    [
        ("default", None, True, "Outreach", "fill"),  # empty: filled with the plain value, no dated entry
        ("default", "Gong", False, "Gong", "keep"),  # has a value: kept, like a picklist
        ("fill_empty", "Gong", False, "Gong", "keep"),
        ("overwrite", "Gong", True, "Outreach", "overwrite"),
        ("overwrite", "Outreach", False, "Outreach", "overwrite"),  # already holds it: nothing sent
        ("append", "Gong", False, "Gong", "keep"),  # one value: nothing to append to
        ("skip", None, False, None, "skip"),
    ],
)
def test_combobox_policies(policy: str, before: str | None, write: bool, after: str | None, rule: str) -> None:
    # Given a combobox holding ``before`` / When the call says "Outreach" under ``policy``
    decision = decide(combobox(), before, "Outreach", policy=policy, call_date=CALL_DATE, mark="c1")
    # Then the field is filled, kept or replaced as one value
    assert (decision.write, decision.after, decision.policy) == (write, after, rule)


def test_default_rule_of_a_combobox_is_keep() -> None:
    assert default_rule("combobox") == "keep"


def test_a_value_longer_than_the_combobox_is_cut_to_its_length() -> None:
    # Given a 20-character combobox / When a 30-character value fills it
    decision = decide(combobox(20), None, "x" * 30, policy="default", call_date=CALL_DATE)
    # Then the value is cut to 20 characters, ending in an ellipsis, and the ledger note says so
    assert decision.write and decision.after == "x" * 19 + "…"
    assert decision.notes == ("truncated from 30 to 20 characters",)
