"""LogActivity reusing an activity it did not create, and re-syncs that respect people's edits (`callsync run`).

- A calendar Event or a dialer Task reused for the call keeps its Description (callsync adds its own
  section between two delimiter lines and replaces only that section later) and a Type already set.
- Dedupe compares normalised titles (case, whitespace, dash/quote variants, the subject prefix) and
  takes an Event starting at most 10 minutes from the call's start.
- A person's re-association of the logged activity sticks on re-syncs of the call.
- Whatever the order or concurrency of revisions 1 and 2, the activity ends with revision 2's summary.

Salesforce behaviour the emulator follows here: ``LastModifiedById``/``LastModifiedDate`` are stamped
with the integration user on every API write and are read with a parent field ``LastModifiedBy.Name``
(Object Reference, "System Fields"; SOQL "Relationship Queries"); the OAuth token response's ``id``
is the identity URL ending in the user's id (REST API Developer Guide, "Identity URLs").
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from callsync_dev.runner import DEMO_ORG, DEMO_SETTINGS, RunResult, run

from tests.support.demo import live, load, write_event

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
REVISION_2 = ROOT / "events/demo_event_revision2.json"
CALL_ID = "zoom-8841-2026-06-03"
BEGIN = f"----- callsync call summary: begin ({CALL_ID}) -----"
END = f"----- callsync call summary: end ({CALL_ID}) -----"
MARKER = f"callsync-ref: {CALL_ID}"
EDITED = "(Edited: the CFO joined the pilot review.)"
INVITE = "Join: https://meet.example/abc-defg-hij\nAgenda: rollout scoping with Jane and Raj"
ROLLOUT = "Globex - Sales call automation (120 seats)"
PILOT = "Globex - Pilot 2025"


def org_with(**records: list[dict[str, Any]]) -> dict[str, Any]:
    org = load(DEMO_ORG)
    for name, rows in records.items():
        org["records"][name] = copy.deepcopy(rows)
    return org


def calendar_event(subject: str = "Globex x Acme - rollout scoping", start: str = "2026-06-03T15:00:00Z") -> dict:
    return {
        "Id": "ev-calendar",
        "Subject": subject,
        "StartDateTime": start,
        "DurationInMinutes": 60,
        "WhatId": "opp-globex-rollout",
        "WhoId": "contact-jane",
        "OwnerId": "user-alice",
        "Type": "Meeting",
        "Description": INVITE,
    }


def activity_changes(result: RunResult) -> list[dict[str, Any]]:
    return [
        c
        for e in result.ledger
        if e.get("sk") == "step#LogActivity"
        for c in e["changes"]
        if c.get("role") == "activity"
    ]


def the_call_events(result: RunResult) -> list[dict[str, Any]]:
    return [e for e in live(result, "Event") if MARKER in str(e.get("Description"))]


def record_id(org: dict[str, Any], obj: str, **match: str) -> str:
    return next(r["Id"] for r in org["records"][obj] if all(r.get(k) == v for k, v in match.items()))


def test_a_reused_calendar_event_keeps_its_text_and_type_and_revision_2_replaces_only_callsyncs_section(
    tmp_path: Path,
) -> None:
    # Given the calendar's Event for the call (its invite text, Type "Meeting"), in a persistent environment
    state = tmp_path / "state"
    first = run([write_event(tmp_path, "r1")], org=org_with(Event=[calendar_event()]), state=state)
    # Then it is reused: the invite text is kept, callsync's section follows it, Type and subject stay
    assert [r["status"] for r in first.runs] == ["SUCCEEDED"]
    [event] = live(first, "Event")
    text = event["Description"]
    assert text.startswith(f"{INVITE}\n\n{BEGIN}\nGlobex wants every sales call")
    assert text.endswith(f"Call: https://app.callsync.example/calls/{CALL_ID}\n{MARKER}\n{END}")
    assert (event["Type"], event["Subject"]) == ("Meeting", "Globex x Acme - rollout scoping")
    # And the ledger knows the Event is not callsync's own
    assert [c["key"] for c in activity_changes(first)] == ["reused"]

    # When a rep adds a line below callsync's section in Salesforce, then revision 2 arrives
    org = json.loads((state / "org.json").read_text(encoding="utf-8"))
    row = next(e for e in org["records"]["Event"] if e["Id"] == event["Id"])
    row["Description"] = f"{row['Description']}\n\nRep: sent the deck on Friday"
    (state / "org.json").write_text(json.dumps(org), encoding="utf-8")
    second = run([REVISION_2], state=state)
    # Then only callsync's section changed: revision 2's summary in it, the invite and the rep's line as they were
    assert [r["status"] for r in second.runs] == ["SUCCEEDED"]
    [event] = live(second, "Event")
    text = event["Description"]
    assert text.startswith(f"{INVITE}\n\n{BEGIN}\n") and text.endswith(f"{END}\n\nRep: sent the deck on Friday")
    assert text.count(BEGIN) == 1 and text.count(END) == 1 and text.count(MARKER) == 1
    assert EDITED in text
    assert event["Type"] == "Meeting"


def test_a_reused_dialer_task_keeps_its_recording_link_and_its_type_call(tmp_path: Path) -> None:
    # Given the dialer's Task for a phone call (recording link, Type "Call"), linked to Jane
    task = {
        "Id": "task-aircall",
        "Subject": "Globex x Acme - rollout scoping",
        "ActivityDate": "2026-06-03",
        "Status": "Completed",
        "WhoId": "contact-jane",
        "OwnerId": "user-alice",
        "Type": "Call",
        "Description": "Recording: https://aircall.example/calls/991/recording",
    }
    call = write_event(tmp_path, "phone", medium="telephony", source="aircall")
    # When the call (Discovery) is logged
    result = run([call], org=org_with(Task=[task]))
    # Then the dialer's Task is the call's activity: recording link first, callsync's section after, Type still Call
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"]
    [logged] = [t for t in live(result, "Task") if BEGIN in str(t.get("Description"))]
    assert (logged["Subject"], logged["Type"]) == ("Globex x Acme - rollout scoping", "Call")
    assert logged["Description"].startswith(f"Recording: https://aircall.example/calls/991/recording\n\n{BEGIN}\n")
    # And no second Task was logged beside it
    assert not [t for t in live(result, "Task") if t["Subject"] == "[callsync] Globex x Acme - rollout scoping"]


@pytest.mark.parametrize(
    ("start", "reused"),
    [("2026-06-03T15:10:00Z", True), ("2026-06-03T14:49:00Z", False)],
    ids=["10-minutes-late-is-the-call", "11-minutes-early-is-another-meeting"],
)
def test_dedupe_normalises_the_title_and_takes_an_event_within_ten_minutes(
    tmp_path: Path, start: str, reused: bool
) -> None:
    # Given a calendar Event whose subject differs only in case, spacing, an en dash, curly quotes and our prefix
    subject = "[callsync]  GLOBEX x Acme \u2013 \u201crollout\u201d   scoping"
    call = write_event(tmp_path, "quoted", title='Globex x Acme - "rollout" scoping')
    # When the call runs
    result = run([call], org=org_with(Event=[calendar_event(subject, start)]))
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"]
    events = live(result, "Event")
    if reused:
        # Then at 10 minutes from the call's start it is the call's Event: no second one beside it
        assert [(e["Subject"], BEGIN in e["Description"]) for e in events] == [(subject, True)]
    else:
        # Then at 11 minutes it is another meeting: left alone, and the call gets its own Event
        assert sorted((e["Subject"], e["Description"] == INVITE) for e in events) == sorted(
            [(subject, True), ('[callsync] Globex x Acme - "rollout" scoping', False)]
        )


def moved_by_alice(state: Path, event_id: str) -> tuple[str, str]:
    """A person (Alice) moves the call's Event to the pilot Opportunity and to Raj, in org.json."""
    org = json.loads((state / "org.json").read_text(encoding="utf-8"))
    alice = record_id(org, "User", Email="alice.rep@acme.io")
    pilot = record_id(org, "Opportunity", Name=PILOT)
    raj = record_id(org, "Contact", Email="raj.patel@globex.com")
    row = next(e for e in org["records"]["Event"] if e["Id"] == event_id)
    row.update(WhatId=pilot, WhoId=raj, LastModifiedById=alice, LastModifiedDate="2026-06-05T09:30:00.000Z")
    (state / "org.json").write_text(json.dumps(org), encoding="utf-8")
    return pilot, raj


