"""The ledger shows an updated activity's fields as before → after, and only the ones that change.

Regression (acceptance review): updating a calendar invite (or our own earlier Event) listed every
field as "(empty) → new", e.g. the invite's Description "Calendar invite" shown as empty.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from activity_builders import HOST, JANE, OPP, FakeActivityStore, describes, make_call, make_match, make_state
from callsync.adapters.salesforce_match import SalesforceMatchReader
from callsync.models.ledger import RecordChange
from callsync.models.state import SyncState
from callsync.ports.match import MatchQuery
from callsync.services.log_activity import LogActivity

from tests.support.fakes import FakeLedger


def run(state: SyncState, store: FakeActivityStore, ledger: FakeLedger | None = None):
    return LogActivity(store, describes(), ledger or FakeLedger()).run(state)  # type: ignore[arg-type]


def activity_change(changes: list[RecordChange]) -> RecordChange:
    return next(c for c in changes if c.object in ("Event", "Task") and (c.note or "").startswith("the logged call"))


def row(store: FakeActivityStore, rid: str) -> dict[str, Any]:
    """A record as a query returns it: every selected field, null when empty."""
    selected = (
        "Id",
        "Subject",
        "ActivityDate",
        "WhoId",
        "WhatId",
        "OwnerId",
        "Type",
        "Description",
        "StartDateTime",
        "EndDateTime",
        "DurationInMinutes",
    )
    return {k: store.records[rid].get(k) for k in selected}


def test_calendar_invite_shows_its_values_before_and_only_what_changes() -> None:
    # Given the calendar's Event for the call, read ahead by the match step with its description
    store = FakeActivityStore()
    eid = store.add(
        "Event",
        Subject="Globex weekly",
        StartDateTime="2026-11-20T15:00:00.000+0000",
        EndDateTime="2026-11-20T15:30:00.000+0000",
        WhoId=JANE,
        WhatId=None,
        OwnerId="005ALICE",
        Type=None,
        Description="Calendar invite",
    )
    # When the call is logged onto it
    result = run(make_state(match=make_match(candidates=[row(store, eid)])), store)
    # Then the report shows each changed field with the invite's value before it
    fields = {f.field: (f.before, f.after) for f in activity_change(result.report.changes).fields}
    assert fields["Description"][0] == "Calendar invite" and "We talked" in fields["Description"][1]
    assert fields["OwnerId"] == ("005ALICE", HOST)
    assert fields["WhatId"] == (None, OPP) and fields["Type"] == (None, "Discovery")
    # And the WhoId, already Jane, is not listed as a change
    assert "WhoId" not in fields


def test_our_event_found_through_the_ledger_lists_only_what_revision_2_changes() -> None:
    # Given revision 1 logged an Event
    store, ledger = FakeActivityStore(), FakeLedger()
    first = run(make_state(make_call(revision=1)), store, ledger)
    eid = str(first.activity_id)
    # When revision 2 (a new summary) runs with the match step's fresh read of that Event
    call = make_call(revision=2, summary="We agreed on a pilot.")
    read = {
        **row(store, eid),
        "StartDateTime": "2026-11-20T15:00:00.000+0000",
        "EndDateTime": "2026-11-20T15:31:00.000+0000",
    }  # Salesforce's datetime format
    result = run(make_state(call, match=make_match(candidates=[read])), store, ledger)
    # Then only the Description is listed, with revision 1's text before
    change = activity_change(result.report.changes)
    assert result.deduped_with == "ledger" and change.action == "updated"
    assert [f.field for f in change.fields] == ["Description"]
    assert "We talked about the rollout." in str(change.fields[0].before)
    assert "We agreed on a pilot." in str(change.fields[0].after)
    # And Salesforce's datetime format for the same instant was not taken for a change (checked above)


def test_event_found_by_lookup_uses_the_lookup_row_as_before() -> None:
    # Given no read-ahead (the lookup runs) and our Event from a lost ledger with an older summary
    store = FakeActivityStore()
    eid = store.add(
        "Event",
        Subject="[Airspeed] Globex weekly",
        StartDateTime="2026-11-20T15:00:00.000+0000",
        EndDateTime="2026-11-20T15:31:00.000+0000",
        DurationInMinutes=31,
        WhoId=JANE,
        WhatId=OPP,
        OwnerId=HOST,
        Type="Discovery",
        Description="Old summary",
    )
    # When the call is logged
    result = run(make_state(match=make_match(candidates=None)), store)
    # Then the looked-up values are the before; unchanged fields are not listed
    change = activity_change(result.report.changes)
    assert result.deduped_with == "lookup" and change.id == eid
    assert [(f.field, f.before) for f in change.fields] == [("Description", "Old summary")]


def test_created_activity_lists_every_field_from_empty() -> None:
    # Given no existing activity / When the call is logged / Then every field is new (before empty)
    result = run(make_state(), FakeActivityStore())
    change = activity_change(result.report.changes)
    assert change.action == "created" and {"Subject", "Description", "OwnerId"} <= {f.field for f in change.fields}
    assert all(f.before is None for f in change.fields)


def test_match_read_ahead_selects_what_log_activity_writes() -> None:
    # Given the match step's candidate query for an Event and for a Task
    start = datetime(2026, 11, 20, 15, tzinfo=UTC)
    for kind, extra in (("Event", "DurationInMinutes"), ("Task", "Status")):
        query = MatchQuery(
            emails=("jane@globex.com",),
            external_emails=("jane@globex.com",),
            started_at=start,
            activity_object=kind,
            activity_subjects=("Globex weekly",),
        )
        soql = str(SalesforceMatchReader(None).activities_soql(query))  # type: ignore[arg-type]
        # Then it reads the description (the invite's text, our marker) and the kind's own field: same query
        selected = {f.strip() for f in soql.split(" FROM ")[0].removeprefix("SELECT ").split(",")}
        assert {"Description", extra} <= selected
