"""``callsync revert`` (INTERFACES.md §4) through the real pipe: ``callsync run --state DIR`` writes the demo call,
a person may change Salesforce in ``DIR/org.json``, then ``callsync revert --state DIR`` puts back what callsync
wrote wherever nobody changed it since, lists what it left alone, and records itself in the ledger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from callsync.adapters.dynamodb_ledger import DynamoDbLedger
from callsync_dev.cli import main
from callsync_dev.control_plane import local_environment
from callsync_dev.runner import DEMO_EVENT, DEMO_ORG, RunResult, run

from tests.support.demo import live_records, one_record, state_org

pytestmark = pytest.mark.e2e
CALL = "zoom-8841-2026-06-03"
ROLLOUT = "Globex - Sales call automation (120 seats)"
SUBJECT = "[callsync] Globex x Acme - rollout scoping"
QUESTIONNAIRE = "Send the security questionnaire and SOC 2 report to Raj"
PILOT = "Draft the pilot plan for two teams with Sam"
ALICE = "0055g0000000001AAA"  # a person (Alice Rep), not the integration user
SAM = "sam.lee@globex.com"


def edit(state: Path, obj: str, match: dict[str, Any], **values: Any) -> None:
    """A person's change in Salesforce between runs: ``values`` on the record matching ``match``."""
    org = state_org(state)
    one_record(org, obj, **match).update(values, LastModifiedById=ALICE, LastModifiedDate="2026-06-10T09:00:00Z")
    (state / "org.json").write_text(json.dumps(org))


def revert(state: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["revert", "--call", CALL, "--state", str(state), "--json"])
    return code, json.loads(capsys.readouterr().out)


def seeded(name: str) -> dict[str, Any]:
    """The demo org's Opportunity ``name`` as seeded (before any call)."""
    org = json.loads(DEMO_ORG.read_text())
    return dict(next(r for r in org["records"]["Opportunity"] if r["Name"] == name))


def test_revert_puts_back_every_value_deletes_what_callsync_created_and_twice_changes_nothing_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the demo call synced: Sam created, the Opportunity's fields written, an Event with relations,
    # a note with its links and two follow-up Tasks
    state = tmp_path / "state"
    assert [r["status"] for r in run([DEMO_EVENT], state=state).runs] == ["SUCCEEDED"]
    synced = state_org(state)
    assert one_record(synced, "Event", Subject=SUBJECT) and one_record(synced, "Contact", Email="sam.lee@globex.com")

    # When the call is reverted
    code, out = revert(state, capsys)

    # Then everything is back as it was before the call: the Opportunity's values are the seeded ones
    assert code == 0 and out["status"] == "REVERTED", out
    org = state_org(state)
    seed = seeded(ROLLOUT)
    opportunity = one_record(org, "Opportunity", Name=ROLLOUT)
    assert opportunity["Pain__c"] == seed["Pain__c"]
    assert opportunity["Competitors__c"] == seed["Competitors__c"]
    assert opportunity["NextStep"] == seed["NextStep"]
    assert opportunity["Metrics__c"] is None and opportunity["Economic_Buyer__c"] is None
    assert one_record(org, "Contact", Email="jane.doe@globex.com")["Champion_Notes__c"] is None
    assert one_record(org, "Account", Name="Globex")["Callsync_Link__c"] is None
    # And what callsync created is gone: the Event and its relations, the note and its links, the follow-ups, Sam
    assert not [e for e in live_records(org, "Event") if e["Subject"] == SUBJECT]
    assert (
        not live_records(org, "EventRelation")
        and not live_records(org, "ContentNote")
        and not live_records(org, "ContentDocumentLink")
    )
    assert not [t for t in live_records(org, "Task") if t["Subject"] in (QUESTIONNAIRE, PILOT)]
    assert [c["Email"] for c in live_records(org, "Contact")].count("sam.lee@globex.com") == 0
    # And the people and records that were there before stay
    assert {c["Email"] for c in live_records(org, "Contact")} == {
        c["Email"] for c in live_records(synced, "Contact")
    } - {"sam.lee@globex.com"}

    # When it is reverted again
    code, again = revert(state, capsys)

    # Then nothing more is written and the result is the same
    assert code == 0 and again["status"] == "REVERTED" and again["writes"] == 0, again
    assert {(c["object"], c["id"], c["action"]) for c in again["changes"]} == {
        (c["object"], c["id"], c["action"]) for c in out["changes"]
    }
    assert state_org(state)["records"] == org["records"]
    # And the ledger holds the revert as the call's Revert step, each record reverted
    with local_environment(state) as stack:
        history = DynamoDbLedger(stack.table("LedgerTable")).history("acme", CALL)
    report = history.step(1, "Revert")
    assert report is not None and {c.action for c in report.changes} == {"reverted"}
    assert {c.object for c in report.changes} >= {"Event", "Task", "ContentNote", "Contact", "Opportunity"}