def test_a_persons_reassociation_of_the_event_sticks_on_a_resync_and_the_report_says_who(tmp_path: Path) -> None:
    # Given the call logged as an Event on the rollout Opportunity, then moved by Alice to the pilot and to Raj
    state = tmp_path / "state"
    first = run([write_event(tmp_path, "r1")], state=state)
    [event] = the_call_events(first)
    pilot, raj = moved_by_alice(state, event["Id"])
    # When revision 2 is synced
    second = run([REVISION_2], state=state)
    # Then the Event stays where Alice put it, with revision 2's summary
    assert [r["status"] for r in second.runs] == ["SUCCEEDED"]
    [event] = the_call_events(second)
    assert (event["WhatId"], event["WhoId"]) == (pilot, raj)
    assert EDITED in event["Description"]
    # And the ledger says what was kept and why
    [change] = [c for c in activity_changes(second) if c["action"] == "updated"]
    kept = {f["field"]: f["note"] for f in change["fields"] if f.get("policy") == "kept"}
    assert kept == {
        "WhatId": "kept: changed by Alice Rep on 2026-06-05",
        "WhoId": "kept: changed by Alice Rep on 2026-06-05",
    }


def test_without_protect_human_edits_a_resync_moves_the_event_back(tmp_path: Path) -> None:
    # Given protect_human_edits off, and the call's Event moved by Alice after revision 1
    settings = {**load(DEMO_SETTINGS), "protect_human_edits": False}
    state = tmp_path / "state"
    first = run([write_event(tmp_path, "r1")], settings=settings, state=state)
    [event] = the_call_events(first)
    moved_by_alice(state, event["Id"])
    # When revision 2 is synced
    second = run([REVISION_2], state=state)
    # Then the Event is related to the call's Opportunity and Jane again
    [event] = the_call_events(second)
    org = second.org
    assert (event["WhatId"], event["WhoId"]) == (
        record_id(org, "Opportunity", Name=ROLLOUT),
        record_id(org, "Contact", Email="jane.doe@globex.com"),
    )


@pytest.mark.parametrize("order", ["1-then-2", "2-then-1", "together"])
def test_revision_2_wins_on_a_reused_event_whatever_the_order(tmp_path: Path, order: str) -> None:
    # Given the calendar's Event for the call, and revisions 1 and 2 of the call
    r1 = write_event(tmp_path, "r1")
    events = {"1-then-2": [r1, REVISION_2], "2-then-1": [REVISION_2, r1], "together": [r1, REVISION_2]}[order]
    # When they arrive one after the other, in either order, or both at once
    result = run(events, org=org_with(Event=[calendar_event()]), sequential=order != "together")
    # Then both succeed, and the one Event holds the invite and revision 2's section, once
    assert [r["status"] for r in result.runs] == ["SUCCEEDED", "SUCCEEDED"]
    [event] = live(result, "Event")
    text = event["Description"]
    assert text.startswith(f"{INVITE}\n\n{BEGIN}\nGlobex wants every sales call") and text.endswith(END)
    assert EDITED in text and text.count(BEGIN) == 1 and text.count(MARKER) == 1
    assert (event["Type"], event["WhatId"]) == ("Meeting", record_id(result.org, "Opportunity", Name=ROLLOUT))
