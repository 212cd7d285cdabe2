"""End to end through ``callsync run``: SQS -> consumer -> Step Functions (moto) -> handlers -> emulator -> ledger."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from callsync_dev.cli import main

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
DEMO = ROOT / "dev/callsync_dev/demo"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def read(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def test_demo_succeeds_and_writes_the_result_document(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Given the bundled demo (org, settings, one event)
    out = tmp_path / "result.json"
    # When `callsync demo --out result.json` runs
    code, report = run_cli(capsys, "demo", "--out", str(out))
    # Then it exits 0 and the report shows the match with its reason, the records and the API requests
    assert code == 0
    assert "SUCCEEDED" in report
    assert "match: Opportunity 'Globex - Sales call automation (120 seats)'" in report
    assert "reason:" in report
    assert "Salesforce API requests used:" in report
    # And --out has exactly the documented keys (plus optional extensions)
    result = read(out)
    assert {"runs", "org", "api_requests", "ledger", "dlq"} <= set(result)
    (run,) = result["runs"]
    assert run["status"] == "SUCCEEDED" and run["error"] is None
    assert run["call_id"] == "zoom-8841-2026-06-03"
    assert run["execution_arn"].endswith(":acme-zoom-8841-2026-06-03-1")
    assert result["dlq"] == []
    assert result["api_requests"] > 0
    assert "records" in result["org"] and "Opportunity" in result["org"]["records"]
    outcome = [e for e in result["ledger"] if e["sk"] == "outcome"]
    assert [o["status"] for o in outcome] == ["SUCCEEDED"]


def test_every_consumer_status_and_exit_code_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Given a good event, the same event again, two invalid messages, an autosync-off org and an unknown org
    out = tmp_path / "result.json"
    files = [
        "demo_event.json",
        "demo_event.json",
        "malformed_event.json",
        "not_json.txt",
        "autosync_off_event.json",
        "unknown_org_event.json",
    ]
    # When they run as six messages
    code, report = run_cli(
        capsys,
        "run",
        *(str(EVENTS / f) for f in files),
        "--settings",
        str(EVENTS / "settings_acme_and_umbrella.json"),
        "--out",
        str(out),
    )
    # Then each message has its status, in order, and REJECTED makes the exit code 1
    result = read(out)
    assert [r["status"] for r in result["runs"]] == [
        "SUCCEEDED",
        "DUPLICATE",
        "REJECTED",
        "REJECTED",
        "SKIPPED",
        "REJECTED",
    ]
    assert code == 1
    # And the duplicate started nothing: one execution, one outcome
    first, duplicate = result["runs"][0], result["runs"][1]
    assert duplicate["execution_arn"] == first["execution_arn"]
    assert len([e for e in result["ledger"] if e["sk"] == "outcome"]) == 1
    # And the rejected messages sit in the DLQ with their reasons
    assert len(result["dlq"]) == 3
    assert "this is not JSON {\n" in result["dlq"]
    reasons = {m["reason"] for m in result["dlq_messages"]}
    assert any("call_url" in r for r in reasons)
    assert any(r.startswith("body is not JSON") for r in reasons)
    assert any("no-such-org" in r for r in reasons)
    assert "no-such-org" in (result["runs"][5]["error"] or "")
    assert "autosync is off" in report


def test_duplicate_and_skipped_alone_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run_cli(
        capsys,
        "run",
        str(EVENTS / "demo_event.json"),
        str(EVENTS / "demo_event.json"),
        str(EVENTS / "autosync_off_event.json"),
        "--settings",
        str(EVENTS / "settings_acme_and_umbrella.json"),
    )
    assert code == 0


def test_exhausted_retries_fail_the_run_with_the_error_in_the_ledger(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given an org whose API answers 503 to every query and composite request
    org = read(DEMO / "demo_org.json")
    org["faults"] = [
        {
            "method": m,
            "path": "query|composite",
            "skip": 0,
            "times": 1000,
            "status": 503,
            "errorCode": "SERVER_UNAVAILABLE",
            "message": "try later",
        }
        for m in ("GET", "POST")
    ]
    (tmp_path / "org.json").write_text(json.dumps(org))
    out = tmp_path / "result.json"
    # When the demo event runs
    code, report = run_cli(
        capsys, "run", str(EVENTS / "demo_event.json"), "--org", str(tmp_path / "org.json"), "--out", str(out)
    )
    # Then the run is FAILED after the retries, exit 1, and the ledger says why
    (run,) = read(out)["runs"]
    assert code == 1
    assert run["status"] == "FAILED" and run["error"].startswith("SalesforceUnavailable")
    (outcome,) = [e for e in read(out)["ledger"] if e["sk"] == "outcome"]
    assert outcome["error"] == "SalesforceUnavailable" and "503" in outcome["cause"]
    assert "FAILED" in report


def test_a_run_that_fails_after_matching_still_reports_the_match(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given an org whose collections endpoint (CreateContacts' write) always answers 503
    org = read(DEMO / "demo_org.json")
    org["faults"] = [
        {
            "method": "POST",
            "path": "composite/sobjects",
            "skip": 0,
            "times": 1000,
            "status": 503,
            "errorCode": "SERVER_UNAVAILABLE",
            "message": "try later",
        }
    ]
    (tmp_path / "org.json").write_text(json.dumps(org))
    # When the demo event runs
    code, report = run_cli(capsys, "run", str(EVENTS / "demo_event.json"), "--org", str(tmp_path / "org.json"))
    # Then the run FAILED, yet the report shows the match MatchOpportunity recorded, with its reason
    assert code == 1 and "FAILED" in report
    assert "match: Opportunity 'Globex - Sales call automation (120 seats)'" in report
    assert "reason: Globex - Sales call automation (120 seats): Jane Doe is its primary contact" in report


def test_dry_run_reports_but_the_org_written_out_is_unchanged(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "result.json"
    code, report = run_cli(capsys, "demo", "--dry-run", "--out", str(out))
    assert code == 0
    assert "DRY RUN" in report
    emails = {c.get("Email") for c in read(out)["org"]["records"]["Contact"]}
    assert "sam.lee@globex.com" not in emails  # created in the throwaway copy only
    assert read(out)["dry_run"] is True


@pytest.mark.parametrize(
    "args",
    [
        ["run", "events/no-such-file.json"],
        ["run", "events/demo_event.json", "--org", "no-such-org.json"],
        ["run", "events/demo_event.json", "--settings", "events/not_json.txt"],
    ],
)
def test_unreadable_inputs_are_usage_errors(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(args) == 2
    assert "callsync: error:" in capsys.readouterr().err


def test_missing_arguments_are_usage_errors() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run"])
    assert exited.value.code == 2


def test_callsync_demo_as_a_command(tmp_path: Path) -> None:
    # Given the installed console script
    script = Path(sys.executable).with_name("callsync")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "callsync_dev.cli"]
    # When `callsync demo` runs in a fresh process
    done = subprocess.run(
        [*command, "demo", "--out", str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        check=False,
    )
    # Then it prints the report and exits 0; logs stay off stdout
    assert done.returncode == 0, done.stderr
    assert "SUCCEEDED" in done.stdout
    assert not any(line.startswith("{") for line in done.stdout.splitlines())
    assert read(tmp_path / "r.json")["runs"][0]["status"] == "SUCCEEDED"
