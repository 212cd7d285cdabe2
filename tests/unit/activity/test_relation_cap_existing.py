"""The 50-contact cap of Shared Activities counts the contacts an activity already carries.

Regression (acceptance review): revision 2 of a large call attached one more contact to an
Event already holding WhoId + 49 relations; Salesforce refused it (FIELD_INTEGRITY_EXCEPTION).
"""

from __future__ import annotations

from activity_builders import JANE, FakeActivityStore, describes, make_call, make_match, make_settings, make_state
from callsync.domain.activity_plan import MAX_SHARED_CONTACTS
from callsync.models.state import SyncState
from callsync.services.log_activity import LogActivity

from tests.support.fakes import FakeLedger


def run(state: SyncState, store: FakeActivityStore, ledger: FakeLedger):
    return LogActivity(store, describes(), ledger).run(state)  # type: ignore[arg-type]


def contacts_on(store: FakeActivityStore, event_id: str) -> set[str]:
    """WhoId and the contact relations of one Event, as Salesforce would count them."""
    event = store.records[event_id]
    relations = {r["RelationId"] for r in store.of("EventRelation") if r["EventId"] == event_id}
    return relations | ({event["WhoId"]} if event.get("WhoId") else set())


def test_revision_2_with_other_contacts_first_attaches_none_beyond_50() -> None:
    # Given revision 1 of a call with 60 external contacts logged: WhoId + 49 relations, 10 unlinked
    store, ledger = FakeActivityStore(), FakeLedger()
    first = run(make_state(make_call(revision=1), make_settings(), make_match(others=59, candidates=[])), store, ledger)
    event_id = str(first.activity_id)
    assert len(contacts_on(store, event_id)) == MAX_SHARED_CONTACTS
    # When revision 2 lists a contact left out last time first (the match's order changed)
    row = {k: v for k, v in store.records[event_id].items() if k != "attributes"}  # the read-ahead finds the Event
    match = make_match(others=59, candidates=[row])
    match.contacts = [match.contacts[-1], *match.contacts[:-1]]
    second = run(make_state(make_call(revision=2), make_settings(), match), store, ledger)
    # Then no relation is sent: the Event already holds 50 contacts, still one request
    assert store.writes[-1].relations == []
    assert len(contacts_on(store, event_id)) == MAX_SHARED_CONTACTS
    assert store.api_requests == 2
    # And the contact left out is reported unlinked, as the ones beyond the cap always are
    assert "p58@globex.com" in second.unlinked_contacts and len(second.unlinked_contacts) == 10
    assert "003P058" not in second.linked_contact_ids
    assert any("at most 50 contacts" in w and "p58@globex.com" in w for w in second.report.warnings)


def test_calendar_event_full_of_attendees_gets_no_more_relations() -> None:
    # Given a calendar Event read ahead by the match step: Jane as WhoId and 49 attendees not on our call
    store = FakeActivityStore()
    eid = store.add(
        "Event",
        Subject="Globex weekly",
        StartDateTime="2026-11-20T15:00:00.000+0000",
        WhoId=JANE,
        Description="Calendar invite",
    )
    attendees = [f"003ATT{i:03d}" for i in range(49)]
    for attendee in attendees:
        store.add("EventRelation", EventId=eid, RelationId=attendee)
    row = {k: v for k, v in store.records[eid].items() if k != "attributes"}
    row["EventRelations"] = {"records": [{"RelationId": JANE}] + [{"RelationId": a} for a in attendees]}
    # When the call (Jane and 3 other contacts) is logged onto it
    result = run(make_state(match=make_match(others=3, candidates=[row])), store, FakeLedger())
    # Then the Event is reused, nothing beyond 50 contacts is sent, and the 3 are reported unlinked
    assert result.activity_id == eid and store.writes[-1].relations == []
    assert len(contacts_on(store, eid)) == MAX_SHARED_CONTACTS
    assert result.unlinked_contacts == ["p0@globex.com", "p1@globex.com", "p2@globex.com"]
    assert result.linked_contact_ids == [JANE]


def test_room_left_on_an_existing_event_is_filled_in_call_order() -> None:
    # Given our Event from a lost ledger holding Jane and 47 other contacts (room for 2 more)
    store = FakeActivityStore()
    eid = store.add(
        "Event", Subject="[Airspeed] Globex weekly", StartDateTime="2026-11-20T15:00:00.000+0000", WhoId=JANE
    )
    held = [f"003OLD{i:03d}" for i in range(47)]
    row = {k: v for k, v in store.records[eid].items() if k != "attributes"}
    row["EventRelations"] = {
        "records": [
            {"RelationId": JANE},
            *({"RelationId": h} for h in held),
            {"RelationId": "006OPP"},
            {"RelationId": "005HOST"},
        ]
    }
    for h in held:
        store.add("EventRelation", EventId=eid, RelationId=h)
    # When the call with 4 other contacts is logged
    result = run(make_state(match=make_match(others=4, candidates=[row])), store, FakeLedger())
    # Then the first 2 are attached (the Opportunity and a User are no contacts), the other 2 unlinked
    assert store.writes[-1].relations == ["003P000", "003P001"]
    assert result.unlinked_contacts == ["p2@globex.com", "p3@globex.com"]
    assert len(contacts_on(store, eid)) == MAX_SHARED_CONTACTS
    assert result.linked_contact_ids == [JANE, "003P000", "003P001"]
