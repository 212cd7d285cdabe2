"""The API budget guard over a simulated day (bench/budget_day.py): the figures the benchmark reports."""

from __future__ import annotations

import pytest

from bench.budget_day import simulate


@pytest.fixture(scope="module")
def day():
    return simulate(calls=2_000, sized_for=1_500)


def test_callsync_never_has_more_requests_in_the_rolling_day_than_its_share(day):
    # Given 2,000 calls over a day and an allocation whose share fits 1,500 of them
    # When the guard and the resumer run on a simulated clock
    # Then the most requests in any rolling 24 hours stay within the share, usage reads included
    assert day.allowed == 6_000 and day.within_share, (day.peak_used, day.allowed)
    assert day.usage_reads > 0


def test_the_calls_past_the_share_are_held_then_all_complete_once_the_window_frees(day):
    # Then about the 500 calls past the share were held, and every one of them completed
    assert 450 <= day.held <= 560
    assert day.completed_after_hold == day.held and day.not_completed == 0
    assert day.completed_first_time + day.completed_after_hold == 2_000
    # And they completed after the first requests left the window (a day after they were made)
    assert 24 < day.last_completion_hours < 48


def test_a_day_within_the_allocation_holds_nothing():
    # Given as many calls as the allocation is sized for, less the guard's margin
    quiet = simulate(calls=1_400, sized_for=1_500)
    # Then none is held
    assert quiet.held == 0 and quiet.not_completed == 0 and quiet.within_share
