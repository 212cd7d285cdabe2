"""``callsync status`` (INTERFACES.md §4) after ``callsync run --state DIR``: how each call ended and every
Salesforce record callsync touched for it, read back from the ledger the pipeline wrote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from callsync_dev.cli import main
from callsync_dev.runner import DEMO_EVENT, run

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
CALL = "zoom-8841-2026-06-03"


def status(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()  # the run's output and function logs
    code = main(["status", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def record(org: dict[str, Any], obj: str, record_id: str) -> dict[str, Any]:
    return next(r for r in org["records"][obj] if r["Id"] == record_id)


def test_status_lists_every_record_the_run_wrote_as_salesforce_holds_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given the demo call synced into a local environment
    state = tmp_path / "state"
    result = run([DEMO_EVENT], state=state)
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"]
    # When an operator asks for the call's status
    code, out = status(capsys, "--call", CALL, "--state", str(state))
    # Then it ended SUCCEEDED, with the Salesforce requests the emulator counted for the run
    assert code == 0 and (out["org_id"], out["call_id"], out["revision"], out["status"]) == (
        "acme",
        CALL,
        1,
        "SUCCEEDED",
    )
    assert out["error"] is None and out["warnings"] == [] and out["api_requests"] == result.api_requests
    # And every record it lists is in the org, at its Lightning URL, each field's "after" being what the org holds
    assert {r["action"] for r in out["records"]} == {"created", "updated", "linked"}
    for listed in out["records"]:
        stored = record(result.org, listed["object"], listed["id"])
        if listed["object"] != "ContentDocumentLink":  # a junction record has no page of its own
            assert listed["url"].endswith(f"/lightning/r/{listed['object']}/{listed['id']}/view")
        for name, change in listed["fields"].items():
            after = change["after"]
            if name not in stored or name == "Content":  # a note's content is listed by its size
                continue
            if isinstance(after, str) and "…" in after:  # a long text is listed by its head
                assert stored[name].startswith(after.split("…")[0].rstrip()), (listed["object"], name)
            else:
                assert stored[name] == after, (listed["object"], name)
    # And the matched Opportunity is one record, updated, with its fields before -> after
    (opportunity,) = [r for r in out["records"] if r["object"] == "Opportunity"]
    assert opportunity["action"] == "updated" and opportunity["label"] == "Globex - Sales call automation (120 seats)"
    assert opportunity["fields"]["NextStep"]["before"] == "Discovery call with RevOps"
    # And the human report says the same
    assert main(["status", "--call", CALL, "--state", str(state)]) == 0
    report = capsys.readouterr().out
    assert report.startswith(f"call {CALL} revision 1 (org acme): SUCCEEDED")
    assert "~ updated Opportunity 'Globex - Sales call automation (120 seats)'" in report
    # When a call the ledger does not hold is asked for / Then it is NOT_FOUND with the reason, exit 1
    code, out = status(capsys, "--call", "no-such-call", "--state", str(state))
    assert code == 1 and out["status"] == "NOT_FOUND" and "no run of call no-such-call" in out["reason"]


def test_status_of_a_skipped_call_says_why_and_of_an_org_needs_naming_when_there_are_several(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given a call of an org whose autosync is off, run into an environment holding two orgs
    state = tmp_path / "state"
    settings = EVENTS / "settings_acme_and_umbrella.json"
    result = run([EVENTS / "autosync_off_event.json"], settings=settings, state=state)
    assert [r["status"] for r in result.runs] == ["SKIPPED"]
    call_id = json.loads((EVENTS / "autosync_off_event.json").read_text())["call_id"]
    # When its status is asked for without naming the org / Then the command asks for --org-id (usage error)
    capsys.readouterr()
    assert main(["status", "--call", call_id, "--state", str(state)]) == 2
    assert "--org-id is needed" in capsys.readouterr().err
    # When it is asked for with the org
    code, out = status(capsys, "--call", call_id, "--org-id", "umbrella", "--state", str(state))
    # Then it is SKIPPED, with the consumer's reason and no record
    assert code == 0 and out["status"] == "SKIPPED" and out["records"] == []
    assert out["reason"] == result.runs[0]["reason"] and "autosync" in out["reason"]


def test_status_without_an_environment_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Given a directory no run used / When status reads it / Then it says what to run first (exit 2)
    assert main(["status", "--call", CALL, "--state", str(tmp_path / "empty")]) == 2
    assert "run `callsync run ... --state" in capsys.readouterr().err


def test_status_of_a_failed_call_names_the_error_and_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given a call that failed for good: Salesforce rejects the first composite request (a permanent 400)
    org = json.loads((ROOT / "dev/callsync_dev/demo/demo_org.json").read_text())
    org["faults"] = [
        {"method": "POST", "path": "composite$", "skip": 0, "times": 100, "status": 400,
         "errorCode": "INVALID_TYPE", "message": "sObject type 'Opportunity' is not supported"}
    ]  # fmt: skip
    state = tmp_path / "state"
    result = run([DEMO_EVENT], org=org, state=state)
    assert [r["status"] for r in result.runs] == ["FAILED"]
    # When its status is asked for
    code, out = status(capsys, "--call", CALL, "--state", str(state))
    # Then it is FAILED with the error class and its cause, as the run reported it, and the command exits 1
    assert code == 1 and out["status"] == "FAILED" and out["error"] == result.runs[0]["error"]
    assert out["error"].startswith("SalesforceRejected: ") and "INVALID_TYPE" in out["error"]
