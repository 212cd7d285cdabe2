"""When a modified Opportunity is a new close, and the window a watch cycle scans (pure rules).

docs/read-side.md, "Closed deals":

- The window: ``(watermark - OVERLAP, now]`` on ``SystemModstamp``; on an org's first run
  (no watermark) ``(now - lookback_days, now]`` and only closed Opportunities, so a first
  run does not flood. The overlap re-reads a few minutes so that rows committed late (a
  long transaction's stamp is older than its commit) are not missed; re-read rows are
  recognised as duplicates below.
- A *close generation* counts the closes of one Opportunity: 1 for the first close we see,
  +1 when it closes again after we saw it open (reopened), or when its outcome changes while
  closed (Closed Lost → Closed Won). Editing a closed Opportunity (amount, close date, next
  step) is the same generation: no new event.
- An Opportunity closed *before* the org's first cycle and edited later is not a new close: with
  nothing remembered, a close whose ``CloseDate`` is more than ``STALE_CLOSE_GRACE`` before the
  org's *baseline* (the start of its first window) is ``stale``. Closes after the baseline are all
  remembered, so this only guards against announcing history.
- One ``deal.closed`` per (org, Opportunity, generation): the service claims that key
  before publishing (``ports.Claims``) and records the generation after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

OVERLAP = timedelta(minutes=5)
STALE_CLOSE_GRACE = timedelta(days=30)
MARKER = re.compile(r"^callsync-ref: (?P<ref>\S.*?)\s*$")


@dataclass(frozen=True)
class OpportunityChange:
    """One Opportunity modified inside the window, as read from Salesforce."""

    id: str
    system_modstamp: datetime
    is_closed: bool
    is_won: bool = False
    name: str | None = None
    stage_name: str | None = None
    close_date: str | None = None
    amount: float | None = None
    account_id: str | None = None
    account_name: str | None = None
    loss_reason: Any = None


@dataclass(frozen=True)
class DealState:
    """What the watcher remembers about one Opportunity: its last published close and whether it is closed."""

    generation: int
    closed: bool
    signature: str = ""


Action = Literal["publish", "duplicate", "reopen", "ignore", "stale"]


@dataclass(frozen=True)
class Verdict:
    action: Action
    generation: int  # the close generation to publish (publish) or the known one
    state_after: DealState | None  # what to remember once the action is done (None: nothing)


def close_signature(change: OpportunityChange) -> str:
    """The outcome of a close: won/lost and the stage. A change of outcome is a new close."""
    return f"{'won' if change.is_won else 'lost'}|{change.stage_name or ''}"


def stale_before(baseline: datetime | None) -> date | None:
    """Closes dated before this day, with nothing remembered, predate the org's first cycle."""
    return (baseline.astimezone(UTC) - STALE_CLOSE_GRACE).date() if baseline else None


def judge(change: OpportunityChange, state: DealState | None, stale_before: date | None = None) -> Verdict:
    """What to do with one modified Opportunity given what we remember about it.

    - open, remembered closed → ``reopen`` (the next close is a new generation);
    - open otherwise → ``ignore``;
    - closed, nothing remembered, ``CloseDate`` before ``stale_before`` → ``stale`` (history);
    - closed, nothing remembered → ``publish`` generation 1;
    - closed, remembered closed with the same outcome → ``duplicate``;
    - closed, remembered open (reopened) or another outcome → ``publish`` the next generation.
    """
    if not change.is_closed:
        if state is not None and state.closed:
            return Verdict("reopen", state.generation, DealState(state.generation, False, state.signature))
        return Verdict("ignore", state.generation if state else 0, None)
    signature = close_signature(change)
    if state is None:
        if stale_before is not None and change.close_date and change.close_date < stale_before.isoformat():
            return Verdict("stale", 0, None)
        return Verdict("publish", 1, DealState(1, True, signature))
    if state.closed and state.signature == signature:
        return Verdict("duplicate", state.generation, None)
    generation = state.generation + 1
    return Verdict("publish", generation, DealState(generation, True, signature))


@dataclass(frozen=True)
class Window:
    start: datetime  # exclusive
    end: datetime  # inclusive
    first_run: bool


def scan_window(now: datetime, watermark: datetime | None, lookback_days: int) -> Window:
    """The ``SystemModstamp`` window of one cycle (see module doc)."""
    now = now.astimezone(UTC).replace(microsecond=0)  # SOQL datetime literals have whole seconds
    if watermark is None:
        return Window(now - timedelta(days=lookback_days), now, True)
    start = watermark.astimezone(UTC) - OVERLAP
    return Window(min(start, now), now, False)


def next_watermark(window: Window, current: datetime | None, blocked_at: datetime | None) -> datetime:
    """Where the next cycle continues: the window's end, or the first row left for later.

    A row left for later (claimed by a run still in flight) keeps the watermark at its stamp, so the
    next window (which starts OVERLAP earlier) reads it again. The watermark never moves back.
    """
    target = window.end if blocked_at is None else min(blocked_at.astimezone(UTC), window.end)
    if current is not None and current.astimezone(UTC) > target:
        return current.astimezone(UTC)
    return target


def close_id(org_id: str, opportunity_id: str, generation: int) -> str:
    return f"{org_id}#{opportunity_id}#{generation}"


def claim_key(org_id: str, opportunity_id: str, generation: int) -> str:
    """The ``ports.Claims`` key taken before publishing one close."""
    return f"deal-closed#{close_id(org_id, opportunity_id, generation)}"


def call_ids_in(description: str | None) -> list[str]:
    """Call ids in the ``callsync-ref:`` marker lines LogActivity writes (``activity_plan.call_ref``)."""
    found: list[str] = []
    for line in (description or "").splitlines():
        match = MARKER.match(line.strip())
        if match and match.group("ref") not in found:
            found.append(match.group("ref"))
    return found
