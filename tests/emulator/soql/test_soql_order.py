"""ORDER BY, LIMIT and OFFSET."""

from __future__ import annotations

import pytest
from callsync_dev.emulator.soql import run_query
from soql_org import ACME, ADA, BOB, CARA, DAN, GLOBEX, INITECH, make_catalog


def ordered(text: str) -> list[str]:
    return [r["Id"] for r in run_query(text, make_catalog()).records]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("Name", [ACME, GLOBEX, INITECH]),  # "globex" sorts case-insensitively between Acme and Initech
        ("Name ASC", [ACME, GLOBEX, INITECH]),
        ("name desc", [INITECH, GLOBEX, ACME]),
        ("AnnualRevenue", [GLOBEX, INITECH, ACME]),  # ASC: nulls first
        ("AnnualRevenue DESC", [ACME, INITECH, GLOBEX]),  # DESC: nulls last
        ("AnnualRevenue ASC NULLS LAST", [INITECH, ACME, GLOBEX]),
        ("AnnualRevenue DESC NULLS FIRST", [GLOBEX, ACME, INITECH]),
        ("Owner.Name, Name DESC", [INITECH, GLOBEX, ACME]),  # parent field, null owner first
    ],
)
def test_order_by(order: str, expected: list[str]) -> None:
    # Given accounts / When ordered / Then in the expected order
    assert ordered(f"SELECT Id FROM Account ORDER BY {order}") == expected


def test_several_keys_break_ties_in_turn() -> None:
    # Given contacts tied on the first key (two at Acme)
    result = ordered("SELECT Id FROM Contact ORDER BY Account.Name NULLS LAST, HasOptedOutOfEmail DESC, Name")
    # Then the second key orders the tie and nulls of the first key go last
    assert result == [BOB, ADA, CARA, DAN]


def test_dates_and_datetimes_sort_chronologically() -> None:
    assert ordered("SELECT Id FROM Contact ORDER BY CreatedDate DESC") == [ADA, BOB, CARA, DAN]
    assert ordered("SELECT Id FROM Contact ORDER BY Birthdate NULLS LAST") == [ADA, CARA, DAN, BOB]


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("LIMIT 2", [ADA, BOB]),
        ("LIMIT 0", []),
        ("OFFSET 1", [BOB, CARA, DAN]),
        ("LIMIT 2 OFFSET 1", [BOB, CARA]),
        ("LIMIT 10 OFFSET 3", [DAN]),
        ("OFFSET 10", []),
    ],
)
def test_limit_and_offset_apply_after_ordering(tail: str, expected: list[str]) -> None:
    assert ordered(f"SELECT Id FROM Contact ORDER BY Id {tail}") == expected


def test_total_size_counts_rows_after_limit() -> None:
    result = run_query("SELECT Id FROM Contact ORDER BY Id LIMIT 3", make_catalog())
    assert result.total_size == 3 == len(result.records)


def test_limit_without_order_stops_reading_rows_early() -> None:
    # Given a catalog that counts the rows the engine reads
    catalog = make_catalog()
    read: list[str] = []
    all_rows = catalog.rows

    def counting_rows(object_name: str, *, include_deleted: bool = False):  # type: ignore[no-untyped-def]
        for row in all_rows(object_name, include_deleted=include_deleted):
            read.append(row["Id"])
            yield row

    catalog.rows = counting_rows  # type: ignore[method-assign]
    # When only the first match is wanted
    result = run_query("SELECT Id FROM Contact WHERE Email != null LIMIT 1", catalog)
    # Then it is the first stored match, and no row after it was read
    assert [r["Id"] for r in result.records] == [ADA]
    assert read == [ADA]
