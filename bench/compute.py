"""Compute per call: each step's time in-process against the emulator, p50/p95 over N warm calls."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from bench.fixtures import TYPICAL, CallShape, call_event, org_fixture, settings_fixture
from bench.harness import StepHarness
from bench.stats import percentile


@dataclass
class StepTimes:
    calls: int
    seconds: dict[str, list[float]]  # step -> one duration per call
    aws_calls: Counter[str] = field(default_factory=Counter)  # summed over the calls
    api_requests: int = 0  # summed over the calls

    def p(self, step: str, pct: float) -> float:
        return percentile(self.seconds[step], pct)

    def total(self, pct: float) -> float:
        per_call = [sum(values[i] for values in self.seconds.values()) for i in range(self.calls)]
        return percentile(per_call, pct)

    def mean(self, step: str) -> float:
        return sum(self.seconds[step]) / len(self.seconds[step])


def time_steps(calls: int, shape: CallShape = TYPICAL) -> StepTimes:
    """One cold call (not timed), then ``calls`` warm calls, each on its own deal."""
    seconds: dict[str, list[float]] = defaultdict(list)
    aws: Counter[str] = Counter()
    requests = 0
    with StepHarness(org_fixture(companies=calls + 1), settings_fixture(shape)) as harness:
        harness.run_call(call_event(shape, 0, company=0))
        for n in range(1, calls + 1):
            measure = harness.run_call(call_event(shape, n, company=n))
            requests += measure.api_requests
            for step in measure.steps:
                seconds[step.step].append(step.seconds)
                aws.update(step.aws_calls)
    return StepTimes(calls, dict(seconds), aws, requests)
