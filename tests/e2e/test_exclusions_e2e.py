"""Excluded calls through ``callsync run``: they write nothing and end SKIPPED with the reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from callsync_dev.cli import main

pytestmark = pytest.mark.e2e
DEMO = Path(__file__).resolve().parents[2] / "dev/callsync_dev/demo"


def event_file(tmp_path: Path, name: str, **changes: Any) -> str:
    event = json.loads((DEMO / "demo_event.json").read_text())
    event.update(call_id=name, **changes)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    return str(path)


def test_excluded_calls_write_nothing_and_say_why(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Given the demo org and settings that exclude titles with "interview"
    settings = {
        **json.loads((DEMO / "demo_settings.json").read_text()),
        "exclusions": {"title_keywords": ["interview"]},
    }
    (tmp_path / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    internal = [{"email": "alice.rep@acme.io", "name": "Alice Rep"}, {"email": "bob.se@acme.io", "name": "Bob"}]
    files = [
        event_file(tmp_path, "pipeline-review", title="Pipeline review", participants=internal),
        event_file(tmp_path, "private-call", private=True),
        event_file(tmp_path, "candidate", title="Interview - Solutions Engineer"),
    ]
    out = tmp_path / "result.json"
    # When they run
    code = main(["run", *files, "--settings", str(tmp_path / "settings.json"), "--out", str(out)])
    report = capsys.readouterr().out
    result = json.loads(out.read_text())
    # Then each is SKIPPED with its reason, and the exit code is 0
    assert code == 0
    assert [r["status"] for r in result["runs"]] == ["SKIPPED", "SKIPPED", "SKIPPED"]
    reasons = [r["reason"] for r in result["runs"]]
    assert "internal-only" in reasons[0]
    assert "marked private" in reasons[1]
    assert "'interview'" in reasons[2]
    assert all(reason in report for reason in reasons)
    # And nothing started and nothing reached Salesforce: no execution, no request, no activity, no Contact
    assert all(r["execution_arn"] is None for r in result["runs"])
    assert result["api_requests"] == 0
    records = result["org"]["records"]
    assert records["Event"] == [] and records["Task"] == []
    assert not any(c.get("Email") == "sam.lee@globex.com" for c in records["Contact"])


def test_an_excluded_call_syncs_once_the_admin_turns_the_rule_off(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given an environment where an internal-only pipeline review was excluded (the default)
    state = tmp_path / "state"
    internal = [{"email": "alice.rep@acme.io", "name": "Alice Rep"}, {"email": "bob.se@acme.io", "name": "Bob"}]
    review = event_file(tmp_path, "pipeline-review", title="Pipeline review", participants=internal)
    assert main(["run", review, "--state", str(state), "--out", str(tmp_path / "r1.json")]) == 0
    assert [r["status"] for r in json.loads((tmp_path / "r1.json").read_text())["runs"]] == ["SKIPPED"]
    # When the admin turns internal_only off and the call is delivered again
    settings = {**json.loads((DEMO / "demo_settings.json").read_text()), "exclusions": {"internal_only": False}}
    (tmp_path / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    code = main(
        [
            "run",
            review,
            "--state",
            str(state),
            "--settings",
            str(tmp_path / "settings.json"),
            "--sequential",
            "--out",
            str(tmp_path / "r2.json"),
        ]
    )
    capsys.readouterr()
    # Then it is synced now (the skipped delivery had started nothing, so it is no duplicate)
    result = json.loads((tmp_path / "r2.json").read_text())
    assert code == 0 and [r["status"] for r in result["runs"]] == ["SUCCEEDED"]
    assert [e["Subject"] for e in result["org"]["records"]["Event"]] == ["[callsync] Pipeline review"]
