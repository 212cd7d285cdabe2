"""People rules through ``callsync run``: the host follows the same internal/external rule as everyone,
personal email addresses never become a company, and an assignee who is a User owns the follow-up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from callsync_dev.cli import main

pytestmark = pytest.mark.e2e
DEMO = Path(__file__).resolve().parents[2] / "dev/callsync_dev/demo"
ROLLOUT = "Globex - Sales call automation (120 seats)"


def demo_event(**changes: Any) -> dict[str, Any]:
    event = json.loads((DEMO / "demo_event.json").read_text())
    event.update(changes)
    return event


def run_event(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, event: dict[str, Any], org: dict[str, Any] | None = None
) -> tuple[dict[str, Any], str]:
    (tmp_path / "event.json").write_text(json.dumps(event), encoding="utf-8")
    args = ["run", str(tmp_path / "event.json"), "--out", str(tmp_path / "result.json")]
    if org is not None:
        (tmp_path / "org.json").write_text(json.dumps(org), encoding="utf-8")
        args += ["--org", str(tmp_path / "org.json")]
    code = main(args)
    report = capsys.readouterr().out
    assert code == 0, report
    return json.loads((tmp_path / "result.json").read_text()), report


def by_email(records: list[dict[str, Any]], email: str) -> list[dict[str, Any]]:
    return [r for r in records if str(r.get("Email") or "").lower() == email]


def test_a_customer_hosted_meeting_names_the_host_as_the_contact(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given Jane (Globex, primary contact on the open rollout) hosts a meeting Alice attends
    event = demo_event(
        call_id="globex-hosted",
        host_email="jane.doe@globex.com",
        participants=[
            {"email": "jane.doe@globex.com", "name": "Jane Doe"},
            {"email": "alice.rep@acme.io", "name": "Alice Rep"},
        ],
    )
    # When it runs
    result, _ = run_event(capsys, tmp_path, event)
    # Then the host is treated as the external participant she is: the Event names her and the rollout
    records = result["org"]["records"]
    (jane,) = by_email(records["Contact"], "jane.doe@globex.com")
    rollout = next(o for o in records["Opportunity"] if o["Name"] == ROLLOUT)
    (logged,) = records["Event"]
    assert logged["WhoId"] == jane["Id"]
    assert logged["WhatId"] == rollout["Id"]


def test_a_personal_address_never_becomes_a_company(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Given two new participants on personal addresses: one without a company, one with "Hooli" (no Account)
    participants = [
        *demo_event()["participants"],
        {"email": "jo@gmail.com", "name": "Jo Smith"},
        {"email": "kim@yahoo.com", "name": "Kim Lee", "company": "Hooli"},
    ]
    # When the call runs
    result, report = run_event(capsys, tmp_path, demo_event(participants=participants))
    records = result["org"]["records"]
    # Then no record is created for the one without a company, and no record has a mailbox provider as Company
    assert by_email(records["Lead"], "jo@gmail.com") == [] and by_email(records["Contact"], "jo@gmail.com") == []
    assert not any(str(lead.get("Company")).lower() in ("gmail.com", "yahoo.com") for lead in records["Lead"])
    # And the one with a company is a Lead of that company
    (kim,) = by_email(records["Lead"], "kim@yahoo.com")
    assert kim["Company"] == "Hooli"
    # And the run's warnings and the report say why jo@gmail.com was skipped
    (run,) = result["runs"]
    (warning,) = [w for w in run["warnings"] if "jo@gmail.com" in w]
    assert "personal email address" in warning and "no company" in warning
    assert warning in report


def test_an_assignee_who_is_a_user_owns_the_follow_up_and_a_fallback_is_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given Carol, an active User who was not on the call, and an item for Raj, who is no User
    org = json.loads((DEMO / "demo_org.json").read_text())
    org["records"]["User"].append(
        {
            "Id": "user-carol",
            "Username": "carol.counsel@acme.io",
            "FirstName": "Carol",
            "LastName": "Counsel",
            "Email": "carol.counsel@acme.io",
            "Alias": "ccou",
            "IsActive": True,
        }
    )
    items = [
        {"text": "Review the DPA with legal", "assignee_email": "Carol.Counsel@acme.io"},
        {"text": "Send the SOC 2 report", "assignee_email": "raj.patel@globex.com"},
    ]
    # When the call runs
    result, report = run_event(capsys, tmp_path, demo_event(action_items=items), org)
    records = result["org"]["records"]
    (carol,) = by_email(records["User"], "carol.counsel@acme.io")
    (alice,) = by_email(records["User"], "alice.rep@acme.io")
    tasks = {t["Subject"]: t for t in records["Task"]}
    # Then Carol owns her follow-up, and the host owns Raj's
    assert tasks["Review the DPA with legal"]["OwnerId"] == carol["Id"]
    assert tasks["Send the SOC 2 report"]["OwnerId"] == alice["Id"]
    # And the run says that Raj's follow-up fell back to the host, and why
    (run,) = result["runs"]
    (fallback,) = [w for w in run["warnings"] if "follow-up" in w]
    assert "'Send the SOC 2 report'" in fallback and "the call host" in fallback
    assert "raj.patel@globex.com is no active Salesforce User" in fallback
    assert fallback in report
