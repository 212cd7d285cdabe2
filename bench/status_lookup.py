"""Status lookup: DynamoDB requests and latency of one call status (``callsync status``, ``call_status``).

The ledger comes from the real pipe: the demo call and its second revision through ``callsync run
--sequential --state DIR`` (two revisions: deliveries, four step reports and an outcome each). Its items are
loaded into a fresh embedded DynamoDB (moto) with the template's key schema, and the status is looked up
``lookups`` times through the adapter and the service the function uses, counting every DynamoDB request
(``bench.aws_calls``). Target: one Query per status. Latency is moto's in-process answer plus the mapping:
it measures callsync's own work, not DynamoDB's network round trip.

``python -m bench.status_lookup [LOOKUPS]`` prints the figures.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.aws_calls import AwsCallCounter
from bench.stats import percentile

REPO = Path(__file__).resolve().parents[1]
CALL = "zoom-8841-2026-06-03"


@dataclass
class StatusLookup:
    lookups: int
    revisions: int
    entries: int  # ledger entries of the call (both revisions)
    partition_bytes: int  # the call's items as JSON
    dynamodb_requests: float  # per status
    queries: float  # per status
    rru: float  # read request units per status: strongly consistent, one per started 4 KB read
    p50_ms: float
    p95_ms: float
    mapping_p50_ms: float  # the service's mapping alone (no DynamoDB)
    records: int  # records the latest revision's status lists

    @property
    def met(self) -> bool:
        return self.queries == 1 and self.dynamodb_requests == 1


def ledger_items(state: Path) -> list[dict[str, object]]:
    """The ledger of the demo call's two revisions, written by the real pipeline into ``state``."""
    from callsync_dev.runner import DEMO_EVENT, run
    from callsync_dev.state_dir import StateDir

    done = run([DEMO_EVENT, REPO / "events" / "demo_event_revision2.json"], sequential=True, state=state)
    assert [r["status"] for r in done.runs] == ["SUCCEEDED", "SUCCEEDED"], done.runs
    items = json.loads(StateDir(state).table_path("LedgerTable").read_text(encoding="utf-8"))
    assert isinstance(items, list)
    return items


def measure_status_lookup(lookups: int = 200) -> StatusLookup:
    from callsync.adapters.dynamodb_ledger import DynamoDbLedger
    from callsync.config import Config
    from callsync.services.call_status import CallStatusService, call_status
    from callsync_dev.admin_aws import local_aws
    from callsync_dev.localstack import _typed_from_json

    with tempfile.TemporaryDirectory(prefix="callsync-bench-status-") as tmp:
        items = ledger_items(Path(tmp) / "state")
    config = Config()
    counter = AwsCallCounter()
    counter.install()
    try:
        with local_aws(config) as session:
            client = session.client("dynamodb")
            for item in items:
                client.put_item(TableName=config.ledger_table, Item=_typed_from_json(item))
            ledger = DynamoDbLedger(session.resource("dynamodb").Table(config.ledger_table))
            service = CallStatusService(ledger)
            service.run("acme", CALL)  # first use: the resource's model loads
            seconds: list[float] = []
            calls: Counter[str] = Counter()
            for _ in range(lookups):
                with counter.counting() as counted:
                    started = time.perf_counter()
                    status = service.run("acme", CALL)
                    seconds.append(time.perf_counter() - started)
                calls.update(counted)
            history = ledger.history("acme", CALL)
            mapping: list[float] = []
            for _ in range(lookups):
                started = time.perf_counter()
                call_status(history, "acme", CALL)
                mapping.append(time.perf_counter() - started)
    finally:
        counter.uninstall()
    requests = sum(
        n for k, n in calls.items() if k.startswith("dynamodb.") and k not in ("dynamodb.WRU", "dynamodb.RRU")
    )
    return StatusLookup(
        lookups=lookups,
        revisions=len(status.revisions),
        entries=len(items),  # the environment holds this one call
        partition_bytes=len(json.dumps(items)),
        dynamodb_requests=requests / lookups,
        queries=calls["dynamodb.Query"] / lookups,
        rru=float(math.ceil(len(json.dumps(items)) / 4096)),
        p50_ms=percentile(seconds, 50) * 1000,
        p95_ms=percentile(seconds, 95) * 1000,
        mapping_p50_ms=percentile(mapping, 50) * 1000,
        records=len(status.records),
    )


def render(s: StatusLookup) -> list[str]:
    cells = [
        s.lookups,
        s.revisions,
        s.entries,
        f"{s.partition_bytes / 1024:.1f}",
        f"{s.dynamodb_requests:g}",
        f"{s.queries:g}",
        f"{s.rru:g}",
        s.records,
        f"{s.p50_ms:.2f} / {s.p95_ms:.2f}",
        f"{s.mapping_p50_ms:.2f}",
        "met" if s.met else "**missed**",
    ]
    return [
        "| lookups | revisions | ledger entries | partition (KB) | DynamoDB requests / status | Query / status "
        "| RRU / status (est.) | records listed | p50 / p95 (ms) | mapping alone p50 (ms) | target: one Query |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        "| " + " | ".join(str(c) for c in cells) + " |",
    ]


if __name__ == "__main__":
    import os

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    result = measure_status_lookup(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
    print("\n".join(render(result)))
