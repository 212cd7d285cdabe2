"""Execution names: ≤ 80 characters, legal characters, unique per (org, call, revision)."""

from __future__ import annotations

import re

import pytest
from callsync.services.start_sync import EXECUTION_NAME_MAX, execution_name

LEGAL = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def test_simple_ids_give_a_readable_name() -> None:
    assert execution_name("acme", "zoom-8841", 3) == "acme-zoom-8841-3"


@pytest.mark.parametrize(
    ("org", "call"),
    [
        ("acme", "x" * 200),
        ("acme corp", "call 1"),
        ("acme", "call/with:colons#and%stuff"),
        ("ac-me", "call"),
        ("ünïcode", "ид-звонка"),
        ("o" * 90, "c"),
    ],
)
def test_any_ids_give_a_legal_name_of_at_most_80_characters(org: str, call: str) -> None:
    name = execution_name(org, call, 1)
    assert LEGAL.match(name), name
    assert len(name) <= EXECUTION_NAME_MAX


def test_long_or_unsafe_ids_are_hashed() -> None:
    assert re.search(r"-h[0-9a-f]{24}$", execution_name("acme", "x" * 200, 1))
    assert re.search(r"-h[0-9a-f]{24}$", execution_name("acme", "a/b", 1))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("a-b", "c", 1), ("a", "b-c", 1)),  # the dash split is ambiguous: the hashed form is used
        (("acme", "c", 12), ("acme", "c-1", 2)),
        (("acme", "a/b", 1), ("acme", "a_b", 1)),  # sanitising maps both to a_b: the digest differs
        (("acme", "x" * 100, 1), ("acme", "x" * 100, 2)),
        (("acme", "x" * 100 + "a", 1), ("acme", "x" * 100 + "b", 1)),
    ],
)
def test_different_calls_never_share_a_name(a: tuple[str, str, int], b: tuple[str, str, int]) -> None:
    assert execution_name(*a) != execution_name(*b)


def test_the_same_call_always_gets_the_same_name() -> None:
    assert execution_name("ac me", "c" * 120, 4) == execution_name("ac me", "c" * 120, 4)
