"""Input limits at the door, through `callsync run`.

- SQS: a message body is at most 262,144 bytes (256 KiB), the queue's default MaximumMessageSize.
- Step Functions: a state's input/output is at most 262,144 bytes of UTF-8 JSON (API reference,
  StateEnteredEventDetails.input: "Maximum length of 262144"); past it the execution fails with
  States.DataLimitExceeded.
- Salesforce: a Task/Event Description holds 32,000 characters (Object Reference).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from callsync_dev.report import render
from callsync_dev.runner import DEMO_EVENT, run

from tests.support.demo import live, load, write_event

pytestmark = pytest.mark.e2e

STATE_LIMIT = 262_144


def delivery_warnings(result, call_id: str) -> list[str]:
    entries = [
        e for e in result.ledger if str(e.get("step", "")).startswith("delivery#") and e.get("call_id") == call_id
    ]
    return [w for e in entries for w in e.get("warnings") or []]


def test_oversized_messages_are_rejected_with_the_reason_and_start_nothing(tmp_path):
    # Given a 300 KB message (over SQS's 256 KiB) and one whose call_id is 40,000 characters
    big = write_event(tmp_path, "big", call_id="big-notes", notes="n" * 300_000)
    long_id = write_event(tmp_path, "long-id", call_id="c" * 40_000)
    # When both are delivered
    result = run([big, long_id])
    # Then both are REJECTED with a reason naming the size or the field, and both are in the DLQ
    statuses = {r["event_file"].rsplit("/", 1)[-1]: r for r in result.runs}
    assert statuses["big.json"]["status"] == "REJECTED"
    assert "at most 262,144 bytes (256 KiB, the SQS message limit)" in statuses["big.json"]["error"]
    assert statuses["long-id.json"]["status"] == "REJECTED"
    assert statuses["long-id.json"]["error"].startswith("call_id is 40,000 characters; at most 255")
    assert len(result.dlq) == 2
    # And no execution started, no Salesforce request was made
    assert result.executions == {} and result.api_requests == 0


def heavy_event() -> dict[str, Any]:
    """A call within SQS's limit whose texts would overflow the state: long summary, 250 people, big insights."""
    event = load(DEMO_EVENT)
    internal = [{"email": f"rep{i}@acme.io", "name": f"Rep {i}"} for i in range(245)]
    event.update(
        call_id="heavy-1",
        summary="The customer walked us through their process. " * 870,  # 40,020 characters
        participants=[*event["participants"], *internal],  # the demo's five (host first) and 245 colleagues
        insights={**event["insights"], **{f"detail_{i}": "d" * 30_000 for i in range(5)}},
    )
    return event


def test_a_heavy_call_is_trimmed_to_fit_and_says_what_was_trimmed(tmp_path):
    # Given a call with a 40,020-character summary, 250 participants and 150 KB of insights
    event = heavy_event()
    path = write_event(tmp_path, "heavy", event)
    assert len(path.read_bytes()) < STATE_LIMIT  # a valid SQS message
    # When `callsync run` processes it
    result = run([path])
    # Then the call succeeds: nothing overflowed Step Functions' state
    (outcome,) = result.runs
    assert outcome["status"] == "SUCCEEDED", outcome
    (execution,) = result.executions.values()
    assert len(execution["input"].encode()) < STATE_LIMIT and len(execution["output"].encode()) < STATE_LIMIT
    # And the delivery report names every trim: the summary, the participants left out, the insights cut
    warnings = delivery_warnings(result, "heavy-1")
    assert "summary: 40,020 characters, trimmed to 32,000" in warnings
    assert any(w.startswith("participants: 250 on the call, only the first 200") for w in warnings)
    assert any(w.startswith("insights.detail_") and "256 KiB" in w for w in warnings)
    # And the call is logged with the trimmed summary (the activity's own 32,000 cap keeps its backlink)
    (logged,) = [e for e in live(result, "Event") if "rollout scoping" in (e.get("Subject") or "")]
    assert "[… trimmed by callsync]" in logged["Description"]
    assert f"Call: {event['call_url']}" in logged["Description"]
    state = json.loads(execution["input"])
    assert len(state["call"]["participants"]) == 200
    # And the printed report shows the trims with the call
    assert "trimmed at the door: summary: 40,020 characters, trimmed to 32,000" in render(result)
