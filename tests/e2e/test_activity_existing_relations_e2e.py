"""LogActivity reusing an activity found in Salesforce attaches only the contacts it lacks.

Regression: the match step's read-ahead of candidate activities did not read their
Task/EventRelations, so reusing an existing Event (a calendar invite, or ours after the
ledger was lost) re-attached every contact and Salesforce answered DUPLICATE_VALUE.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from callsync_dev.runner import DEMO_EVENT, DEMO_ORG, RunResult, run

pytestmark = pytest.mark.e2e

TITLE = "Globex x Acme - rollout scoping"


def log_activity_entries(result: RunResult) -> list[dict[str, Any]]:
    return [e for e in result.ledger if e.get("sk") == "step#LogActivity"]


def relation_failures(result: RunResult) -> list[str]:
    entries = log_activity_entries(result)
    failed = [str(c.get("note")) for e in entries for c in e["changes"] if c.get("action") == "failed"]
    warned = [w for e in entries for w in e["warnings"] if "could not be attached" in w]
    return failed + warned


def contact_relations(result: RunResult, event_id: str) -> list[str]:
    rows = result.org["records"].get("EventRelation", [])
    return [
        r["RelationId"] for r in rows if r["EventId"] == event_id and not r.get("IsWhat") and not r.get("IsDeleted")
    ]


def test_replay_with_a_lost_ledger_attaches_no_contact_twice() -> None:
    # Given the demo call logged once (an Event with Raj and Sam attached next to Jane)
    first = run([DEMO_EVENT], retry_wait_scale=0.01)
    assert [r["status"] for r in first.runs] == ["SUCCEEDED"]
    # When the same call runs again on a fresh stack (no ledger) against that org
    again = run([DEMO_EVENT], org=first.org, retry_wait_scale=0.01)
    # Then it succeeds, reuses the Event and tries to attach nobody it already has
    assert [r["status"] for r in again.runs] == ["SUCCEEDED"]
    assert relation_failures(again) == []
    events = [e for e in again.org["records"]["Event"] if e["Subject"].endswith(TITLE)]
    assert len(events) == 1
    relations = contact_relations(again, events[0]["Id"])
    assert len(relations) == len(set(relations)) == 3  # Jane (WhoId), Raj, Sam


def test_calendar_event_keeps_its_attendee_and_gains_the_missing_contact() -> None:
    # Given a calendar Event for the call (no prefix, other case) already linked to Jane and Raj
    org = json.loads(DEMO_ORG.read_text(encoding="utf-8"))
    org["records"]["Event"] = [
        {
            "Id": "ev-calendar",
            "Subject": TITLE.upper(),
            "StartDateTime": "2026-06-03T15:00:00Z",
            "EndDateTime": "2026-06-03T16:00:00Z",
            "WhatId": "opp-globex-rollout",
            "WhoId": "contact-jane",
            "OwnerId": "user-alice",
            "Description": "Calendar invite",
        }
    ]
    org["records"]["EventRelation"] = [
        {"EventId": "ev-calendar", "RelationId": "contact-raj", "IsParent": True, "IsInvitee": True}
    ]
    # When the demo call runs
    result = run([DEMO_EVENT], org=org, retry_wait_scale=0.01)
    # Then the calendar Event is reused, Sam is attached, and neither Jane nor Raj is attached again
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"]
    assert relation_failures(result) == []
    events = result.org["records"]["Event"]
    assert len(events) == 1 and "Globex wants every sales call" in events[0]["Description"]
    relations = contact_relations(result, events[0]["Id"])
    assert len(relations) == len(set(relations)) == 3
    created = [
        c
        for e in log_activity_entries(result)
        for c in e["changes"]
        if c["object"] == "EventRelation" and c["action"] == "created"
    ]
    assert [c["label"] for c in created] == ["sam.lee@globex.com"]