def test_what_a_person_changed_since_is_kept_with_its_reason_and_the_rest_is_reverted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the demo call synced, then a person rewrote the Opportunity's Next Step, completed one follow-up
    # Task, and logged their own Task with Sam (the Contact callsync created)
    state = tmp_path / "state"
    assert [r["status"] for r in run([DEMO_EVENT], state=state).runs] == ["SUCCEEDED"]
    edit(state, "Opportunity", {"Name": ROLLOUT}, NextStep="Pilot kickoff on June 20")
    edit(state, "Task", {"Subject": QUESTIONNAIRE}, Status="Completed")
    org = state_org(state)
    sam = one_record(org, "Contact", Email="sam.lee@globex.com")
    own_task = {**one_record(org, "Task", Subject=PILOT), "Id": "00T5g0000000099EAA", "Subject": "Call Sam back"}
    own_task.update(WhoId=sam["Id"], CreatedById=ALICE, LastModifiedById=ALICE)
    org["records"]["Task"].append(own_task)
    (state / "org.json").write_text(json.dumps(org))

    # When the call is reverted
    code, out = revert(state, capsys)

    # Then it exits 1 and lists what it left alone, each with its reason
    assert code == 1 and out["status"] == "PARTLY_REVERTED", out
    kept = {(c["object"], c["id"]): c for c in out["changes"] if c["action"] == "kept"}
    opportunity = one_record(state_org(state), "Opportunity", Name=ROLLOUT)
    questionnaire = one_record(org, "Task", Subject=QUESTIONNAIRE)
    assert set(kept) == {("Opportunity", opportunity["Id"]), ("Task", questionnaire["Id"]), ("Contact", sam["Id"])}
    assert "NextStep: changed since callsync wrote it" in kept[("Opportunity", opportunity["Id"])]["note"]
    assert f"modified by {ALICE}" in kept[("Task", questionnaire["Id"])]["note"]
    assert "used by Task 00T5g0000000099EAA" in kept[("Contact", sam["Id"])]["note"]
    # And the org shows exactly that: the person's values and records stay, callsync's others are reverted
    after = state_org(state)
    assert opportunity["NextStep"] == "Pilot kickoff on June 20"
    assert opportunity["Pain__c"] == seeded(ROLLOUT)["Pain__c"] and opportunity["Metrics__c"] is None
    assert one_record(after, "Task", Subject=QUESTIONNAIRE)["Status"] == "Completed"
    assert one_record(after, "Task", Subject="Call Sam back")["WhoId"] == sam["Id"]
    assert one_record(after, "Contact", Email="sam.lee@globex.com")["Id"] == sam["Id"]
    assert not [t for t in live_records(after, "Task") if t["Subject"] == PILOT]
    assert not [e for e in live_records(after, "Event") if e["Subject"] == SUBJECT]

    # When it is reverted again / Then nothing more changes and the same records are left alone
    code, again = revert(state, capsys)
    assert code == 1 and again["writes"] == 0
    assert {(c["object"], c["id"]) for c in again["changes"] if c["action"] == "kept"} == set(kept)
    assert state_org(state)["records"] == after["records"]


