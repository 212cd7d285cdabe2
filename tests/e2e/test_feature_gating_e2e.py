"""A permission gap fails the feature, not the call: each step checks, from the cached describes, that the
integration user can save its records before it writes; a feature that cannot run is skipped with
doctor's fix, everything else is written, and the run ends SUCCEEDED with the warning.

The emulator applies ``object_permissions`` the way a profile's object permissions act: describe shows
``createable: false`` and a create is refused with INSUFFICIENT_ACCESS_OR_READONLY (see docs/emulator.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from callsync_dev.cli import main

from tests.support.chaos import CHAOS

pytestmark = pytest.mark.e2e
DEMO = Path(__file__).resolve().parents[2] / "dev/callsync_dev/demo"
ROLLOUT = "Globex - Sales call automation (120 seats)"


def run_with(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, permissions: dict[str, str]
) -> tuple[dict[str, Any], str]:
    org = json.loads((DEMO / "demo_org.json").read_text())
    org["object_permissions"] = permissions
    (tmp_path / "org.json").write_text(json.dumps(org), encoding="utf-8")
    code = main(
        ["run", str(DEMO / "demo_event.json"), "--org", str(tmp_path / "org.json"), "--out", str(tmp_path / "r.json")]
    )
    report = capsys.readouterr().out
    assert code == 0, report
    return json.loads((tmp_path / "r.json").read_text()), report


def skipped_features(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for entry in result["ledger"] for s in (entry.get("skipped_features") or [])]


def test_read_only_event_skips_the_call_activity_and_logs_the_rest(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given an org where the integration user can read Events but not create them (the demo call is a video
    # call: smart mode logs it as an Event)
    result, report = run_with(capsys, tmp_path, {"Event": "read"})
    # Then the run succeeds, with one warning naming the feature, the object, the permission and the fix
    (run,) = result["runs"]
    assert run["status"] == "SUCCEEDED", report
    (warning,) = [w for w in run["warnings"] if w.startswith("call activity")]
    assert "cannot create Event records" in warning
    assert "Object Settings → Event → Edit → check Read and Create" in warning
    assert skipped_features(result) == [
        {"feature": "call activity", "subject": "Event", "need": "create", "fix": warning.split("Fix: ", 1)[1]}
    ]
    # And nothing was attempted on Event, while the contact, fields, note and follow-ups were written
    records = result["org"]["records"]
    assert records.get("Event", []) == [] and records.get("EventRelation", []) == []
    assert "INSUFFICIENT_ACCESS" not in report
    assert any(c["Email"] == "sam.lee@globex.com" for c in records["Contact"])
    rollout = next(o for o in records["Opportunity"] if o["Name"] == ROLLOUT)
    assert rollout["Metrics__c"].startswith("[2026-06-03 #") and "Cut admin time" in rollout["Metrics__c"]
    assert len(records["ContentNote"]) == 1
    assert sorted(t["Subject"] for t in records["Task"]) == [
        "Draft the pilot plan for two teams with Sam",
        "Send the security questionnaire and SOC 2 report to Raj",
    ]


def test_each_blocked_feature_is_skipped_on_its_own(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Given Contact, Task and ContentNote read-only: contact creation, the Contact's mapped field, follow-ups
    # and notes cannot save
    result, report = run_with(capsys, tmp_path, {"Contact": "read", "Task": "read", "ContentNote": "read"})
    # Then the call still succeeds and is logged as an Event, each blocked feature skipped with its fix
    (run,) = result["runs"]
    assert run["status"] == "SUCCEEDED", report
    assert {(s["feature"], s["subject"]) for s in skipped_features(result)} == {
        ("contact creation", "Contact"),
        ("field sync", "Contact"),
        ("task sync", "Task"),
        ("notes", "ContentNote"),
    }
    contact_warnings = [w for w in run["warnings"] if w.startswith("contact creation skipped for Contact")]
    assert len(contact_warnings) == 1 and "sam.lee@globex.com" in contact_warnings[0]
    records = result["org"]["records"]
    assert not any(c["Email"] == "sam.lee@globex.com" for c in records["Contact"])
    assert records.get("Task", []) == [] and records.get("ContentNote", []) == []
    (event,) = records["Event"]
    assert event["Subject"].endswith("Globex x Acme - rollout scoping")
    # And the API budget shows no write was attempted for the skipped features: the budget guard's usage
    # read, Match, Fields, Activity
    if not CHAOS:  # NO_BUDGETS_UNDER_CHAOS
        assert result["api_requests"] == 5
