"""Salesforce API requests per call, counted by the emulator: callsync cold/warm, the naive sync, the floor."""

from __future__ import annotations

from dataclasses import dataclass, field

from callsync_dev.emulator import Emulator
from callsync_dev.emulator.testing import salesforce_client

from bench.fixtures import CallShape, call_event, org_fixture, settings_fixture
from bench.harness import CallMeasure, StepHarness
from bench.naive_sync import naive_sync

FLOOR = 2  # one read, one write
TARGETS = {("typical", "warm"): 4, ("typical", "cold"): 10, ("large", "warm"): 6}


@dataclass
class Budget:
    """Requests for one call shape.

    cold: first call of a fresh process (empty describe cache, no token cached).
    warm: the next call of the same org, on another deal.
    warm_same_deal: a third call, on the first call's deal again (its write claim is recent).
    """

    shape: str
    cold: CallMeasure
    warm: CallMeasure
    warm_same_deal: CallMeasure
    naive: int
    floor: int = FLOOR
    mismatches: list[str] = field(default_factory=list)  # steps whose own count differs from the emulator's

    def per_step(self, which: str) -> dict[str, int]:
        measure: CallMeasure = getattr(self, which)
        return {s.step: s.emulator_requests for s in measure.steps}


def measure_budget(shape: CallShape) -> Budget:
    """Three calls through the step handlers on one fresh harness, and one naive call on a fresh emulator."""
    with StepHarness(org_fixture(companies=2), settings_fixture(shape)) as harness:
        cold = harness.run_call(call_event(shape, 0, company=0))
        warm = harness.run_call(call_event(shape, 1, company=1))
        same = harness.run_call(call_event(shape, 2, company=0))
    mismatches = [
        f"{m.call_id} {s.step}: reported {s.reported_requests}, emulator {s.emulator_requests}"
        for m in (cold, warm, same)
        for s in m.steps
        if s.reported_requests is not None and s.reported_requests != s.emulator_requests
    ]
    return Budget(shape.name, cold, warm, same, naive=naive_requests(shape), mismatches=mismatches)


def naive_requests(shape: CallShape) -> int:
    """Requests the naive sync spends on the same call against the same org fixture."""
    with Emulator.from_fixture(org_fixture(companies=2)) as emu:
        sf = salesforce_client(emu.connection)
        before = emu.api_requests
        naive_sync(sf, call_event(shape, 0, company=0), settings_fixture(shape))
        return emu.api_requests - before
