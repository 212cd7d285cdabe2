"""The state an execution carries stays small, whatever the call and the org hold.

Step Functions refuses a state over 256 KiB (``States.DataLimitExceeded``, which no ``Catch`` of
``States.ALL`` catches); callsync keeps every transition under 64 KiB by passing ids and short summaries
between states. Field values, before/after and reports live in the ledger.
"""

from __future__ import annotations

from typing import Any

import pytest
from callsync_dev.runner import DEMO_EVENT, DEMO_ORG, DEMO_SETTINGS, run

from tests.support.demo import live, load, records, write_event

pytestmark = pytest.mark.e2e

OPP_NAME = "Globex - Sales call automation (120 seats)"
FIELDS = [f"Notes_{i:02d}__c" for i in range(20)]
LIMIT = 64 * 1024


def largest_org() -> dict[str, Any]:
    """The demo org whose Opportunity has 20 long text fields, each already holding 30,000 characters."""
    org = load(DEMO_ORG)
    opp_fields = org["schema"]["Opportunity"]["fields"]
    for name in FIELDS:
        opp_fields[name] = {"type": "textarea", "length": 131072}
    opp = next(r for r in org["records"]["Opportunity"] if r["Name"] == OPP_NAME)
    for i, name in enumerate(FIELDS):
        opp[name] = f"{i:02d} " + "x" * 29_997
    return org


def largest_settings() -> dict[str, Any]:
    body = load(DEMO_SETTINGS)
    body["field_sync"]["mappings"] = [
        {"insight": f"n{i}", "object": "Opportunity", "field": name} for i, name in enumerate(FIELDS)
    ]
    return body


def largest_call() -> dict[str, Any]:
    """40 participants (the demo's five and 35 new people), 20 insights, 30 action items."""
    event = load(DEMO_EVENT)
    event["participants"] = [
        *event["participants"],
        *({"email": f"person{i}@globex.com", "name": f"Person {i}", "company": "Globex"} for i in range(35)),
    ]
    event["insights"] = {f"n{i}": f"Call note {i}: " + "y" * 400 for i in range(len(FIELDS))}
    event["action_items"] = [
        {"text": f"Follow up number {i} with the team", "assignee_email": "alice.rep@acme.io"} for i in range(30)
    ]
    return event


def test_the_largest_call_keeps_every_transition_under_64_kib(tmp_path):
    # Given the largest call: 40 participants, 20 mapped fields each holding 30k characters, 30 action items
    event = write_event(tmp_path, "largest", largest_call())
    # When it runs
    result = run([event], org=largest_org(), settings=largest_settings())
    # Then it succeeds and no state it carried between two states reached 64 KiB
    (outcome,) = result.runs
    assert outcome["status"] == "SUCCEEDED", outcome
    assert outcome["max_state_bytes"] is not None and outcome["max_state_bytes"] < LIMIT, outcome["max_state_bytes"]
    # And the work was all done: every field appended, the people created, every follow-up logged
    opp = next(r for r in records(result, "Opportunity") if r["Name"] == OPP_NAME)
    for i, name in enumerate(FIELDS):
        assert opp[name].startswith(f"{i:02d} ") and opp[name].endswith(f"Call note {i}: " + "y" * 400)
    assert sum(1 for c in live(result, "Contact") if str(c.get("Email", "")).startswith("person")) == 35
    assert sum(1 for t in live(result, "Task") if str(t.get("Subject", "")).startswith("Follow up number")) == 30
