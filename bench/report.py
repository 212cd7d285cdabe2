"""Renders the benchmark's figures as Markdown (printed, and written to docs/benchmarks.md)."""

from __future__ import annotations

from collections.abc import Sequence

from bench.api_budget import TARGETS, Budget
from bench.budget_day import COST_PER_CALL, BudgetDay
from bench.concurrency import STEPS as LAMBDA_STEPS
from bench.cost import allocation_share, per_thousand, total_dollars
from bench.harness import STEP_NAMES
from bench.state_size import TARGET_BYTES
from bench.suite import Results

IMPORT_TARGET_MS = 350
LAYER_TARGET_BYTES = 25 * 1024 * 1024
STEPS = [STEP_NAMES[k] for k in ("match", "contacts", "fields", "activity")]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def _kib(n: int) -> str:
    return f"{n / 1024:.1f} KiB"


def _ok(met: bool) -> str:
    return "met" if met else "**missed**"


def _budget_day_section(d: BudgetDay) -> list[str]:
    median = d.hold_hours[len(d.hold_hours) // 2] if d.hold_hours else 0.0
    return [
        "## 9. API budget guard: a simulated day (bench/budget_day.py)",
        "",
        f"{d.calls:,} calls arrive at random times over 24 hours; the allocation is sized for {d.sized_for:,} "
        f"({d.sized_for:,} x {COST_PER_CALL} requests",
        f"= {d.allowed:,}, `api_budget.max_share` 0.8 of a {d.limit:,} limit). callsync's own guard and resumer "
        "run on a simulated clock",
        "(resumer every 15 minutes) against a rolling 24-hour count, until every held call has completed.",
        "",
        *_table(
            ["measure", "value"],
            [
                ["most requests in the rolling 24 h (share)", f"{d.peak_used:,} ({d.allowed:,})"],
                ["requests made (usage reads among them)", f"{d.requests:,} ({d.usage_reads})"],
                ["calls completed at once", f"{d.completed_first_time:,}"],
                ["calls held (DEFERRED), then completed", f"{d.completed_after_hold:,} of {d.held:,}"],
                ["calls never completed", d.not_completed],
                ["held: median / longest wait", f"{median:.1f} h / {d.longest_hold_hours:.1f} h"],
                ["last call completed", f"hour {d.last_completion_hours:.1f}"],
            ],
        ),
        "",
        "The held calls wait for the requests of the day before to leave the rolling window: a call held at hour",
        "18 runs at about hour 24 plus the time the backlog ahead of it takes to fit. A call whose replay is held",
        "again keeps its place in the held list (oldest first), so no call waits behind calls held after it.",
        "Usage reads are the guard's `GET limits/` when its stored reading is over 15 minutes old (at most 96 a",
        "day, kept free in the share). Each admitted call's estimate is reserved for 5 minutes on top of the",
        "reading, so calls checked at the same moment cannot together pass the share; the reservation overlaps",
        "the call's own requests, which keeps the peak a little under the share.",
        "",
    ]


def targets(r: Results) -> list[tuple[str, str, bool, str]]:
    """(target, measured, met, why) for every target of the benchmark (docs/benchmarks.md)."""
    out = []
    by_shape = {b.shape: b for b in r.budgets}
    for (shape, which), limit in TARGETS.items():
        b = by_shape[shape]
        measure = b.cold if which == "cold" else b.warm
        why = ", ".join(f"{s.step} {s.emulator_requests}" for s in measure.steps if s.emulator_requests)
        out.append(
            (f"{shape} {which} ≤ {limit} requests", str(measure.api_requests), measure.api_requests <= limit, why)
        )
    for imp in r.imports:
        why = ", ".join(f"{name} {ms:.0f} ms" for name, ms in imp.heaviest[:4])
        out.append(
            (
                f"import {imp.function} ≤ {IMPORT_TARGET_MS} ms",
                f"{imp.milliseconds:.0f} ms",
                imp.milliseconds <= IMPORT_TARGET_MS,
                why,
            )
        )
    if r.layer is not None and r.layer.error is None:
        why = ", ".join(f"{name} {_mb(size)}" for name, size in r.layer.packages[:5])
        out.append(
            ("layer ≤ 25 MB unzipped", _mb(r.layer.unzipped_bytes), r.layer.unzipped_bytes <= LAYER_TARGET_BYTES, why)
        )
    if r.state_size is not None:
        z = r.state_size
        out.append(
            (
                f"largest call's state < {_kib(TARGET_BYTES)}",
                f"{_kib(z.max_state_bytes)}",
                z.met,
                f"{z.status}; between two states, section 7",
            )
        )
    if r.budget_day is not None:
        d = r.budget_day
        out.append(
            (
                "budget day: never past the share",
                f"{d.peak_used:,} ≤ {d.allowed:,}",
                d.within_share,
                f"{d.held} calls held, {d.usage_reads} usage reads",
            )
        )
        out.append(
            (
                "budget day: every held call completes",
                f"{d.completed_after_hold} of {d.held}",
                d.not_completed == 0,
                f"last at hour {d.last_completion_hours:.1f}",
            )
        )
    if len(r.scale) == 2:
        small, big = r.scale
        flat = big.p50 <= max(small.p50 * 2, small.p50 + 0.005)
        out.append(
            (
                "matching flat from small to big org",
                f"{_ms(small.p50)} → {_ms(big.p50)} ms p50",
                flat,
                f"{small.api_requests} → {big.api_requests} requests per match",
            )
        )
    return out


def _budget_rows(budgets: list[Budget]) -> list[list[object]]:
    rows = []
    for b in budgets:
        rows.append(
            [
                b.shape,
                b.cold.api_requests,
                b.warm.api_requests,
                b.warm_same_deal.api_requests,
                b.naive,
                b.floor,
                "; ".join(f"{which} ≤ {limit}" for (shape, which), limit in TARGETS.items() if shape == b.shape),
            ]
        )
    return rows


def _step_rows(budgets: list[Budget]) -> list[list[object]]:
    rows = []
    for step in [STEP_NAMES["budget"], *STEPS, STEP_NAMES["record"]]:
        row: list[object] = [step]
        for b in budgets:
            for which in ("cold", "warm", "warm_same_deal"):
                row.append(b.per_step(which).get(step, 0))
        rows.append(row)
    return rows


def render(r: Results) -> str:
    m = r.machine
    lines = ["# Benchmarks", ""]
    if r.mode.smoke:
        lines += ["> **Smoke run** (`--smoke`): 3 calls, no layer build — the figures are not meaningful.", ""]
    lines += [
        "Correctness and thrift with the customer's API allocation, measured side by side.",
        "Regenerate with `make bench` (or `scripts/bench`); `make bench-smoke` is the CI version.",
        "Everything runs on one machine: moto built from `template.yaml`, the handlers in-process, the",
        "Salesforce emulator (`callsync_dev.emulator`) counting requests the way Salesforce does.",
        "",
        *_table(
            ["machine", ""],
            [
                ["date", m["date"]],
                ["host", m["host"]],
                ["cpu", m["cpu"]],
                ["python", m["python"]],
                ["load average at the end (1/5/15 min)", m["load"]],
                ["benchmark wall time", f"{r.seconds:.0f} s"],
            ],
        ),
        "",
        "## Targets",
        "",
        *_table(
            ["target", "measured", "status", "where it goes"], [[t, v, _ok(ok), why] for t, v, ok, why in targets(r)]
        ),
        "",
        "## 1. Salesforce API requests per call (counted by the emulator)",
        "",
        "*Cold*: first call of a fresh process (empty describe cache). *Warm*: the next call of the same",
        "org, on another deal. *Same deal again*: a third call on the first call's deal, a moment later.",
        "*Naive*: `bench/naive_sync.py` (one query per participant, one insert per record, one update per",
        "field, simple-salesforce object calls) on the same org and call. *Floor*: one read, one write.",
        "",
        "Typical: 2 internal + 3 external participants (1 new), 6 mapped fields (5 Opportunity, 1 Contact),",
        "notes, 1 action item, an Event with Shared Activities. Large: 40 participants (4 internal, 5 new),",
        "20 mapped fields (14 Opportunity, 3 Account, 3 Contact), 10 action items.",
        "",
        *_table(["call", "cold", "warm", "same deal again", "naive", "floor", "target"], _budget_rows(r.budgets)),
        "",
        "Per step (emulator count; each step's own `StepReport.api_requests` "
        + ("agrees)." if not any(b.mismatches for b in r.budgets) else "differs, see below)."),
        "",
        *_table(
            ["step", *[f"{b.shape} {w}" for b in r.budgets for w in ("cold", "warm", "same deal")]],
            _step_rows(r.budgets),
        ),
        "",
    ]
    for b in r.budgets:
        lines += [f"- mismatch: {m}" for m in b.mismatches]
    s = r.steps
    lines += [
        f"## 2. Compute per call (typical, {s.calls} warm calls, in-process against the emulator)",
        "",
        "Each step handler invoked in sequence with real `Dependencies` over moto + the emulator over HTTPS",
        "on loopback (no Step Functions interpreter). Milliseconds:",
        "",
        *_table(
            ["step", "p50", "p95", "mean"],
            [[step, _ms(s.p(step, 50)), _ms(s.p(step, 95)), _ms(s.mean(step))] for step in s.seconds]
            + [["**whole call**", _ms(s.total(50)), _ms(s.total(95)), ""]],
        ),
        "",
    ]
    t = r.throughput
    runs = [t.small] + ([t.large] if t.large else [])
    lines += [
        "Whole local stack (`callsync run`: SQS → consumer → moto's ASL interpreter → handlers → emulator;",
        "start-up of moto, the template and the emulator included in the wall time):",
        "",
        *_table(
            ["calls", "wall", "calls/min", "statuses", "Salesforce requests per call"],
            [
                [
                    run.calls,
                    f"{run.wall_seconds:.1f} s",
                    f"{run.calls_per_minute:.0f}",
                    ", ".join(f"{k} {v}" for k, v in sorted(run.statuses.items())),
                    f"{run.api_requests / run.calls:.2f}",
                ]
                for run in runs
            ],
        ),
        "",
    ]
    if t.marginal_calls_per_minute:
        lines += [f"Marginal throughput (start-up excluded): **{t.marginal_calls_per_minute:.0f} calls/min**.", ""]
    lines += [
        f"## 3. Cold-start proxies (target: import ≤ {IMPORT_TARGET_MS} ms, layer ≤ 25 MB unzipped)",
        "",
        *(
            [
                "`python3.13 -S -B -X importtime -c 'import app'` in each `functions/<dir>` — a clean CPython 3.13 as",
                "Lambda starts one: on the path only the function's directory, **the layer as built by",
                "`layers/callsync/Makefile`** (the same lock and compiled bytecode `sam build` ships, with this "
                "machine's",
                "wheels so that it can be imported here) and the runtime's own packages "
                "(`requirements/lambda-runtime.txt`:",
                "boto3, awslambdaric); nothing of any site-packages (`-S`), no bytecode written (`-B`: `/opt` is",
                "read-only, only the shipped bytecode counts). `LAMBDA_TASK_ROOT` is set so tracing is on as deployed",
                "(`Tracing: Active`: the X-Ray SDK is imported). Median of "
                f"{r.mode.import_runs} runs after one that is not counted (it warms the file cache). *CPU* is the",
                "process's user + system time (start-up, import and exit): wall times on a loaded machine",
                "stretch, CPU time much less — read the load average in the machine table.",
            ]
            if not r.mode.smoke
            else [
                "`python -X importtime -c 'import app'`, the layer's *source* on `PYTHONPATH`, this venv's Python",
                "(`--smoke`: not the built layer, not meaningful).",
            ]
        ),
        "",
        *_table(
            [
                "handler",
                "import (ms, median)",
                "fastest",
                "CPU (ms, median)",
                "status",
                "heaviest imports (cumulative ms)",
            ],
            [
                [
                    i.function,
                    f"{i.milliseconds:.0f}",
                    f"{i.fastest:.0f}",
                    f"{i.cpu_milliseconds:.0f}",
                    _ok(i.milliseconds <= IMPORT_TARGET_MS),
                    ", ".join(f"{n} {ms:.0f}" for n, ms in i.heaviest),
                ]
                for i in r.imports
            ],
        ),
        "",
    ]
    if r.layer is None:
        lines += ["Layer: not built in this run (`--smoke` / `--no-layer`).", ""]
    elif r.layer.error:
        lines += [f"Layer: the build failed: {r.layer.error}", ""]
    else:
        ly = r.layer
        lines += [
            "Layer built by `layers/callsync/Makefile` exactly as `sam build` does: arm64 / CPython 3.13 wheels of",
            "the hash-locked `layers/callsync/requirements.txt` + the callsync package, with CPython 3.13 bytecode",
            "(unchecked-hash), without what the Lambda runtime provides (boto3, botocore, s3transfer, jmespath: a",
            "copy would shadow the runtime's), without cryptography/cffi (only simple-salesforce's JWT login needs",
            "them; pyjwt imports them optionally), and without console scripts, type stubs, SBOMs or C sources.",
            "",
            f"- unzipped: **{_mb(ly.unzipped_bytes)}** ({_ok(ly.unzipped_bytes <= LAYER_TARGET_BYTES)}); zipped:"
            f" {_mb(ly.zipped_bytes)}",
            f"- without simple-salesforce's SOAP dependencies (zeep, lxml, …), which callsync never calls but"
            f" `simple_salesforce` imports at import time: {_mb(ly.without_unused_bytes)}",
            "- largest: " + ", ".join(f"{n} {_mb(size)}" for n, size in ly.packages[:10]),
            "",
        ]
    lines += [
        "## 4. Scale: matching time by org size",
        "",
        "Warm MatchOpportunity handler (typical call), milliseconds; the org's other records sit on 1,000",
        "unrelated Accounts. Emulator load time is the emulator's, not callsync's.",
        "",
        *_table(
            ["Contacts", "Opportunities", "p50", "p95", "requests", "org load (s)"],
            [
                [
                    f"{p.contacts:,}",
                    f"{p.opportunities:,}",
                    _ms(p.p50),
                    _ms(p.p95),
                    p.api_requests,
                    f"{p.load_seconds:.1f}",
                ]
                for p in r.scale
            ],
        ),
        "",
    ]
    costs = per_thousand(r.counts)
    c = r.counts
    warm = r.budgets[0].warm.api_requests
    lines += [
        "## 5. Cost on paper (per 1,000 typical calls, us-east-1 list prices, free tiers ignored)",
        "",
        f"Per call, measured: {c.state_transitions:.2f} state transitions, {c.lambda_invocations:.2f} Lambda"
        f" invocations, {c.compute_seconds * 1000:.0f} ms handler compute, {c.salesforce_requests:.0f} Salesforce"
        f" requests, {c.dynamodb_requests:.1f} DynamoDB requests (~{c.dynamodb_wru:.1f} WRU,"
        f" {c.dynamodb_rru:.1f} RRU), {c.secrets_calls:.2f} Secrets Manager calls (upper bound"
        f" {c.secrets_calls_upper:.0f}: one per Salesforce step when each container's 60 s cache is cold).",
        "Lambda is billed on wall time, which on AWS is mostly waiting for Salesforce: the second GB-s line",
        "assumes the latencies shown (not measured here).",
        "",
        *_table(
            ["item", "quantity / 1,000 calls", "USD / 1,000 calls"],
            [[x.label, f"{x.quantity:,.1f}", f"{x.dollars:.4f}"] for x in costs]
            + [["**total** (pessimistic lines)", "", f"**{total_dollars(costs):.4f}**"]],
        ),
        "",
        "Daily API allocation of a 100-seat Enterprise org (100,000 + 1,000 per seat = 200,000 requests / 24 h) at",
        "20 calls per seat per day (2,000 calls):",
        "",
        *_table(
            ["implementation", "requests / call", "requests / day", "share of allocation"],
            [
                [name, n, f"{n * 2000:,}", f"{allocation_share(n):.1%}"]
                for name, n in [
                    ("callsync warm", warm),
                    ("callsync cold (every call)", r.budgets[0].cold.api_requests),
                    ("naive", r.budgets[0].naive),
                    ("floor", 2),
                ]
            ],
        ),
        "",
    ]
    concurrency_rows: list[list[object]] = [
        [
            p.calls,
            p.succeeded,
            p.lost,
            p.duplicated,
            f"{p.requests_per_call:.1f}",
            f"{p.wall_seconds:.1f}",
            *(f"{_ms(p.p(s, 50))} / {_ms(p.p(s, 95))}" for s in LAMBDA_STEPS),
        ]
        for p in r.concurrency
    ]
    lines += [
        "## 6. Concurrency: N different calls on one deal at once (whole local stack)",
        "",
        "Each call appends to an Opportunity text field, the primary Contact's field and a via-record, adds a",
        "multi-select value and brings the same new person; *lost* / *duplicated* count those contributions in",
        "the org afterwards (target: 0 and 0). Step times are handler wall times, lease waits included",
        "(in-process, one machine: they measure contention, not AWS latency).",
        "",
        "Requests per call include the first call's cold describes and, for calls that collide, SyncFields' fresh",
        "read under the lease (one more request, only when another call wrote the record after the read-ahead).",
        "SyncFields' p95 at the largest N is the lease queue: the writes to one Opportunity are serialised, each",
        "call waiting its turn (up to 20 s in the function, then the state machine's `ConcurrentUpdate` retrier).",
        "",
        *_table(
            [
                "calls",
                "succeeded",
                "lost",
                "duplicated",
                "requests / call",
                "wall (s)",
                *(f"{s.removesuffix('Function')} p50 / p95" for s in LAMBDA_STEPS),
            ],
            concurrency_rows,
        ),
        "",
    ]
    if r.state_size is not None:
        z = r.state_size
        lines += [
            "## 7. State size of the largest call",
            "",
            "`bench/state_size.py` (the call `tests/e2e/test_state_size_e2e.py` asserts): 40 participants (35 new),",
            "20 mapped fields each already holding 30,000 characters, 30 action items, through `callsync run`.",
            "Step Functions refuses a state over 256 KiB (`States.DataLimitExceeded`, which no `Catch` of",
            "`States.ALL` catches); the target is 64 KiB.",
            "",
            *_table(
                ["status", "largest state between two states", "target", "wall"],
                [[z.status, _kib(z.max_state_bytes), f"< {_kib(TARGET_BYTES)}", f"{z.wall_seconds:.1f} s"]],
            ),
            "",
            "Reports go to the ledger only; read-ahead values over 2 KiB each (12 KiB in all) and activity",
            "candidates over 12 KiB are left out of the state and read by the step that needs them (one request,",
            "only on such deals); who last modified each record read ahead rides beside its values (3 KiB in all).",
            "",
        ]
    if r.status_lookup is not None:
        from bench.status_lookup import render as status_rows

        lines += [
            "## 8. Status lookup (`callsync status`, the `call_status` function)",
            "",
            "The demo call and its second revision through `callsync run --sequential --state DIR`, then the status",
            "looked up through the adapter and service the function uses, against the template's ledger table in",
            "moto. Target: one DynamoDB Query per status (every revision of a call is one partition). Latency is",
            "moto's in-process answer plus the mapping, on this machine: callsync's own work, not a network trip.",
            "",
            *status_rows(r.status_lookup),
            "",
            "Every revision of a call is one partition of the ledger (`call_key` = `org#call`), so a status is one",
            "strongly consistent Query whatever the revision asked for (a Query pages at 1 MB, far above a call's",
            "ledger). On AWS, expect one DynamoDB round trip (single-digit milliseconds) plus a warm function's",
            "overhead.",
            "",
        ]
    if r.budget_day is not None:
        lines += _budget_day_section(r.budget_day)
    lines += ["## Reading the misses", "", *_analysis(r), ""]
    lines += [f"- {n}" for n in r.notes]
    return "\n".join(lines).rstrip() + "\n"


def _analysis(r: Results) -> list[str]:
    """Why the figures are what they are (what each request is for; what the misses come from)."""
    typical = r.budgets[0]
    out = [
        "- **Requests.** Warm, each step spends one request: MatchOpportunity one composite of ≤5 queries per",
        "  20 participant emails (hence 2 for 40 people), CreateContacts one sObject Collections insert,",
        "  SyncFields one composite write, LogActivity one composite write (Event, relations, note, links,",
        "  follow-ups). Cold adds one describe composite, sent by MatchOpportunity: it describes its own objects",
        "  and every object the later steps will describe (mapped objects and via-objects, the activity object,",
        "  Task for follow-ups, ContentNote for notes); the global describe (`GET sobjects`, Shared Activities)",
        "  rides along in any describe composite when it is missing or stale. Describes are cached in DynamoDB",
        "  for 24 h per org, so on AWS 'cold' is an org's first call of the day, not a Lambda cold start.",
        "  CheckApiBudget (the API budget guard) reads the org's usage (`GET limits/`) only when its stored",
        "  reading is over 15 minutes old, as on a fresh org: at most 96 requests a day per org, none per call",
        "  otherwise (every Salesforce answer's `Sforce-Limit-Info` refreshes the reading).",
        *(
            [
                f"- **Same deal again** ({typical.warm_same_deal.api_requests} for the typical call, as warm): "
                "SyncFields trusts MatchOpportunity's",
                "  read-ahead because it was taken (`MatchResult.read_at`) after the earlier call's write, which its",
                "  lease stamps (`written_at`); a read-ahead older than another call's write is read afresh.",
            ]
            if typical.warm_same_deal.api_requests <= typical.warm.api_requests
            else [
                f"- **Same deal again** ({typical.warm_same_deal.api_requests} for the typical call): SyncFields "
                "re-reads a record another call",
                "  wrote after MatchOpportunity's read-ahead (its lease's stamp vs `MatchResult.read_at`).",
            ]
        ),
        "- **Whole stack** requests per call exceed the warm figure because the first executions of a batch",
        "  run concurrently with an empty describe cache, and each fetches the describes.",
    ]
    if any(i.milliseconds > IMPORT_TARGET_MS for i in r.imports):
        out += [
            "- **Import time.** Every Salesforce step imports `simple_salesforce`, whose `api` module imports",
            "  `zeep`/`lxml` (SOAP metadata API) and `jwt` with `cryptography` (JWT login) — callsync uses",
            "  neither. Lambda at 512 MB gets about a third of a vCPU, so these figures are a lower bound there.",
        ]
    out += [
        "- **What import time leaves out.** `callsync.composition` imports boto3 and the adapters when it builds",
        "  them (the first invocation), not at import; StartSync and RecordOutcome never import",
        "  `simple_salesforce`. The figures are taken with tracing on, as deployed; with tracing off",
        "  (`POWERTOOLS_TRACE_DISABLED`, local runs and tests) the Tracer gets a no-op provider and",
        "  `aws_xray_sdk` is not imported at all.",
    ]
    if r.layer is not None and r.layer.unzipped_bytes > LAYER_TARGET_BYTES:
        out += [
            "- **Layer size.** What remains over the target is `lxml` (with zeep): simple-salesforce 1.12 imports",
            "  its SOAP metadata client at import time, so it must ship although callsync never calls it;",
            f"  without it the layer would be {_mb(r.layer.without_unused_bytes)}. Dropping simple-salesforce for a",
            "  thin REST client would meet the target; we keep the well-kept library.",
        ]
    return out
