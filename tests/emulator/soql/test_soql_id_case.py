"""Ids that differ only in letter case are different records (15-char ids are case-sensitive)."""

from __future__ import annotations

import pytest
from callsync_dev.emulator.soql import run_query
from callsync_dev.emulator.soql.fields import normalize_id
from callsync_dev.emulator.soql.memory import MemoryCatalog
from soql_org import NOW, objects

LOWER = "0035g000000000bAAA"  # ...00b: no upper-case letter, checksum AAA
UPPER = "0035g000000000BAAQ"  # ...00B: 15th character upper case, checksum AAQ
DEAL = "006000000000001AAA"


def twins(*, indexed: bool) -> MemoryCatalog:
    contacts = [
        {"Id": LOWER, "LastName": "Lower", "Email": "lower@x.example", "AccountId": None},
        {"Id": UPPER, "LastName": "Upper", "Email": "upper@x.example", "AccountId": None},
    ]
    roles = [
        {"Id": "00K000000000001AAA", "OpportunityId": DEAL, "ContactId": LOWER, "IsPrimary": True},
        {"Id": "00K000000000002AAA", "OpportunityId": DEAL, "ContactId": UPPER, "IsPrimary": False},
    ]
    deals = [{"Id": DEAL, "Name": "Deal", "IsClosed": False}]
    return MemoryCatalog(
        objects(),
        {"Contact": contacts, "OpportunityContactRole": roles, "Opportunity": deals},
        now=NOW,
        indexed={"OpportunityContactRole": ["ContactId"]} if indexed else None,
    )


def test_an_18_character_id_names_its_15_character_id_in_any_case() -> None:
    assert normalize_id(UPPER) == normalize_id(UPPER.lower()) == normalize_id(UPPER[:15]) == "0035g000000000B"
    assert normalize_id(LOWER) == "0035g000000000b"


@pytest.mark.parametrize("literal", [LOWER, LOWER[:15], LOWER.upper()])
def test_filter_on_an_id_finds_only_its_own_record(literal: str) -> None:
    # Given two contacts whose ids differ only in the case of one letter
    # When one is filtered by its id (18 chars, 15 chars, or 18 chars in another case)
    result = run_query(f"SELECT LastName FROM Contact WHERE Id = '{literal}'", twins(indexed=False))
    # Then only that one matches
    assert [r["LastName"] for r in result.records] == ["Lower"]


@pytest.mark.parametrize("indexed", [False, True])
def test_child_rows_go_to_their_own_parent(indexed: bool) -> None:
    # Given one role on each twin
    # When both contacts are read with their roles (by scan or through the index)
    result = run_query(
        "SELECT LastName, (SELECT IsPrimary FROM OpportunityContactRoles) FROM Contact ORDER BY LastName",
        twins(indexed=indexed),
    )
    # Then each contact gets its own role only
    roles = {r["LastName"]: [c["IsPrimary"] for c in r["OpportunityContactRoles"]["records"]] for r in result.records}
    assert roles == {"Lower": [True], "Upper": [False]}


def test_semi_join_keeps_twins_apart() -> None:
    # When deals' roles are selected by a semi-join on one twin
    result = run_query(
        f"SELECT IsPrimary FROM OpportunityContactRole WHERE ContactId IN "
        f"(SELECT Id FROM Contact WHERE Id = '{UPPER}')",
        twins(indexed=True),
    )
    # Then the other twin's role is not selected
    assert [r["IsPrimary"] for r in result.records] == [False]
