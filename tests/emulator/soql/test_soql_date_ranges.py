"""Relative date literals: the inclusive day ranges they cover."""

from __future__ import annotations

from datetime import date

import pytest
from callsync_dev.emulator.soql.literals import date_range

FRIDAY = date(2026, 11, 20)


@pytest.mark.parametrize(
    ("name", "n", "first", "last"),
    [
        ("TODAY", None, FRIDAY, FRIDAY),
        ("YESTERDAY", None, date(2026, 11, 19), date(2026, 11, 19)),
        ("TOMORROW", None, date(2026, 11, 21), date(2026, 11, 21)),
        ("THIS_WEEK", None, date(2026, 11, 15), date(2026, 11, 21)),  # Sunday to Saturday
        ("LAST_WEEK", None, date(2026, 11, 8), date(2026, 11, 14)),
        ("NEXT_WEEK", None, date(2026, 11, 22), date(2026, 11, 28)),
        ("THIS_MONTH", None, date(2026, 11, 1), date(2026, 11, 30)),
        ("LAST_MONTH", None, date(2026, 10, 1), date(2026, 10, 31)),
        ("NEXT_MONTH", None, date(2026, 12, 1), date(2026, 12, 31)),
        ("THIS_QUARTER", None, date(2026, 10, 1), date(2026, 12, 31)),
        ("NEXT_QUARTER", None, date(2027, 1, 1), date(2027, 3, 31)),
        ("LAST_YEAR", None, date(2025, 1, 1), date(2025, 12, 31)),
        ("LAST_90_DAYS", None, date(2026, 8, 22), FRIDAY),
        ("NEXT_90_DAYS", None, date(2026, 11, 21), date(2027, 2, 18)),
        ("LAST_N_DAYS", 7, date(2026, 11, 13), FRIDAY),  # includes today
        ("NEXT_N_DAYS", 3, date(2026, 11, 21), date(2026, 11, 23)),  # starts tomorrow
        ("N_DAYS_AGO", 2, date(2026, 11, 18), date(2026, 11, 18)),
        ("LAST_N_WEEKS", 2, date(2026, 11, 1), date(2026, 11, 14)),
        ("NEXT_N_MONTHS", 2, date(2026, 12, 1), date(2027, 1, 31)),
        ("LAST_N_MONTHS", 1, date(2026, 10, 1), date(2026, 10, 31)),
        ("N_YEARS_AGO", 1, date(2025, 1, 1), date(2025, 12, 31)),
    ],
)
def test_date_range(name: str, n: int | None, first: date, last: date) -> None:
    # Given the org's today is Friday 2026-11-20 / When a literal is evaluated / Then it covers [first, last]
    assert date_range(name, n, FRIDAY) == (first, last)


def test_week_of_a_sunday_starts_that_day() -> None:
    assert date_range("THIS_WEEK", None, date(2026, 11, 22)) == (date(2026, 11, 22), date(2026, 11, 28))


def test_month_arithmetic_wraps_years() -> None:
    assert date_range("LAST_MONTH", None, date(2027, 1, 31)) == (date(2026, 12, 1), date(2026, 12, 31))
