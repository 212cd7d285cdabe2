"""The state an execution carries stays small, whatever the call and the org hold.

Step Functions refuses a state over 256 KiB (``States.DataLimitExceeded``, which no ``Catch`` of
``States.ALL`` catches); callsync keeps every transition under 64 KiB by passing ids and short summaries
between states. Field values, before/after and reports live in the ledger.
"""

from __future__ import annotations

import pytest
from callsync_dev.runner import run

from bench.state_size import FIELDS, OPPORTUNITY, TARGET_BYTES, largest_call, largest_org, largest_settings
from tests.support.demo import live, records, write_event

pytestmark = pytest.mark.e2e


def test_the_largest_call_keeps_every_transition_under_64_kib(tmp_path):
    # Given the largest call: 40 participants, 20 mapped fields each holding 30k characters, 30 action items
    event = write_event(tmp_path, "largest", largest_call())
    # When it runs
    result = run([event], org=largest_org(), settings=largest_settings())
    # Then it succeeds and no state it carried between two states reached 64 KiB
    (outcome,) = result.runs
    assert outcome["status"] == "SUCCEEDED", outcome
    size = outcome["max_state_bytes"]
    assert size is not None and size < TARGET_BYTES, size
    # And the work was all done: every field appended, the people created, every follow-up logged
    opp = next(r for r in records(result, "Opportunity") if r["Name"] == OPPORTUNITY)
    for i, name in enumerate(FIELDS):
        assert opp[name].startswith(f"{i:02d} ") and opp[name].endswith(f"Call note {i}: " + "y" * 400)
    assert sum(1 for c in live(result, "Contact") if str(c.get("Email", "")).startswith("person")) == 35
    assert sum(1 for t in live(result, "Task") if str(t.get("Subject", "")).startswith("Follow up number")) == 30
