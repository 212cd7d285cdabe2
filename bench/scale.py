"""Matching time against a small and a big org: the match reads by participant email, so it should stay flat."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.fixtures import CONTACTS_PER_COMPANY, TYPICAL, call_event, org_fixture, settings_fixture
from bench.harness import StepHarness
from bench.stats import percentile


@dataclass
class ScalePoint:
    contacts: int
    opportunities: int
    load_seconds: float  # building the emulated org (not callsync's time)
    p50: float
    p95: float
    api_requests: int  # per warm match


def match_time(contacts: int, opportunities: int, repeats: int) -> ScalePoint:
    """Warm MatchOpportunity ``repeats`` times (each its own call_id) in an org of that size."""
    started = time.perf_counter()
    org = org_fixture(
        companies=1,
        extra_contacts=max(0, contacts - CONTACTS_PER_COMPANY),
        extra_opportunities=max(0, opportunities - 1),
    )
    settings = settings_fixture(TYPICAL)
    samples: list[float] = []
    with StepHarness(org, settings) as harness:
        load = time.perf_counter() - started
        harness.invoke("MatchOpportunityFunction", harness.start_state(call_event(TYPICAL, 0)), "MatchOpportunity")
        requests = 0
        for n in range(1, repeats + 1):
            _, measure = harness.invoke(
                "MatchOpportunityFunction", harness.start_state(call_event(TYPICAL, n)), "MatchOpportunity"
            )
            samples.append(measure.seconds)
            requests = measure.emulator_requests
    return ScalePoint(contacts, opportunities, load, percentile(samples, 50), percentile(samples, 95), requests)
