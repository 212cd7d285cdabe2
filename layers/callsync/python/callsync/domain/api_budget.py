"""The API budget guard's rules: how much of the org's daily allocation callsync may spend, and when a call waits.

Salesforce reports the org's usage in every REST answer (``Sforce-Limit-Info: api-usage=USED/LIMIT``):
the count of the rolling 24 hours, every client of the org included. callsync may spend up to
``allowed = floor(api_budget.max_share * LIMIT)`` of it. A call starts only when its estimate fits with
the reserve for usage reads: ``used + CALL_ESTIMATE + READ_RESERVE <= allowed``; otherwise it is held
(``DEFERRED``) until the window has room.

Usage reads (``GET limits/``) are requests too. callsync reads only when its stored reading is older than
``MAX_READING_AGE_SECONDS`` (every read refreshes it), so at most ``READ_RESERVE`` reads fall in any
24 hours; keeping that many requests of the share free means that even reads made while calls are held
never carry callsync past its share. (An operator's ``callsync replay`` of a held call reads once more.)
"""

from __future__ import annotations

import math
import re

from callsync.models.api_budget import ApiUsage, BudgetCheck

# The most requests one call may cost: the typical cold call's target (docs/benchmarks.md). A warm call
# costs 2-6, so a call admitted with this estimate cannot carry callsync past the share.
CALL_ESTIMATE = 10
# A held call held again keeps its place in the held list; its stamp moves on by this much (the stored
# stamp's resolution, seconds), which tells the resumer it was held again after it was listed.
HELD_AGAIN_STEP = 0.001
# A stored reading older than this is read again (one GET limits/) before deciding: usage leaves the
# rolling window as time passes, so an old reading overstates it.
MAX_READING_AGE_SECONDS = 900
# The share-used level at which the per-org alarm fires (80 % of the share).
ALARM_SHARE = 0.8

# One usage read per MAX_READING_AGE_SECONDS at most: the reads of a rolling 24 hours.
READ_RESERVE = 86_400 // MAX_READING_AGE_SECONDS

_API_USAGE = re.compile(r"(?:^|[;,\s])api-usage=(\d+)/(\d+)")


def parse_limit_info(header: str | None) -> tuple[int, int] | None:
    """``(used, limit)`` from a ``Sforce-Limit-Info`` value (``api-usage=18/5000; api-bursts=1/750``)."""
    if not header:
        return None
    match = _API_USAGE.search(header)
    if match is None or int(match.group(2)) <= 0:
        return None
    return int(match.group(1)), int(match.group(2))


def allowed_requests(limit: int, max_share: float) -> int:
    """How many of the org's ``limit`` daily requests callsync may have in use at once."""
    return math.floor(limit * max_share + 1e-9)


def is_fresh(usage: ApiUsage | None, now: float, *, max_age: float = MAX_READING_AGE_SECONDS) -> bool:
    return usage is not None and now - usage.read_at <= max_age


def check(
    usage: ApiUsage,
    max_share: float,
    *,
    estimate: int = CALL_ESTIMATE,
    api_requests: int = 0,
    reserved: int = 0,
) -> BudgetCheck:
    """Whether a call of ``estimate`` requests fits in the share, from the org's latest reading and the
    requests ``reserved`` by calls admitted since (in flight: not in the reading yet)."""
    allowed = allowed_requests(usage.limit, max_share)
    share_used = usage.used / allowed if allowed else 1.0
    fields = {
        "used": usage.used,
        "reserved": reserved,
        "limit": usage.limit,
        "allowed": allowed,
        "estimate": estimate,
        "share_used": round(share_used, 4),
        "read_at": usage.read_at,
        "api_requests": api_requests,
    }
    if usage.used + reserved + estimate + READ_RESERVE <= allowed:
        return BudgetCheck(deferred=False, **fields)  # type: ignore[arg-type]
    in_flight = f" and calls in flight may use {reserved} more" if reserved else ""
    reason = (
        f"API budget: the org has used {usage.used} of its {usage.limit} daily Salesforce API requests "
        f"(rolling 24 hours){in_flight}; api_budget.max_share {max_share:g} allows callsync {allowed}, "
        f"and a call needs up to {estimate} (plus {READ_RESERVE} kept for usage reads). "
        "The call is held and resumes when the window has room (or run `callsync replay`)."
    )
    return BudgetCheck(deferred=True, reason=reason, **fields)  # type: ignore[arg-type]


def calls_with_room(usage: ApiUsage, max_share: float, *, estimate: int = CALL_ESTIMATE, reserved: int = 0) -> int:
    """How many held calls fit in the share now (each counted at ``estimate``)."""
    room = allowed_requests(usage.limit, max_share) - READ_RESERVE - usage.used - reserved
    return max(room // estimate, 0)
