"""Closed-deal rules: close generations, the scan window, the watermark, call markers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from callsync.domain.closed_deals import (
    OVERLAP,
    DealState,
    OpportunityChange,
    call_ids_in,
    claim_key,
    close_signature,
    judge,
    next_watermark,
    scan_window,
    stale_before,
)

T0 = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
LOST = "lost|Closed Lost"


def change(*, closed: bool, won: bool = False, stage: str = "Closed Lost") -> OpportunityChange:
    return OpportunityChange(
        id="006A", system_modstamp=T0, is_closed=closed, is_won=won, stage_name=stage if closed else "Negotiation"
    )


@pytest.mark.parametrize(
    ("row", "state", "action", "generation", "after"),
    [
        # a first close we see → generation 1
        (change(closed=True), None, "publish", 1, DealState(1, True, LOST)),
        # the same close read again (retry, overlap, an edit after the close) → duplicate
        (change(closed=True), DealState(1, True, LOST), "duplicate", 1, None),
        # reopened: remembered closed, now open → reopen (no event), generation kept
        (change(closed=False), DealState(1, True, LOST), "reopen", 1, DealState(1, False, LOST)),
        # closed again after a reopen → the next generation
        (change(closed=True), DealState(1, False, LOST), "publish", 2, DealState(2, True, LOST)),
        # outcome changed while closed (lost → won) → a new close
        (
            change(closed=True, won=True, stage="Closed Won"),
            DealState(2, True, LOST),
            "publish",
            3,
            DealState(3, True, "won|Closed Won"),
        ),
        # open and never seen closed → nothing to do, nothing remembered
        (change(closed=False), None, "ignore", 0, None),
        (change(closed=False), DealState(2, False, "x"), "ignore", 2, None),
    ],
)
def test_judge_decides_each_close_once(row, state, action, generation, after):
    # Given a modified Opportunity and what we remember / When judged / Then the verdict
    verdict = judge(row, state)
    assert (verdict.action, verdict.generation, verdict.state_after) == (action, generation, after)


def test_a_close_dated_before_the_baseline_with_nothing_remembered_is_history():
    # Given the org's first cycle started on Nov 18 (grace: 30 days → Oct 19)
    cutoff = stale_before(datetime(2026, 11, 18, 12, 0, tzinfo=UTC))
    old = OpportunityChange(id="006A", system_modstamp=T0, is_closed=True, close_date="2024-03-31")
    lapsed = OpportunityChange(id="006B", system_modstamp=T0, is_closed=True, close_date="2026-10-25")
    # Then an old deal edited now is stale, a deal closed with a lapsed close date is still announced
    assert cutoff == datetime(2026, 10, 19).date()
    assert judge(old, None, cutoff).action == "stale"
    assert judge(lapsed, None, cutoff).action == "publish"
    assert judge(old, DealState(1, False, LOST), cutoff).action == "publish"  # reopened after the baseline
    assert stale_before(None) is None


def test_signature_is_outcome_and_stage():
    assert close_signature(change(closed=True, won=True, stage="Closed Won")) == "won|Closed Won"


def test_first_run_looks_back_lookback_days_and_whole_seconds():
    # Given no watermark / When the window is computed at a time with microseconds
    window = scan_window(T0.replace(microsecond=654321), None, 7)
    # Then it starts lookback days earlier, ends at the whole second, and is a first run
    assert (window.start, window.end, window.first_run) == (T0 - timedelta(days=7), T0, True)


def test_later_runs_start_an_overlap_before_the_watermark():
    window = scan_window(T0, T0 - timedelta(minutes=15), 7)
    assert window.start == T0 - timedelta(minutes=15) - OVERLAP
    assert window.end == T0 and not window.first_run


def test_watermark_in_the_future_never_gives_an_inverted_window():
    window = scan_window(T0, T0 + timedelta(hours=1), 7)
    assert window.start <= window.end


def test_next_watermark_is_the_window_end_when_nothing_was_left():
    window = scan_window(T0, T0 - timedelta(minutes=15), 7)
    assert next_watermark(window, T0 - timedelta(minutes=15), None) == T0


def test_next_watermark_stops_at_a_row_left_for_later():
    # Given a row claimed by a run still in flight / Then the watermark stays at its stamp
    window = scan_window(T0, T0 - timedelta(minutes=15), 7)
    blocked = T0 - timedelta(minutes=7)
    assert next_watermark(window, T0 - timedelta(minutes=15), blocked) == blocked


def test_next_watermark_never_moves_back():
    # Given a blocked row inside the overlap (older than the stored watermark)
    window = scan_window(T0, T0 - timedelta(minutes=2), 7)
    current = T0 - timedelta(minutes=2)
    # Then the watermark stays where it was (the next window re-reads the row anyway)
    assert next_watermark(window, current, T0 - timedelta(minutes=6)) == current


def test_claim_key_names_org_opportunity_and_generation():
    assert claim_key("acme", "006A", 2) == "deal-closed#acme#006A#2"


def test_call_ids_come_from_marker_lines_only():
    text = "Summary mentions callsync-ref: nope\nCall: https://x/c/1\ncallsync-ref: c-1\n  callsync-ref: c-1  \n"
    assert call_ids_in(text) == ["c-1"]
    assert call_ids_in(None) == []
