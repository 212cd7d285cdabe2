"""N concurrent calls on one deal through the whole local stack (``callsync run``): nothing lost, nothing twice.

Each call appends its own dated text to an Opportunity field, the primary Contact's field and a via-record
(Deal_Review__c), adds its own value to a multi-select picklist and brings the same new person. After the run
the org is read back: an entry missing is *lost*, an entry present more than once is *duplicated*. Step times
are the in-process handlers' wall times (waits for leases included), per step, over every invocation.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from callsync_dev import runner
from callsync_dev.localstack import LocalFunction

from bench.stats import percentile

OPPORTUNITY = "Globex - Sales call automation (120 seats)"
PRIMARY = "jane.doe@globex.com"
NEW_PERSON = "pat.new@globex.com"
STEPS = ("MatchOpportunityFunction", "CreateContactsFunction", "SyncFieldsFunction", "LogActivityFunction")


@dataclass
class ConcurrencyPoint:
    calls: int
    succeeded: int
    lost: int  # contributions (one per call per written target) missing from Salesforce
    duplicated: int  # contributions present more than once, and extra Contacts for the shared new person
    api_requests: int
    wall_seconds: float
    step_seconds: dict[str, list[float]] = field(default_factory=dict)

    @property
    def requests_per_call(self) -> float:
        return self.api_requests / self.calls

    def p(self, step: str, pct: float) -> float:
        return percentile(self.step_seconds.get(step, [0.0]), pct)


def org_fixture(calls: int) -> dict[str, Any]:
    """The demo org with one multi-select value per call, long text fields and a Deal Review via-object."""
    org = json.loads(runner.DEMO_ORG.read_text())
    competitors = org["schema"]["Opportunity"]["fields"]["Competitors__c"]
    competitors["values"] = [*competitors["values"], *(f"Vendor{i}" for i in range(calls))]
    org["schema"]["Deal_Review__c"] = {
        "custom": True,
        "fields": {
            "Opportunity__c": {"type": "reference", "referenceTo": ["Opportunity"]},
            "Decision_Process__c": {"type": "textarea", "length": 131072},
        },
    }
    org["schema"]["Opportunity"]["fields"]["Pain__c"]["length"] = 131072
    return dict(org)


def settings_fixture() -> dict[str, Any]:
    """The demo settings mapping one Opportunity text, a multi-select, a Contact field and a via-object field."""
    body = json.loads(runner.DEMO_SETTINGS.read_text())
    body["field_sync"]["mappings"] = [
        {"insight": "pain", "object": "Opportunity", "field": "Pain__c"},
        {"insight": "competition", "object": "Opportunity", "field": "Competitors__c"},
        {"insight": "champion", "object": "Contact", "field": "Champion_Notes__c"},
        {
            "insight": "decision_process",
            "object": "Deal_Review__c",
            "field": "Decision_Process__c",
            "via": "Opportunity__c",
        },
    ]
    return dict(body)


def call_event(i: int) -> dict[str, Any]:
    """Call ``i`` on the deal: its own texts and picklist value, and the same new person as every call."""
    event = json.loads(runner.DEMO_EVENT.read_text())
    event.update(
        call_id=f"bench-c{i:03d}",
        title=f"Globex sync #{i}",
        action_items=[],
        started_at=f"2026-06-{1 + i % 28:02d}T15:00:00Z",
    )
    event["participants"] = [*event["participants"], {"email": NEW_PERSON, "name": "Pat New", "company": "Globex"}]
    event["insights"] = {
        "pain": f"Pain from call {i}.",
        "competition": [f"Vendor{i}"],
        "champion": f"Champion note {i}.",
        "decision_process": f"Decision step {i}.",
    }
    return dict(event)


def contributions(records: dict[str, list[dict[str, Any]]], calls: int) -> tuple[int, int]:
    """(lost, duplicated) contributions of calls ``0..calls-1`` in the org's records after they ran.

    Per call: its Opportunity text entry, its Contact text entry, its via-record entry and its multi-select
    value. Duplicated also counts extra Contacts for the shared new person and extra via-records.
    """
    opp = next(r for r in records["Opportunity"] if r["Name"] == OPPORTUNITY)
    contact = next(r for r in records["Contact"] if r.get("Email") == PRIMARY)
    reviews = [r for r in records.get("Deal_Review__c", []) if not r.get("IsDeleted")]
    review_text = "".join(r.get("Decision_Process__c") or "" for r in reviews)
    picked = (opp.get("Competitors__c") or "").split(";")
    lost = duplicated = 0
    for i in range(calls):
        counts = [
            str(opp.get("Pain__c") or "").count(f"Pain from call {i}."),
            str(contact.get("Champion_Notes__c") or "").count(f"Champion note {i}."),
            review_text.count(f"Decision step {i}."),
            picked.count(f"Vendor{i}"),
        ]
        lost += sum(1 for n in counts if n == 0)
        duplicated += sum(n - 1 for n in counts if n > 1)
    people = [r for r in records["Contact"] if r.get("Email") == NEW_PERSON and not r.get("IsDeleted")]
    duplicated += max(0, len(people) - 1) + max(0, len(reviews) - 1)
    return lost, duplicated


@contextmanager
def _timed_steps(into: dict[str, list[float]]) -> Iterator[None]:
    original = LocalFunction.invoke
    lock = threading.Lock()

    def timed(fn: LocalFunction, event: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(fn, event)
        finally:
            with lock:
                into[fn.logical_id].append(time.perf_counter() - started)

    with mock.patch.object(LocalFunction, "invoke", timed):
        yield


def measure_concurrency(calls: int) -> ConcurrencyPoint:
    """Deliver ``calls`` different calls on one deal at once; count what Salesforce kept of each."""
    steps: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(calls):
            path = Path(tmp) / f"c{i}.json"
            path.write_text(json.dumps(call_event(i)))
            paths.append(path)
        started = time.perf_counter()
        with _timed_steps(steps):
            result = runner.run(paths, org=org_fixture(calls), settings=settings_fixture())
        wall = time.perf_counter() - started
    lost, duplicated = contributions(result.org["records"], calls)
    return ConcurrencyPoint(
        calls=calls,
        succeeded=sum(1 for r in result.runs if r["status"] == "SUCCEEDED"),
        lost=lost,
        duplicated=duplicated,
        api_requests=result.api_requests,
        wall_seconds=wall,
        step_seconds={k: v for k, v in steps.items() if k in STEPS},
    )
