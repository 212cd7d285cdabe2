"""A simulated day against the API budget guard: 2,000 calls, an allocation sized for 1,500.

The guard and the resumer are callsync's own services (``CheckApiBudget``, ``ResumeDeferred``) with the
in-memory stores of the unit tests; Salesforce is a rolling 24-hour counter that answers usage reads (and
counts them) the way ``Sforce-Limit-Info`` does. The clock is simulated: calls arrive at random times over
24 hours, the resumer ticks every 15 minutes, and the run goes on until every held call has completed.

Sizing: each call costs ``COST_PER_CALL`` requests (the typical call, warm: docs/benchmarks.md §1), so an
allocation sized for 1,500 calls lets callsync spend 1,500 x 4 = 6,000 requests (``api_budget.max_share``
0.8 of a 7,500 limit). Measured: the most requests callsync had in the rolling window at any time (never
more than the share), how many calls were held, and when the last held call completed.
"""

from __future__ import annotations

import bisect
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from callsync.domain.api_budget import allowed_requests
from callsync.models.api_budget import ApiUsage
from callsync.models.event import CallProcessed
from callsync.models.settings import OrgSettings
from callsync.services.api_budget import BudgetInput, CheckApiBudget, ResumeDeferred

from tests.support.fakes import FakeApiUsageStore, FakeDeferredCalls, FakeLedger, FakeSettingsStore

DAY = 86_400.0
TICK = 900.0  # the resumer's schedule (template.yaml: rate(15 minutes))
COST_PER_CALL = 4
EVENT = Path(__file__).resolve().parents[1] / "events" / "demo_event.json"


@dataclass
class BudgetDay:
    calls: int
    sized_for: int
    limit: int
    allowed: int
    peak_used: int  # the most requests in the rolling 24 hours at any moment
    requests: int  # every request callsync made (calls and usage reads)
    usage_reads: int
    held: int  # calls held at least once
    completed_first_time: int
    completed_after_hold: int
    not_completed: int
    last_completion_hours: float
    longest_hold_hours: float
    hold_hours: list[float] = field(default_factory=list)

    @property
    def within_share(self) -> bool:
        return self.peak_used <= self.allowed


class RollingOrg:
    """Salesforce's count: every request of the last 24 hours."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.times: list[float] = []
        self.peak = 0
        self.reads = 0

    def used(self, now: float) -> int:
        return len(self.times) - bisect.bisect_right(self.times, now - DAY)

    def spend(self, now: float, requests: int) -> None:
        self.times.extend([now] * requests)
        self.peak = max(self.peak, self.used(now))

    def reading(self, now: float) -> ApiUsage:
        return ApiUsage(used=self.used(now), limit=self.limit, read_at=now)

    def read_usage(self, now: float) -> ApiUsage:
        self.reads += 1
        self.spend(now, 1)  # GET limits/ is a request too
        return self.reading(now)


def simulate(calls: int = 2_000, sized_for: int = 1_500, *, max_share: float = 0.8, seed: int = 7) -> BudgetDay:
    limit = round(sized_for * COST_PER_CALL / max_share)
    org = RollingOrg(limit)
    clock = [0.0]
    settings = OrgSettings.model_validate({"org_id": "acme", "api_budget": {"max_share": max_share}})
    usage, deferred = FakeApiUsageStore(), FakeDeferredCalls()
    guard = CheckApiBudget(usage, deferred, FakeLedger(), lambda: org.read_usage(clock[0]), clock=lambda: clock[0])
    base = json.loads(EVENT.read_text())
    rng = random.Random(seed)  # noqa: S311 - reproducible arrival times, not security
    arrivals = sorted(rng.uniform(0, DAY) for _ in range(calls))
    arrived: dict[str, float] = {}
    completed: dict[str, float] = {}
    replays: dict[str, int] = {}
    held_once: set[str] = set()

    def attempt(call_id: str, execution_name: str) -> None:
        call = CallProcessed.model_validate({**base, "call_id": call_id})
        decision = guard.run(BudgetInput(call=call, settings=settings, execution_name=execution_name))
        if decision.deferred:
            held_once.add(call_id)
            return
        org.spend(clock[0], COST_PER_CALL)
        usage.record("acme", org.reading(clock[0]))  # what the steps store after their requests
        completed[call_id] = clock[0]

    def replay(org_id: str, call_id: str) -> bool:
        replays[call_id] = replays.get(call_id, 0) + 1
        attempt(call_id, f"{org_id}-{call_id}-1-replay{replays[call_id]}")
        return True  # started: the call leaves the held list (its guard holds it again if there is no room)

    resumer = ResumeDeferred(
        orgs=lambda: ["acme"],
        settings=FakeSettingsStore([settings]),
        usage=usage,
        deferred=deferred,
        replay=replay,
        clock=lambda: clock[0],
    )
    next_tick = TICK
    for i, at in enumerate(arrivals):
        while next_tick <= at:
            clock[0] = next_tick
            resumer.run()
            next_tick += TICK
        clock[0] = at
        call_id = f"call-{i:05d}"
        arrived[call_id] = at
        attempt(call_id, f"acme-{call_id}-1")
    while deferred.list("acme") and next_tick < 4 * DAY:
        clock[0] = next_tick
        resumer.run()
        next_tick += TICK
    holds = sorted((completed[c] - arrived[c]) / 3600 for c in held_once if c in completed)
    return BudgetDay(
        calls=calls,
        sized_for=sized_for,
        limit=limit,
        allowed=allowed_requests(limit, max_share),
        peak_used=org.peak,
        requests=len(org.times),
        usage_reads=org.reads,
        held=len(held_once),
        completed_first_time=len(completed) - len(held_once & set(completed)),
        completed_after_hold=len(held_once & set(completed)),
        not_completed=calls - len(completed),
        last_completion_hours=max(completed.values()) / 3600 if completed else 0.0,
        longest_hold_hours=holds[-1] if holds else 0.0,
        hold_hours=holds,
    )


if __name__ == "__main__":
    print(simulate())
