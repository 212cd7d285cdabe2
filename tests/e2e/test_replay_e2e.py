"""``callsync replay`` (INTERFACES.md §4): a FAILED call runs again from its stored input once its cause is
fixed, through the real pipe (the consumer's rules, the template's state machine), writing nothing twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from callsync_dev.cli import main
from callsync_dev.runner import DEMO_EVENT, DEMO_ORG, run

from tests.support.demo import live_records

pytestmark = pytest.mark.e2e
CALL = "zoom-8841-2026-06-03"
SUBJECT = "[callsync] Globex x Acme - rollout scoping"
ROLLOUT = "Globex - Sales call automation (120 seats)"


def test_a_failed_call_is_replayed_once_its_cause_is_fixed_and_nothing_is_written_twice(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given a call whose contacts and fields were written, but whose activity write Salesforce kept refusing
    # (every composite after the match step's two answers 503) until the run ended FAILED
    state = tmp_path / "state"
    org = json.loads(DEMO_ORG.read_text())
    org["faults"] = [
        {
            "method": "POST",
            "path": "composite$",
            "skip": 2,
            "times": 10_000,
            "status": 503,
            "errorCode": "SERVER_UNAVAILABLE",
            "message": "try later",
        }
    ]
    first = run([DEMO_EVENT], org=org, state=state)
    assert [r["status"] for r in first.runs] == ["FAILED"]
    assert not [e for e in live_records(first.org, "Event") if e["Subject"] == SUBJECT]
    # When an admin fixes the cause (here: Salesforce answers again) and replays the call
    fixed = json.loads((state / "org.json").read_text())
    fixed["faults"] = []
    (state / "org.json").write_text(json.dumps(fixed))
    capsys.readouterr()  # the first run's function logs
    code = main(["replay", "--call", CALL, "--state", str(state), "--json"])
    out = json.loads(capsys.readouterr().out)
    # Then the replay ran the stored call to the end
    assert code == 0 and out["ended"] == "SUCCEEDED" and out["replayed_status"] == "FAILED", out
    assert out["execution_arn"].endswith("-replay1")
    # And nothing was written twice: one Event, Sam created once, the pain appended once
    after = json.loads((state / "org.json").read_text())
    assert len([e for e in live_records(after, "Event") if e["Subject"] == SUBJECT]) == 1
    assert [c["Email"] for c in live_records(after, "Contact")].count("sam.lee@globex.com") == 1
    pain = next(r for r in live_records(after, "Opportunity") if r["Name"] == ROLLOUT)["Pain__c"]
    assert pain.count("Reps spend about 5 hours a week") == 1
    # When it is replayed again / Then there is nothing left to replay
    code = main(["replay", "--call", CALL, "--state", str(state), "--json"])
    assert code == 1 and json.loads(capsys.readouterr().out)["status"] == "NOTHING_TO_REPLAY"
