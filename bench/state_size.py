"""The largest state an execution carries between two states, for the largest call (``callsync run``).

Step Functions refuses a state over 256 KiB (``States.DataLimitExceeded``, which no ``Catch`` of
``States.ALL`` catches); callsync's target is 64 KiB. The call: 40 participants (35 new people), 20 mapped
Opportunity fields each already holding 30,000 characters, 30 action items. ``tests/e2e/test_state_size_e2e.py``
asserts the same call against the target.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callsync_dev import runner

OPPORTUNITY = "Globex - Sales call automation (120 seats)"
FIELDS = [f"Notes_{i:02d}__c" for i in range(20)]
TARGET_BYTES = 64 * 1024


def largest_org() -> dict[str, Any]:
    """The demo org whose Opportunity has 20 long text fields, each already holding 30,000 characters."""
    org = json.loads(runner.DEMO_ORG.read_text())
    opp_fields = org["schema"]["Opportunity"]["fields"]
    for name in FIELDS:
        opp_fields[name] = {"type": "textarea", "length": 131072}
    opp = next(r for r in org["records"]["Opportunity"] if r["Name"] == OPPORTUNITY)
    for i, name in enumerate(FIELDS):
        opp[name] = f"{i:02d} " + "x" * 29_997
    return dict(org)


def largest_settings() -> dict[str, Any]:
    """The demo settings mapping one insight to each of the 20 long fields."""
    body = json.loads(runner.DEMO_SETTINGS.read_text())
    body["field_sync"]["mappings"] = [
        {"insight": f"n{i}", "object": "Opportunity", "field": name} for i, name in enumerate(FIELDS)
    ]
    return dict(body)


def largest_call() -> dict[str, Any]:
    """40 participants (the demo's five and 35 new people), 20 insights, 30 action items."""
    event = json.loads(runner.DEMO_EVENT.read_text())
    event["participants"] = [
        *event["participants"],
        *({"email": f"person{i}@globex.com", "name": f"Person {i}", "company": "Globex"} for i in range(35)),
    ]
    event["insights"] = {f"n{i}": f"Call note {i}: " + "y" * 400 for i in range(len(FIELDS))}
    event["action_items"] = [
        {"text": f"Follow up number {i} with the team", "assignee_email": "alice.rep@acme.io"} for i in range(30)
    ]
    return dict(event)


@dataclass
class StateSize:
    status: str
    max_state_bytes: int
    wall_seconds: float

    @property
    def met(self) -> bool:
        return self.status == "SUCCEEDED" and self.max_state_bytes < TARGET_BYTES


def measure_state_size() -> StateSize:
    """The largest call through the whole local stack; the largest state between two of its states."""
    with tempfile.TemporaryDirectory(prefix="callsync-bench-state-") as tmp:
        event = Path(tmp) / "largest.json"
        event.write_text(json.dumps(largest_call()))
        result = runner.run([event], org=largest_org(), settings=largest_settings())
    (outcome,) = result.runs
    return StateSize(str(outcome["status"]), int(outcome["max_state_bytes"] or 0), result.wall_seconds)
