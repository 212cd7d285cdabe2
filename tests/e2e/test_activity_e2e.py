"""LogActivity through `callsync run`: the state machine, handlers in-process, the emulator's dump."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from callsync_dev.runner import DEMO_EVENT, RunResult, run

from tests.support.demo import live, load, write_event

pytestmark = pytest.mark.e2e

SUBJECT = "[callsync] Globex x Acme - rollout scoping"


def ours(result: RunResult) -> dict[str, list[dict[str, Any]]]:
    """The records LogActivity writes for the demo call, by kind."""
    events = [e for e in live(result, "Event") if e["Subject"] == SUBJECT]
    event_ids = {e["Id"] for e in events}
    notes = [n for n in live(result, "ContentNote") if n["Title"].startswith(SUBJECT)]
    note_ids = {n["Id"] for n in notes}
    return {
        "events": events,
        "relations": [r for r in live(result, "EventRelation") if r["EventId"] in event_ids and not r.get("IsWhat")],
        "notes": notes,
        "links": [
            x
            for x in live(result, "ContentDocumentLink")
            if x["ContentDocumentId"] in note_ids and x.get("ShareType") == "V"
        ],
        "follow_ups": [
            t for t in live(result, "Task") if "callsync-ref: zoom-8841-2026-06-03/" in str(t.get("Description"))
        ],
    }


def test_demo_call_logged_once_across_duplicates_revisions_and_a_lost_ledger(tmp_path: Path) -> None:
    # Given the demo call, delivered twice, then re-synced as revision 2
    first = write_event(tmp_path, "r1")
    second = write_event(tmp_path, "r2", revision=2)
    # When `callsync run` processes them
    result = run([first, first, second], retry_wait_scale=0.01)
    # Then every run settled as expected
    assert [r["status"] for r in result.runs] == ["SUCCEEDED", "DUPLICATE", "SUCCEEDED"]
    # And the dump holds exactly one Event, its relations, one note with two links and two follow-ups
    found = ours(result)
    assert len(found["events"]) == 1
    event = found["events"][0]
    assert event["Type"] == "Discovery" and event["DurationInMinutes"] == 41
    assert "https://app.callsync.example/calls/" in event["Description"]
    who = {r["RelationId"] for r in found["relations"]}
    assert len(who) == len(found["relations"]) == 3  # Jane (WhoId), Raj, Sam: no duplicates
    assert len(found["notes"]) == 1 and len(found["links"]) == 2
    assert sorted(t["Subject"] for t in found["follow_ups"]) == [
        "Draft the pilot plan for two teams with Sam",
        "Send the security questionnaire and SOC 2 report to Raj",
    ]
    # And the ledger lists the records with their Salesforce URLs
    steps = [e for e in result.ledger if e.get("sk") == "step#LogActivity"]
    assert steps and all(c.get("url") for s in steps for c in s["changes"] if c["object"] == "Event")
    # When the same call is run again against that org with a fresh stack (the ledger is gone)
    again = run([first], org=result.org, retry_wait_scale=0.01)
    # Then Salesforce-side dedupe finds everything: still exactly one of each
    assert [r["status"] for r in again.runs] == ["SUCCEEDED"]
    refound = ours(again)
    assert {k: len(v) for k, v in refound.items()} == {k: len(v) for k, v in found.items()}


def test_bad_input_is_logged_safely(tmp_path: Path) -> None:
    # Given quotes and HTML in the title, a script in the notes, a 40,000-character summary,
    # 60 external participants, action items without assignee or due date, and an odd call_type case
    body = load(DEMO_EVENT)
    externals = [{"email": f"person{i}@globex.com", "name": f"Person {i}"} for i in range(57)]
    event = write_event(
        tmp_path,
        "bad",
        call_id="bad-1",
        title='Globex "Q3" <b>plan</b> & more',
        notes="<script>alert('x')</script> Tom & Jerry",
        summary="lorem ipsum " * 3400,
        participants=body["participants"] + externals,
        call_type="dIsCoVeRy",
        action_items=[{"text": "Follow up with everyone"}, {"text": "Share the deck", "due_date": "2026-06-10"}],
    )
    # When `callsync run` processes it
    result = run([event], retry_wait_scale=0.01)
    # Then it succeeds; the Event is within limits, typed in the org's case, with at most 50 contacts
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"], result.runs
    events = [e for e in live(result, "Event") if e["Subject"].startswith('[callsync] Globex "Q3"')]
    assert len(events) == 1
    assert len(events[0]["Description"]) <= 32_000 and "truncated by callsync" in events[0]["Description"]
    assert events[0]["Type"] == "Discovery"
    contacts = [r for r in live(result, "EventRelation") if r["EventId"] == events[0]["Id"] and not r.get("IsWhat")]
    assert len(contacts) <= 50
    # And the note is escaped text, the follow-ups exist with the host as owner
    notes = [n for n in live(result, "ContentNote") if n["Title"].startswith('[callsync] Globex "Q3"')]
    assert len(notes) == 1 and "<script>" not in str(notes[0]["Content"])
    follow = [t for t in live(result, "Task") if "callsync-ref: bad-1/" in str(t.get("Description"))]
    assert len(follow) == 2
    # And the report names the contacts left unlinked
    step = next(e for e in result.ledger if e.get("sk") == "step#LogActivity" and "bad-1" in e["call_key"])
    assert any("stay unlinked" in w for w in step["warnings"])


def test_refused_follow_ups_never_lose_the_calls_activity_nor_leave_it_out_of_the_ledger(tmp_path: Path) -> None:
    # Given a Task field the org requires and callsync does not fill (every follow-up Task is refused),
    # and a video call with 30 action items (more than fit as single subrequests: a collection)
    from callsync_dev.runner import DEMO_ORG

    org = load(DEMO_ORG)
    org["schema"].setdefault("Task", {"fields": {}})["fields"]["Region__c"] = {
        "type": "string",
        "length": 40,
        "required": True,
    }
    event = load(DEMO_EVENT)
    event["action_items"] = [{"text": f"Follow up {i}", "assignee_email": "alice.rep@acme.io"} for i in range(30)]
    # When the call runs
    result = run([write_event(tmp_path, "call", event)], org=org)
    # Then the call succeeds: its Event, relations, note and links are in Salesforce
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"], result.runs
    records = ours(result)
    assert len(records["events"]) == 1 and len(records["notes"]) == 1
    assert records["relations"] and records["links"] and records["follow_ups"] == []
    # And the ledger lists every record written, and each refused follow-up with Salesforce's error and the fix
    (entry,) = [e for e in result.ledger if e["sk"] == "step#LogActivity"]
    actions = [(c["object"], c["action"]) for c in entry["changes"]]
    assert ("Event", "created") in actions and ("ContentNote", "created") in actions
    assert actions.count(("Task", "failed")) == 30
    assert all("REQUIRED_FIELD_MISSING" in (c["note"] or "") for c in entry["changes"] if c["action"] == "failed")
    assert any("give it a default value in Salesforce" in w for w in entry["warnings"])
    # And one request wrote it all
    assert entry["api_requests"] == 1


def test_a_title_that_looks_like_a_composite_reference_is_found_again_on_replay(tmp_path: Path) -> None:
    # Given a call whose title contains "@{" (stored defused: composite bodies resolve @{ref.field})
    title = "Pricing @{activity.id} review"
    first = write_event(tmp_path, "r1", title=title)
    result = run([first])
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"]
    events = [e for e in live(result, "Event") if "Pricing" in e["Subject"]]
    assert len(events) == 1 and "@\u200b{activity.id}" in events[0]["Subject"]
    # When the call is replayed against that org with the ledger gone, and re-synced as revision 2
    again = run([first, write_event(tmp_path, "r2", title=title, revision=2)], org=result.org)
    # Then the stored activity, note and follow-ups are found by their stored subject: nothing is logged twice
    assert [r["status"] for r in again.runs] == ["SUCCEEDED", "SUCCEEDED"]
    assert [e["Id"] for e in live(again, "Event") if "Pricing" in e["Subject"]] == [events[0]["Id"]]
    assert {k: len(v) for k, v in ours(again).items()} == {k: len(v) for k, v in ours(result).items()}