def test_a_created_contact_another_activity_relates_to_is_kept_even_when_the_call_wrote_no_relation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Shared Activities on (the demo org has TaskRelation): EventRelation.RelationId names a Contact related to
    an Event besides its WhoId (Salesforce Object Reference, "EventRelation")."""
    # Given a call with one external participant, Sam, whom callsync created and set as the Event's WhoId
    # (so the call itself wrote no EventRelation)
    state = tmp_path / "state"
    event = json.loads(DEMO_EVENT.read_text())
    event["participants"] = [p for p in event["participants"] if p["email"] in ("alice.rep@acme.io", SAM)]
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    assert [r["status"] for r in run([path], state=state).runs] == ["SUCCEEDED"]
    org = state_org(state)
    sam = one_record(org, "Contact", Email=SAM)
    # And a person then added Sam as a secondary invitee of their own Event
    other = {
        "Id": "00U5g0000000777",
        "Subject": "Globex exec sync",
        "StartDateTime": "2026-06-20T15:00:00Z",
        "EndDateTime": "2026-06-20T15:30:00Z",
        "DurationInMinutes": 30,
        "ActivityDate": "2026-06-20",
        "WhoId": None,
        "OwnerId": ALICE,
        "CreatedById": ALICE,
        "LastModifiedById": ALICE,
    }
    relation = {
        "Id": "0RE5g0000000777",
        "EventId": other["Id"],
        "RelationId": sam["Id"],
        "IsWhat": False,
        "CreatedById": ALICE,
        "LastModifiedById": ALICE,
    }
    org["records"]["Event"].append(other)
    org["records"].setdefault("EventRelation", []).append(relation)
    (state / "org.json").write_text(json.dumps(org))
    # When the call is reverted
    code, result = revert(state, capsys)
    # Then Sam is kept, with the other Event's relation as the reason, and the relation is still there
    (change,) = [c for c in result["changes"] if c["object"] == "Contact" and c["id"] == sam["Id"]]
    assert change["action"] == "kept" and "EventRelation" in change["note"], change
    assert code == 1 and result["status"] == "PARTLY_REVERTED"
    after = state_org(state)
    assert one_record(after, "Contact", Email=SAM)["Id"] == sam["Id"]
    assert [r["RelationId"] for r in live_records(after, "EventRelation") if r["EventId"][:15] == other["Id"]] == [
        sam["Id"]
    ]
    # And the call's own Event is deleted
    assert not [e for e in live_records(after, "Event") if e.get("Subject") == SUBJECT]


def follow_up_call(tmp_path: Path) -> Path:
    """The same people on a second call the next day."""
    event = json.loads(DEMO_EVENT.read_text())
    event.update(call_id="zoom-9999-2026-06-04", started_at="2026-06-04T15:00:00Z", title="Globex x Acme - follow-up")
    path = tmp_path / "follow-up.json"
    path.write_text(json.dumps(event))
    return path


def assert_the_follow_up_names_a_live_sam(result: RunResult, state: Path) -> None:
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"]
    org = state_org(state)
    sam = one_record(org, "Contact", Email=SAM)
    event = one_record(org, "Event", Subject="[callsync] Globex x Acme - follow-up")
    related = {event.get("WhoId")} | {
        r["RelationId"] for r in live_records(org, "EventRelation") if r["EventId"] == event["Id"]
    }
    assert sam["Id"] in related


def test_a_call_after_the_revert_creates_the_deleted_people_again_instead_of_reusing_their_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the demo call synced (it created Sam) and was reverted (Sam deleted)
    state = tmp_path / "state"
    assert [r["status"] for r in run([DEMO_EVENT], state=state).runs] == ["SUCCEEDED"]
    assert one_record(state_org(state), "Contact", Email=SAM)
    code, _ = revert(state, capsys)
    assert code in (0, 1) and not [c for c in live_records(state_org(state), "Contact") if c["Email"] == SAM]
    # When another call with Sam runs within the hour
    result = run([follow_up_call(tmp_path)], state=state)
    # Then it succeeds and creates Sam again (a live Contact), and its Event names that Contact
    assert_the_follow_up_names_a_live_sam(result, state)


def test_a_contact_a_person_deleted_is_created_again_by_the_next_call_within_the_hour(tmp_path: Path) -> None:
    """Its claim still names the deleted id; the next call's match step looked Sam up after that claim was
    resolved and did not find him, so the claim is stale."""
    # Given the demo call synced (it created Sam), then a person deleted Sam in Salesforce
    state = tmp_path / "state"
    assert [r["status"] for r in run([DEMO_EVENT], state=state).runs] == ["SUCCEEDED"]
    assert one_record(state_org(state), "Contact", Email=SAM)
    edit(state, "Contact", {"Email": SAM}, IsDeleted=True)
    # When another call with Sam runs within the hour
    result = run([follow_up_call(tmp_path)], state=state)
    # Then Sam is created again and the new call's Event names the live Contact
    assert_the_follow_up_names_a_live_sam(result, state)
