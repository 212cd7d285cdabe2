"""The budget guard's rules (``domain.api_budget``): the share callsync may spend and when a call waits."""

from __future__ import annotations

import pytest
from callsync.domain.api_budget import (
    CALL_ESTIMATE,
    READ_RESERVE,
    allowed_requests,
    calls_with_room,
    check,
    is_fresh,
    parse_limit_info,
)
from callsync.models.api_budget import ApiUsage


@pytest.mark.parametrize(
    ("header", "parsed"),
    [
        # REST API Developer Guide, "Limit Info Header": api-usage=USED/LIMIT, optionally with other fields
        ("api-usage=18/5000", (18, 5000)),
        ("api-usage=10018/100000; api-bursts=1/750", (10018, 100000)),
        ("api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)", (25, 5000)),
        ("per-app-api-usage=17/250(appName=x)", None),
        ("api-usage=5/0", None),
        ("", None),
        (None, None),
    ],
)
def test_sforce_limit_info_is_read_as_used_and_limit(header: str | None, parsed: tuple[int, int] | None) -> None:
    assert parse_limit_info(header) == parsed


def test_the_share_is_floored_to_whole_requests() -> None:
    assert allowed_requests(15_000, 0.8) == 12_000
    assert allowed_requests(7_499, 0.8) == 5_999
    assert allowed_requests(100, 0.07) == 7


def test_a_call_runs_while_its_estimate_and_the_read_reserve_fit_in_the_share() -> None:
    # Given 12,000 allowed (0.8 of 15,000), and 96 kept for usage reads (one per 15 minutes for 24 hours)
    assert READ_RESERVE == 96
    # When the org has used exactly allowed - reserve - estimate / Then the call runs
    fits = check(ApiUsage(used=12_000 - READ_RESERVE - CALL_ESTIMATE, limit=15_000, read_at=0), 0.8)
    assert not fits.deferred and fits.reason is None and fits.allowed == 12_000
    # When one more request is used / Then it is held, and the reason names the usage, the share and the way out
    held = check(ApiUsage(used=12_000 - READ_RESERVE - CALL_ESTIMATE + 1, limit=15_000, read_at=0), 0.8)
    assert held.deferred
    assert held.reason is not None
    assert "11895 of its 15000" in held.reason and "max_share 0.8" in held.reason and "callsync replay" in held.reason


def test_share_used_is_usage_over_the_allowed_requests() -> None:
    assert check(ApiUsage(used=9_600, limit=15_000, read_at=0), 0.8).share_used == 0.8


def test_calls_with_room_counts_whole_estimates_and_never_goes_negative() -> None:
    assert calls_with_room(ApiUsage(used=10_904, limit=15_000, read_at=0), 0.8) == 100
    assert calls_with_room(ApiUsage(used=11_895, limit=15_000, read_at=0), 0.8) == 0
    assert calls_with_room(ApiUsage(used=14_000, limit=15_000, read_at=0), 0.8) == 0


def test_a_reading_is_fresh_for_fifteen_minutes() -> None:
    reading = ApiUsage(used=1, limit=10, read_at=1_000)
    assert is_fresh(reading, 1_000 + 900) and not is_fresh(reading, 1_000 + 901) and not is_fresh(None, 0)
