"""LogActivity's handler and adapter against the emulator over HTTPS and moto's ledger."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from activity_stack import ALICE, BOB_REP, DEAL, GLOBEX, JANE, ORG, RAJ, SAM, org_fixture
from callsync.adapters.salesforce_activity import SalesforceActivityStore
from callsync.models.state import SyncState
from callsync.ports.activity import WriteOutcome, WritePlan
from callsync.services.log_activity import LogActivity

from functions.log_activity.app import handler
from tests.support.lambdas import latest_report

pytestmark = pytest.mark.integration


def person(email: str, rid: str | None, obj: str | None) -> dict[str, Any]:
    return {"email": email, "object": obj, "id": rid}


def state(*, revision: int = 1, candidates: list[dict[str, Any]] | None = None, **call: Any) -> dict[str, Any]:
    body = {
        "schema_version": 1,
        "org_id": ORG,
        "call_id": "c1",
        "revision": revision,
        "title": 'Globex "weekly" <b>sync</b>',
        "started_at": "2026-11-20T15:00:00Z",
        "duration_seconds": 1800,
        "medium": "video",
        "host_email": "alice@ourco.com",
        "participants": [
            {"email": e}
            for e in ("alice@ourco.com", "bob@ourco.com", "jane@globex.com", "raj@globex.com", "sam@globex.com")
        ],
        "call_type": "DISCOVERY",
        "summary": "Summary with @{activity.id} & more",
        "key_points": ["Pilot in June"],
        "notes": "<script>alert(1)</script> Tom & Jerry\nline two",
        "action_items": [
            {"text": "Send pricing", "assignee_email": "bob@ourco.com", "due_date": "2026-11-27"},
            {"text": "Book the demo"},
        ],
        "call_url": "https://app.example.com/calls/c1",
        **call,
    }
    match = {
        "internal": [person("alice@ourco.com", ALICE, "User"), person("bob@ourco.com", BOB_REP, "User")],
        "host_user_id": ALICE,
        "opportunity": {"id": DEAL, "account_id": GLOBEX, "owner_id": BOB_REP},
        "account": {"id": GLOBEX, "name": "Globex"},
        "primary_contact": person("jane@globex.com", JANE, "Contact"),
        "contacts": [person("raj@globex.com", RAJ, "Contact"), person("sam@globex.com", SAM, "Contact")],
        "activity_candidates": candidates,
    }
    settings = {
        "org_id": ORG,
        "internal_domains": ["ourco.com"],
        "subject_prefix": "[Airspeed]",
        "activity_sync": {"enabled": True, "mode": "smart"},
        "notes_sync": {"enabled": True},
        "task_sync": {"enabled": True},
    }
    return {"call": body, "settings": settings, "match": match}


def live(emu: Any, obj: str) -> list[dict[str, Any]]:
    return [r for r in emu.records(obj) if not r.get("IsDeleted")]


def test_logs_event_relations_note_links_and_follow_ups(emulator_for, deps_for, lambda_context):
    # Given the org with Shared Activities, and a call read ahead by the match step (no candidates)
    emu = emulator_for(org_fixture())
    deps = deps_for(emu)
    # When LogActivity runs
    result = handler(state(candidates=[]), lambda_context, deps=deps)
    # Then one Event, owned by the opportunity owner who attended, Type in the org's case
    events = live(emu, "Event")
    assert len(events) == 1
    event = events[0]
    assert event["Subject"] == '[Airspeed] Globex "weekly" <b>sync</b>'
    assert (event["OwnerId"], event["WhatId"], event["WhoId"], event["Type"]) == (BOB_REP, DEAL, JANE, "Discovery")
    assert event["DurationInMinutes"] == 30
    assert "{activity.id}" in event["Description"]  # text that looks like a reference stays text
    assert "Summary with" in event["Description"] and "Call: https://app.example.com/calls/c1" in event["Description"]
    # And Raj and Sam are attached next to Jane
    relation_ids = {r["RelationId"] for r in live(emu, "EventRelation") if r["EventId"] == event["Id"]}
    assert {JANE, RAJ, SAM} <= relation_ids
    # And the note is escaped HTML, linked to the deal and to Jane
    note = live(emu, "ContentNote")[0]
    content = note["Content"] if "<p>" in str(note["Content"]) else base64.b64decode(note["Content"]).decode()
    assert "&lt;script&gt;" in content and "Tom &amp; Jerry<br>line two" in content
    links = {
        link["LinkedEntityId"] for link in live(emu, "ContentDocumentLink") if link["ContentDocumentId"] == note["Id"]
    }
    assert {DEAL, JANE} <= links
    # And two open follow-ups, pricing owned by Bob and due the 27th
    follow = {t["Subject"]: t for t in live(emu, "Task")}
    assert set(follow) == {"Send pricing", "Book the demo"}
    assert follow["Send pricing"]["OwnerId"] == BOB_REP and str(follow["Send pricing"]["ActivityDate"]) == "2026-11-27"
    assert follow["Book the demo"]["OwnerId"] == ALICE and follow["Book the demo"]["Status"] != "Completed"
    # And the step reported what it wrote, each with its Salesforce URL
    assert result["action"] == "created" and result["kind"] == "Event"
    changes = latest_report(deps.ledger, "LogActivity")["changes"]
    assert all(c["url"] for c in changes if c["object"] in ("Event", "Task", "ContentNote"))
    # When revision 2 arrives warm (the match step's read-ahead returned the Event) / Then one request, and
    # still exactly one of each
    emu.reset_api_requests()
    again = handler(state(revision=2, candidates=live(emu, "Event")), lambda_context, deps=deps)
    assert emu.api_requests == 1 and latest_report(deps.ledger, "LogActivity")["api_requests"] == 1
    assert again["activity_id"] == event["Id"] and again["action"] == "updated"
    assert len(live(emu, "Event")) == 1 and len(live(emu, "ContentNote")) == 1 and len(live(emu, "Task")) == 2
    assert len([r for r in live(emu, "EventRelation") if r["EventId"] == event["Id"]]) == len(relation_ids)


def test_calendar_event_found_by_lookup_and_updated(emulator_for, deps_for, lambda_context):
    # Given the calendar integration's event (no prefix, other case) with Jane, and no read-ahead
    calendar = {
        "Subject": 'globex "WEEKLY" <b>sync</b>',
        "StartDateTime": "2026-11-20T15:02:00Z",
        "EndDateTime": "2026-11-20T15:30:00Z",
        "WhoId": JANE,
        "Description": "invite",
    }
    emu = emulator_for(org_fixture(events=[calendar]))
    deps = deps_for(emu)
    api = deps.salesforce(ORG)
    # warm the describe cache
    deps.describes(ORG, api).describe(["Event", "Task", "ContentNote", "ContentDocumentLink"])
    deps.describes(ORG, api).org_metadata()
    emu.reset_api_requests()
    # When LogActivity runs without candidates from the match step
    result = handler(state(candidates=None), lambda_context, deps=deps)
    # Then one lookup and one write; the calendar's event got the summary, Type and owner; no new Event
    assert emu.api_requests == 2 and latest_report(deps.ledger, "LogActivity")["api_requests"] == 2
    events = live(emu, "Event")
    assert len(events) == 1 and result["activity_id"] == events[0]["Id"]
    assert result["action"] == "updated" and result["deduped_with"] == "lookup"
    assert events[0]["Subject"] == calendar["Subject"] and "Summary with" in events[0]["Description"]
    assert (events[0]["Type"], events[0]["OwnerId"], events[0]["WhatId"]) == ("Discovery", BOB_REP, DEAL)


def test_retry_after_crash_between_write_and_ledger(emulator_for, deps_for):
    # Given a write that Salesforce committed but whose function died before the ledger was finished
    emu = emulator_for(org_fixture())
    deps = deps_for(emu)
    api = deps.salesforce(ORG)
    store = SalesforceActivityStore(api)

    class Dying(SalesforceActivityStore):
        def write(self, plan: WritePlan) -> WriteOutcome:
            super().write(plan)
            raise TimeoutError("the function timed out")

    sync = SyncState.model_validate(state(candidates=[]))
    with pytest.raises(TimeoutError):
        LogActivity(Dying(api), deps.describes(ORG, api), deps.ledger).run(sync)
    # When the step is retried with the same input
    result = LogActivity(store, deps.describes(ORG, api), deps.ledger).run(sync)
    # Then the records are found, not duplicated
    assert len(live(emu, "Event")) == 1 and len(live(emu, "ContentNote")) == 1 and len(live(emu, "Task")) == 2
    assert result.deduped_with == "lookup"
    assert len(live(emu, "ContentDocumentLink")) == len(
        {(r["ContentDocumentId"], r["LinkedEntityId"]) for r in live(emu, "ContentDocumentLink")}
    )


def test_without_shared_activities_only_the_primary_contact(emulator_for, deps_for, lambda_context):
    # Given an org without Shared Activities
    emu = emulator_for(org_fixture(shared_activities=False))
    deps = deps_for(emu)
    # When LogActivity runs
    result = handler(state(candidates=[]), lambda_context, deps=deps)
    # Then the Event names Jane only; Raj and Sam are reported unlinked
    assert live(emu, "Event")[0]["WhoId"] == JANE
    assert sorted(result["unlinked_contacts"]) == ["raj@globex.com", "sam@globex.com"]


def test_phone_call_is_a_completed_call_task(emulator_for, deps_for, lambda_context):
    # Given a telephony call with an unknown call type
    emu = emulator_for(org_fixture())
    deps = deps_for(emu)
    body = state(candidates=[], medium="telephony", call_type="Negotiation", action_items=[])
    body["settings"]["notes_sync"] = {"enabled": False}
    handler(body, lambda_context, deps=deps)
    # Then a completed Call Task dated the call's day, Type left blank, the report says why
    task = live(emu, "Task")[0]
    assert (task["Status"], task["TaskSubtype"], str(task["ActivityDate"])) == ("Completed", "Call", "2026-11-20")
    assert task["CallDurationInSeconds"] == 1800 and task["Type"] is None
    assert any("Negotiation" in w for w in latest_report(deps.ledger, "LogActivity")["warnings"])
