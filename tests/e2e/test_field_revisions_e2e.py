"""Revisions of one call in the mapped fields, through `callsync run`: a later revision replaces its own
entry, value and multi-select additions; an older revision never overwrites a newer one; a person's edit
made after the call is kept (docs/field-sync.md, "Revisions and people's edits")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from callsync.domain.field_revisions import call_mark
from callsync_dev.report import render
from callsync_dev.runner import DEMO_EVENT, DEMO_ORG, DEMO_SETTINGS, RunResult, run

from tests.support.demo import load, records, write_event

pytestmark = pytest.mark.e2e

OPP_NAME = "Globex - Sales call automation (120 seats)"
REP_PAIN = "2026-05-12: Call notes never reach Salesforce; forecast calls rely on memory."
CALL_ID = load(DEMO_EVENT)["call_id"]
ENTRY = f"[2026-06-03 #{call_mark(CALL_ID)}]"  # the demo call's entry header
R1 = load(DEMO_EVENT)["insights"]
R2_INSIGHTS = {
    **R1,
    "pain": "Reps lose 6 hours a week to call notes; the CFO wants the forecast from real call data.",
    "competition": ["Clari"],
    "next_step": "Pilot plan review with Sam and the CFO on June 15",
}


def revision(tmp_path: Path, number: int, **changes: Any) -> Path:
    insights = R1 if number == 1 else R2_INSIGHTS
    return write_event(tmp_path, f"r{number}", revision=number, insights=insights, **changes)


def opportunity(result: RunResult) -> dict[str, Any]:
    return next(r for r in records(result, "Opportunity") if r["Name"] == OPP_NAME)


def sync_fields(result: RunResult, revision_number: int) -> dict[str, Any]:
    return next(
        e for e in result.ledger if e["sk"] == "step#SyncFields" and e["call_key"].endswith(f"#{revision_number}")
    )


def field_change(entry: dict[str, Any], obj: str, name: str) -> dict[str, Any]:
    change = next(c for c in entry["changes"] if c["object"] == obj)
    return next(f for f in change["fields"] if f["field"] == name)


def assert_revision_2_values(opp: dict[str, Any]) -> None:
    """Revision 2's values exactly: its entry in place of revision 1's, Chorus (revision 1's) gone."""
    assert opp["Pain__c"] == f"{REP_PAIN}\n\n{ENTRY} {R2_INSIGHTS['pain']}"
    assert opp["Competitors__c"] == "Gong;Clari"  # Gong was the rep's, before the call
    assert opp["NextStep"] == R2_INSIGHTS["next_step"]
    assert opp["Metrics__c"] == f"{ENTRY} {R1['metrics']}"  # unchanged between the revisions: one entry


def assert_a_newer_call_applies_its_policy(tmp_path: Path, state: Path) -> None:
    """A call that started after the person's edit (2026-06-08) overwrites NextStep with its own."""
    newer = write_event(
        tmp_path,
        "newer",
        call_id="zoom-9100",
        started_at="2026-06-08T15:00:00Z",
        insights={"next_step": "Security review passed: start the pilot"},
    )
    latest = run([newer], state=state)
    assert opportunity(latest)["NextStep"] == "Security review passed: start the pilot"


def test_a_later_revision_replaces_its_own_contribution(tmp_path):
    # Given revision 1 of a call, then another call on the deal, then revision 2 with changed insights
    other = write_event(
        tmp_path,
        "other",
        call_id="zoom-9000",
        started_at="2026-06-10T15:00:00Z",
        insights={"pain": "Managers still rebuild the forecast by hand."},
    )
    # When they arrive one after the other
    result = run([revision(tmp_path, 1), other, revision(tmp_path, 2)], sequential=True)
    # Then revision 2's entry stands where revision 1's was, the other call's entry follows byte for byte
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"] * 3
    opp = opportunity(result)
    other_entry = f"[2026-06-10 #{call_mark('zoom-9000')}] Managers still rebuild the forecast by hand."
    assert opp["Pain__c"] == f"{REP_PAIN}\n\n{ENTRY} {R2_INSIGHTS['pain']}\n\n{other_entry}"
    assert opp["Competitors__c"] == "Gong;Clari"
    assert opp["NextStep"] == R2_INSIGHTS["next_step"]
    # And the ledger says what was replaced and removed
    entry = sync_fields(result, 2)
    assert "replaced this call's earlier entry" in field_change(entry, "Opportunity", "Pain__c")["note"]
    assert "removed Chorus" in field_change(entry, "Opportunity", "Competitors__c")["note"]


@pytest.mark.parametrize(
    ("order", "sequential"),
    [((1, 2), True), ((2, 1), True), ((1, 2), False), ((2, 1), False)],
    ids=["1-then-2", "2-then-1", "together-1-first", "together-2-first"],
)
def test_the_newest_revision_wins_whatever_the_order(tmp_path, order, sequential):
    # Given revisions 1 and 2 of one call, delivered in this order, one after the other or together
    events = [revision(tmp_path, n) for n in order]
    # When they run
    result = run(events, sequential=sequential)
    # Then the fields hold revision 2's values exactly, with one entry of the call per text field
    assert all(r["status"] == "SUCCEEDED" for r in result.runs), result.runs
    assert_revision_2_values(opportunity(result))
    if order == (2, 1) and sequential:
        # And revision 1, arriving last, wrote nothing and says why
        older = sync_fields(result, 1)
        assert all(c["action"] == "skipped" for c in older["changes"])
        assert "revision 2 of this call already synced its fields" in older["changes"][0]["note"]


def test_the_entry_is_recognised_without_the_ledger(tmp_path):
    # Given revision 1 synced, then the ledger lost (a fresh environment over the same org)
    first = run([revision(tmp_path, 1)])
    # When revision 2 runs against the org alone
    again = run([revision(tmp_path, 2)], org=first.org)
    # Then its entry replaces revision 1's, found by the marker; without the ledger the multi-select
    # cannot tell revision 1's additions from a person's, so it only adds
    assert [r["status"] for r in again.runs] == ["SUCCEEDED"]
    opp = opportunity(again)
    assert opp["Pain__c"] == f"{REP_PAIN}\n\n{ENTRY} {R2_INSIGHTS['pain']}"
    assert opp["Competitors__c"] == "Gong;Chorus;Clari"


def edit_opportunity(state: Path, at: str = "2026-06-05T09:30:00.000Z", **values: Any) -> str:
    """A person's edit in Salesforce, stood for by editing DIR/org.json: Alice changes the rollout at ``at``."""
    path = state / "org.json"
    org = json.loads(path.read_text(encoding="utf-8"))
    alice = next(u["Id"] for u in org["records"]["User"] if u.get("Email") == "alice.rep@acme.io")
    opp = next(r for r in org["records"]["Opportunity"] if r.get("Name") == OPP_NAME)
    opp.update(values, LastModifiedById=alice, LastModifiedDate=at)
    path.write_text(json.dumps(org), encoding="utf-8")
    return alice


def test_a_persons_edit_after_the_call_is_kept_by_a_resync(tmp_path):
    # Given revision 1 synced, then Alice rewrites NextStep and the Competitors in Salesforce two days later
    state = tmp_path / "state"
    assert run([revision(tmp_path, 1)], state=state).exit_code == 0
    edit_opportunity(state, NextStep="Alice: wait for the CFO's budget decision", Competitors__c="Gong;Chorus;Avoma")
    # When revision 2 of the call arrives
    again = run([revision(tmp_path, 2)], state=state)
    # Then Alice's values stay; the entry she did not touch is replaced by revision 2's
    assert [r["status"] for r in again.runs] == ["SUCCEEDED"]
    opp = opportunity(again)
    assert opp["NextStep"] == "Alice: wait for the CFO's budget decision"
    assert opp["Competitors__c"] == "Gong;Chorus;Avoma"
    assert opp["Pain__c"] == f"{REP_PAIN}\n\n{ENTRY} {R2_INSIGHTS['pain']}"
    # And the ledger (and so the report) says who changed it and when
    entry = sync_fields(again, 2)
    kept = field_change(entry, "Opportunity", "NextStep")
    assert kept["policy"] == "keep" and kept["note"] == "kept: changed by Alice Rep on 2026-06-05"
    assert field_change(entry, "Opportunity", "Competitors__c")["note"] == "kept: changed by Alice Rep on 2026-06-05"
    assert "NextStep: " in render(again) and "(kept: changed by Alice Rep on 2026-06-05)" in render(again)

    # When a newer call (it started after Alice's edit) brings a next step
    # Then the newer call applies its policy (overwrite)
    assert_a_newer_call_applies_its_policy(tmp_path, state)


def test_an_edit_made_before_the_call_started_does_not_protect(tmp_path):
    # Given revision 1 synced, then NextStep changed by Alice with a date before the call started
    state = tmp_path / "state"
    assert run([revision(tmp_path, 1)], state=state).exit_code == 0
    edit_opportunity(state, at="2026-06-01T09:00:00.000Z", NextStep="Old plan")
    # When revision 2 arrives
    again = run([revision(tmp_path, 2)], state=state)
    # Then the call's information is newer than the edit: revision 2 overwrites it
    assert opportunity(again)["NextStep"] == R2_INSIGHTS["next_step"]


def test_protection_off_lets_a_resync_overwrite(tmp_path):
    # Given protect_human_edits false, revision 1 synced, then Alice's edit of NextStep after the call
    settings = {**load(DEMO_SETTINGS), "protect_human_edits": False}
    state = tmp_path / "state"
    assert run([revision(tmp_path, 1)], settings=settings, org=load(DEMO_ORG), state=state).exit_code == 0
    edit_opportunity(state, NextStep="Alice: wait for the CFO's budget decision")
    # When revision 2 arrives
    again = run([revision(tmp_path, 2)], state=state)
    # Then revision 2's value replaces hers
    assert opportunity(again)["NextStep"] == R2_INSIGHTS["next_step"]


def test_a_late_call_older_than_a_persons_edit_keeps_it_and_a_newer_call_overwrites(tmp_path):
    """A different call that started before a person's edit but arrives after it keeps the person's NextStep
    (``overwrite`` would replace it) and still appends its dated entry; a call started after the edit
    overwrites it. Who last modified the Opportunity comes with the match step's read-ahead."""
    # Given the demo call synced, then Alice sets NextStep in Salesforce on June 5
    state = tmp_path / "state"
    assert run([revision(tmp_path, 1)], state=state).exit_code == 0
    edit_opportunity(state, NextStep="Alice: wait for the CFO's budget decision")
    # When a call that started on June 4 (before her edit) is delivered late
    late = write_event(
        tmp_path,
        "late",
        call_id="zoom-8800",
        started_at="2026-06-04T15:00:00Z",
        insights={"next_step": "Send the pilot contract", "pain": "Forecast reviews take a full day."},
    )
    after = run([late], state=state)
    # Then Alice's NextStep stays, said with who and when; the late call's pain entry is appended
    assert [r["status"] for r in after.runs] == ["SUCCEEDED"]
    opp = opportunity(after)
    assert opp["NextStep"] == "Alice: wait for the CFO's budget decision"
    late_entry = f"[2026-06-04 #{call_mark('zoom-8800')}] Forecast reviews take a full day."
    assert opp["Pain__c"].endswith(f"\n\n{late_entry}")
    entry = next(e for e in after.ledger if e["sk"] == "step#SyncFields" and "zoom-8800" in e["call_key"])
    kept = field_change(entry, "Opportunity", "NextStep")
    assert (kept["policy"], kept["note"]) == ("keep", "kept: changed by Alice Rep on 2026-06-05")
    assert "(kept: changed by Alice Rep on 2026-06-05)" in render(after)
    # And SyncFields read nothing itself: its one request is the write (the modifier came with the read-ahead)
    assert entry["api_requests"] == 1

    # When a newer call (it started after Alice's edit) brings a next step
    # Then the newer call applies its policy (overwrite)
    assert_a_newer_call_applies_its_policy(tmp_path, state)
