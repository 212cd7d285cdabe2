"""Runs every measure of the benchmark and gathers the figures (``bench.report`` renders them)."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.api_budget import Budget, measure_budget
from bench.budget_day import BudgetDay, simulate
from bench.cold_start import ImportTime, LayerSize, build_layer_size, built_layer, handler_dirs, import_time
from bench.compute import StepTimes, time_steps
from bench.concurrency import ConcurrencyPoint, measure_concurrency
from bench.cost import CallCounts
from bench.fixtures import LARGE, TYPICAL
from bench.harness import SALESFORCE_STEPS
from bench.scale import ScalePoint, match_time
from bench.state_size import StateSize, measure_state_size
from bench.status_lookup import StatusLookup, measure_status_lookup
from bench.throughput import Throughput, measure_throughput

MEMORY_GB = 0.5  # template.yaml Globals.Function.MemorySize


@dataclass
class Mode:
    """How much to measure. ``smoke``: seconds, for CI (figures are not meaningful)."""

    smoke: bool
    timed_calls: int
    stack_calls: int
    import_runs: int
    build_layer: bool
    scale: list[tuple[int, int]]
    scale_repeats: int
    concurrency: tuple[int, ...] = (2, 8, 32)

    @classmethod
    def full(cls) -> Mode:
        return cls(False, 200, 60, 5, True, [(1_000, 200), (100_000, 20_000)], 50)

    @classmethod
    def smoke_mode(cls) -> Mode:
        return cls(True, 3, 3, 1, False, [(200, 20), (2_000, 200)], 3, (2,))


@dataclass
class Results:
    mode: Mode
    machine: dict[str, str]
    budgets: list[Budget]
    steps: StepTimes
    throughput: Throughput
    imports: list[ImportTime]
    layer: LayerSize | None
    scale: list[ScalePoint]
    counts: CallCounts
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    concurrency: list[ConcurrencyPoint] = field(default_factory=list)
    status_lookup: StatusLookup | None = None
    budget_day: BudgetDay | None = None
    state_size: StateSize | None = None


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "host": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpu": f"{cpu}, {os.cpu_count()} logical CPUs",
        "python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        "load": load,
    }


def call_counts(steps: StepTimes, throughput: Throughput, budget: Budget) -> CallCounts:
    """Per call: AWS figures from the whole-stack run (consumer included), times from the warm step loop."""
    run = throughput.large or throughput.small
    per = 1 / run.calls
    step_functions = sum(n for fn, n in run.invocations.items() if fn != "StartSyncFunction")
    aws = run.aws_calls
    dynamodb = sum(n for k, n in aws.items() if k.startswith("dynamodb.") and k not in ("dynamodb.WRU", "dynamodb.RRU"))
    start_sync_seconds = run.handler_seconds["StartSyncFunction"] * per  # one batch serves up to 10 calls
    compute = sum(steps.mean(s) for s in steps.seconds) + start_sync_seconds
    salesforce_steps = sum(1 for s in budget.warm.steps if s.step in SALESFORCE_STEPS)
    return CallCounts(
        state_transitions=(step_functions + run.calls) * per,  # every Task entered, + the Succeed state
        lambda_invocations=(step_functions + run.invocations["StartSyncFunction"]) * per,
        compute_seconds=compute,
        salesforce_requests=budget.warm.api_requests,
        dynamodb_wru=aws["dynamodb.WRU"] * per,
        dynamodb_rru=aws["dynamodb.RRU"] * per,
        dynamodb_requests=dynamodb * per,
        secrets_calls=aws["secretsmanager.GetSecretValue"] * per,
        secrets_calls_upper=float(salesforce_steps),
        memory_gb=MEMORY_GB,
    )


def run_suite(mode: Mode, progress: bool = True) -> Results:
    started = time.perf_counter()

    def say(message: str) -> None:
        if progress:
            print(f"[bench {time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    say("API requests per call (typical, large; cold, warm; naive)")
    budgets = [measure_budget(TYPICAL), measure_budget(LARGE)]
    say(f"step times over {mode.timed_calls} warm calls")
    steps = time_steps(mode.timed_calls)
    say(f"whole local stack: {mode.stack_calls} calls through callsync run")
    throughput = measure_throughput(mode.stack_calls)
    layer = None
    if mode.build_layer:
        say("handler import times: the layer built for this machine, in a clean CPython 3.13")
        with built_layer() as (python, layer_dir, runtime):
            imports = [
                import_time(d, runs=mode.import_runs, python=python, layer=layer_dir, runtime=runtime)
                for d in handler_dirs()
            ]
        say("building the layer for manylinux2014_aarch64 / cp313")
        layer = build_layer_size()
    else:
        say("handler import times (the layer's source, this venv: not the built layer)")
        imports = [import_time(d, runs=mode.import_runs) for d in handler_dirs()]
    # Alternating passes; the quicker of the two per size (other load on the machine only adds time).
    passes: dict[tuple[int, int], list[ScalePoint]] = {size: [] for size in mode.scale}
    for _ in range(1 if mode.smoke else 2):
        for contacts, opportunities in mode.scale:
            say(f"matching in an org of {contacts:,} Contacts and {opportunities:,} Opportunities")
            passes[(contacts, opportunities)].append(match_time(contacts, opportunities, mode.scale_repeats))
    scale = [min(points, key=lambda p: p.p50) for points in passes.values()]
    concurrency = []
    for calls in mode.concurrency:
        say(f"{calls} concurrent calls on one deal through callsync run")
        concurrency.append(measure_concurrency(calls))
    say("state size: the largest call through callsync run")
    state_size = measure_state_size()
    say("status lookup: DynamoDB requests and latency per call status")
    status_lookup = measure_status_lookup(5 if mode.smoke else 200)
    say("API budget guard: a simulated day of 2,000 calls against an allocation sized for 1,500")
    budget_day = simulate()
    counts = call_counts(steps, throughput, budgets[0])
    results = Results(
        mode, machine(), budgets, steps, throughput, imports, layer, scale, counts, concurrency=concurrency
    )
    results.status_lookup = status_lookup
    results.budget_day = budget_day
    results.state_size = state_size
    results.seconds = time.perf_counter() - started
    return results
