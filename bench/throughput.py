"""Throughput of the whole local stack (``callsync run``): SQS → consumer → Step Functions (moto's ASL
interpreter) → in-process handlers → emulator, in calls per minute.

The stack's start-up (moto, template, emulator) is paid once per ``run``; the marginal rate
comes from two runs of different sizes: (N - 1) / (wall(N) - wall(1)).
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from callsync_dev import runner
from callsync_dev.localstack import LocalFunction

from bench.aws_calls import AwsCallCounter
from bench.fixtures import TYPICAL, CallShape, call_event, org_fixture, settings_fixture


@dataclass
class StackRun:
    calls: int
    wall_seconds: float
    statuses: Counter[str]
    api_requests: int
    invocations: Counter[str] = field(default_factory=Counter)  # function logical id -> count
    handler_seconds: defaultdict[str, float] = field(
        default_factory=lambda: defaultdict(float)
    )  # function logical id -> summed duration
    aws_calls: Counter[str] = field(default_factory=Counter)  # "dynamodb.PutItem" -> n, made by the handlers

    @property
    def calls_per_minute(self) -> float:
        return self.calls / self.wall_seconds * 60


@dataclass
class Throughput:
    small: StackRun
    large: StackRun | None

    @property
    def marginal_calls_per_minute(self) -> float | None:
        if self.large is None or self.large.wall_seconds <= self.small.wall_seconds:
            return None
        return (self.large.calls - self.small.calls) / (self.large.wall_seconds - self.small.wall_seconds) * 60


@contextmanager
def _count_invocations(run: StackRun) -> Iterator[None]:
    original = LocalFunction.invoke
    lock = threading.Lock()
    aws = AwsCallCounter()

    def counted(fn: LocalFunction, event: Any) -> Any:
        started = time.perf_counter()
        with aws.counting() as calls:
            try:
                return original(fn, event)
            finally:
                with lock:
                    run.invocations[fn.logical_id] += 1
                    run.handler_seconds[fn.logical_id] += time.perf_counter() - started
                    run.aws_calls.update(calls)

    aws.install()
    try:
        with mock.patch.object(LocalFunction, "invoke", counted):
            yield
    finally:
        aws.uninstall()


def run_stack(calls: int, shape: CallShape = TYPICAL) -> StackRun:
    """``callsync run`` on ``calls`` event files (each its own call and deal)."""
    with tempfile.TemporaryDirectory(prefix="callsync-bench-") as tmp:
        paths = []
        for n in range(calls):
            path = Path(tmp) / f"call-{n}.json"
            path.write_text(json.dumps(call_event(shape, n, company=n)), encoding="utf-8")
            paths.append(path)
        result_box: list[runner.RunResult] = []
        stack_run = StackRun(calls, 0.0, Counter(), 0)
        with _count_invocations(stack_run):
            result_box.append(runner.run(paths, org=org_fixture(companies=calls), settings=settings_fixture(shape)))
        result = result_box[0]
    stack_run.wall_seconds = result.wall_seconds
    stack_run.statuses = Counter(r["status"] for r in result.runs)
    stack_run.api_requests = result.api_requests
    return stack_run


def measure_throughput(calls: int, shape: CallShape = TYPICAL) -> Throughput:
    """One run of 1 call and one of ``calls`` (a single run when ``calls`` <= 3: smoke mode)."""
    if calls <= 3:
        return Throughput(run_stack(calls, shape), None)
    return Throughput(run_stack(1, shape), run_stack(calls, shape))
