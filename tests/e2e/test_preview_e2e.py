"""Preview mode (settings ``preview: true``, INTERFACES.md §2) through ``callsync run --state DIR``: every step
reads the real org and plans, nothing is written to Salesforce, the run ends PREVIEWED, and ``callsync status``
shows each planned write as ``would_create`` / ``would_update`` with before → after."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from callsync_dev.cli import main
from callsync_dev.runner import DEMO_EVENT, DEMO_SETTINGS, run

from tests.support.chaos import CHAOS
from tests.support.demo import live_records

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
CALL = "zoom-8841-2026-06-03"
SUBJECT = "[callsync] Globex x Acme - rollout scoping"
STAMPS = {"CreatedDate", "LastModifiedDate", "SystemModstamp"}  # set when a fixture is loaded


def settings(tmp_path: Path, *, preview: bool) -> Path:
    path = tmp_path / f"settings-{preview}.json"
    path.write_text(json.dumps({**json.loads(DEMO_SETTINGS.read_text()), "preview": preview}), encoding="utf-8")
    return path


def without_stamps(org: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        obj: sorted(({k: v for k, v in r.items() if k not in STAMPS} for r in rows), key=lambda r: str(r.get("Id")))
        for obj, rows in org["records"].items()
    }


def test_a_previewed_call_writes_nothing_and_status_shows_every_planned_write(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given the demo org with preview on, and what the same call costs when it writes (6 requests: the API
    # budget guard's usage read of a fresh org, 2 match reads, 3 writes)
    state = tmp_path / "state"
    writing = None if CHAOS else run([DEMO_EVENT])  # NO_BUDGETS_UNDER_CHAOS
    assert writing is None or writing.api_requests == 6
    fixture = run([DEMO_EVENT], dry_run=True).org  # the demo org as loaded, before any write
    # When the call runs in preview mode
    first = run([DEMO_EVENT], settings=settings(tmp_path, preview=True), state=state)
    # Then it ends PREVIEWED (exit 0), and the org holds exactly what it held before: no record added or changed
    assert [r["status"] for r in first.runs] == ["PREVIEWED"] and first.exit_code == 0
    assert without_stamps(first.org) == without_stamps(fixture)
    # And it spent read requests only: the three write requests of the real run are not sent
    assert writing is None or first.api_requests == writing.api_requests - 3
    # When the operator asks for the call's status
    capsys.readouterr()
    code = main(["status", "--call", CALL, "--state", str(state), "--json"])
    out = json.loads(capsys.readouterr().out)
    # Then it is PREVIEWED with the run's requests, and every planned write is there with before -> after
    assert code == 0 and out["status"] == "PREVIEWED" and out["api_requests"] == first.api_requests
    actions = {(r["object"], r["label"]): r["action"] for r in out["records"]}
    assert actions[("Contact", "Sam Lee <sam.lee@globex.com>")] == "would_create"
    assert actions[("Event", SUBJECT)] == "would_create"
    assert actions[("Opportunity", "Globex - Sales call automation (120 seats)")] == "would_update"
    assert not {"created", "updated", "linked"} & set(actions.values())
    opportunity = next(r for r in out["records"] if r["object"] == "Opportunity")
    assert opportunity["fields"]["NextStep"] == {
        "before": "Discovery call with RevOps",
        "after": "Security questionnaire to Raj; pilot plan with Sam by June 12",
        "policy": "overwrite",
        "note": None,
    }
    # And a record that would be created has no id and no URL (it does not exist)
    sam = next(r for r in out["records"] if r["label"] == "Sam Lee <sam.lee@globex.com>")
    assert sam["id"] is None and sam["url"] is None
    # When a second call is previewed on the saved org (its system fields kept as stored)
    saved = json.loads((state / "org.json").read_text())
    second = run([ROOT / "events" / "demo_event_revision2.json"], state=state)
    # Then the org's records and schema are exactly what they were; only the org's API usage of the day grew,
    # by the read requests the preview spent
    assert [r["status"] for r in second.runs] == ["PREVIEWED"]
    after = json.loads((state / "org.json").read_text())
    assert after.pop("api_usage") == saved.pop("api_usage") + second.api_requests
    assert after == saved


def test_turning_preview_off_writes_the_call_for_real_once(tmp_path: Path) -> None:
    # Given a call previewed in a local environment
    state = tmp_path / "state"
    assert [r["status"] for r in run([DEMO_EVENT], settings=settings(tmp_path, preview=True), state=state).runs] == [
        "PREVIEWED"
    ]
    # When preview is turned off and the call's next revision arrives
    done = run([ROOT / "events" / "demo_event_revision2.json"], settings=settings(tmp_path, preview=False), state=state)
    # Then it is written as usual: one Event, Sam created once (the preview reserved nothing and linked nothing)
    assert [r["status"] for r in done.runs] == ["SUCCEEDED"]
    assert len([e for e in live_records(done.org, "Event") if e["Subject"] == SUBJECT]) == 1
    assert [c["Email"] for c in live_records(done.org, "Contact")].count("sam.lee@globex.com") == 1
    sam = next(c for c in live_records(done.org, "Contact") if c["Email"] == "sam.lee@globex.com")
    relations = [r["RelationId"] for r in live_records(done.org, "EventRelation")]
    assert sam["Id"] in relations
