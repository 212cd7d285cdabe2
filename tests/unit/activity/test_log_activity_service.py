"""LogActivity service against an in-memory Salesforce: what it writes, once, and what it costs."""

from __future__ import annotations

import pytest
from activity_builders import (
    ACCOUNT,
    HOST,
    JANE,
    OPP,
    Crash,
    FakeActivityStore,
    describes,
    make_call,
    make_match,
    make_settings,
    make_state,
    unavailable,
)
from callsync.domain.activity_plan import call_ref
from callsync.domain.follow_ups import plan_follow_ups
from callsync.errors import SalesforceUnavailable
from callsync.models.state import SyncState
from callsync.services.log_activity import PENDING, LogActivity

from tests.support.fakes import FakeLedger

ALL_ON = {"notes_sync": {"enabled": True}, "task_sync": {"enabled": True}}
ITEMS = [{"text": "Send pricing", "due_date": "2026-11-27"}, {"text": "Book the demo"}]


def run(state: SyncState, store: FakeActivityStore | None = None, ledger: FakeLedger | None = None, **desc: object):
    store = store or FakeActivityStore()
    ledger = ledger or FakeLedger()
    result = LogActivity(store, describes(**desc), ledger).run(state)  # type: ignore[arg-type]
    return result, store, ledger


def full_state(revision: int = 1, items: list[dict[str, object]] | None = None, **match: object) -> SyncState:
    call = make_call(revision=revision, notes="Notes & <b>stuff</b>", action_items=ITEMS if items is None else items)
    return make_state(call, make_settings(**ALL_ON), make_match(**{"candidates": [], **match}))


def counts(store: FakeActivityStore) -> dict[str, int]:
    return {o: len(store.of(o)) for o in ("Task", "Event", "EventRelation", "ContentNote", "ContentDocumentLink")}


def test_video_call_creates_event_with_fields_in_one_request() -> None:
    # Given a video call in smart mode, candidates read ahead by the match step (none found)
    result, store, ledger = run(make_state())
    # Then one Event with subject, description, times, Type in the org's case, host owner, what/who
    event = store.of("Event")[0]
    assert result.kind == "Event" and result.action == "created" and result.activity_id == event["Id"]
    assert event["Subject"] == "[Airspeed] Globex weekly"
    assert event["StartDateTime"] == "2026-11-20T15:00:00Z" and event["DurationInMinutes"] == 31
    assert event["Type"] == "Discovery" and event["OwnerId"] == HOST
    assert (event["WhatId"], event["WhoId"]) == (OPP, JANE)
    assert event["Description"].endswith(call_ref(make_call()))
    # And it cost exactly one request (no lookup: candidates came from the match step)
    assert store.api_requests == 1 and result.report.api_requests == 1 and not store.lookups
    # And the ledger has the finished report with the record's URL and fields
    entry = ledger.entries(make_call().call_key)[0].as_json()
    assert PENDING not in entry["warnings"]
    change = entry["changes"][0]
    assert change["url"] == f"https://acme.my.salesforce.com/lightning/r/Event/{event['Id']}/view"
    assert {f["field"] for f in change["fields"]} >= {"Subject", "Description", "Type", "OwnerId"}


def test_telephony_call_creates_completed_call_task() -> None:
    # Given a phone call in smart mode
    state = make_state(make_call(medium="telephony"))
    result, store, _ = run(state, task_status=["Open", "Done", "Completed"])
    task = store.of("Task")[0]
    # Then a Task of subtype Call, completed, dated the call's day, with its duration
    assert result.kind == "Task"
    assert (task["Status"], task["TaskSubtype"], task["ActivityDate"]) == ("Completed", "Call", "2026-11-20")
    assert task["CallDurationInSeconds"] == 1830


def test_unknown_call_type_leaves_type_blank_with_warning() -> None:
    # Given a call type the org's picklist lacks
    result, store, _ = run(make_state(make_call(call_type="Negotiation")))
    # Then Type is not sent, and the report says so
    assert "Type" not in store.of("Event")[0]
    assert any("Negotiation" in w for w in result.report.warnings)


def test_existing_calendar_event_is_updated_not_duplicated() -> None:
    # Given the calendar's event for the call, read ahead by the match step
    store = FakeActivityStore()
    eid = store.add(
        "Event",
        Subject="Globex weekly",
        StartDateTime="2026-11-20T15:00:00.000+0000",
        WhoId=JANE,
        WhatId=None,
        Description="invite text",
    )
    cands = [{k: v for k, v in store.records[eid].items() if k != "attributes"}]
    result, store, _ = run(make_state(match=make_match(candidates=cands)), store)
    # Then it got the summary, Type, owner and relations; its subject and times are the calendar's
    event = store.records[eid]
    assert result.action == "updated" and result.activity_id == eid and result.deduped_with == "candidates"
    assert len(store.of("Event")) == 1
    assert event["Subject"] == "Globex weekly" and "We talked" in event["Description"]
    assert (event["Type"], event["OwnerId"], event["WhatId"]) == ("Discovery", HOST, OPP)


def test_without_candidates_one_lookup_then_one_write() -> None:
    # Given the match step did not read candidates ahead
    state = full_state(candidates=None)
    result, store, _ = run(state)
    # Then activities, follow-ups and notes are looked up together: 2 requests in all
    assert store.api_requests == 2 and len(store.lookups) == 1
    lookup = store.lookups[0]
    assert lookup.activity_kinds == ["Event"] and lookup.follow_up_subjects and lookup.note_title
    assert result.action == "created"


def test_everything_written_in_one_composite() -> None:
    # Given notes and task sync on, two action items, 3 other contacts, Shared Activities on
    result, store, _ = run(full_state(others=3))
    plan = store.writes[0]
    # Then one write carries the activity, relations, note, links and follow-ups
    assert len(store.writes) == 1 and store.api_requests == 1
    assert counts(store) == {"Task": 2, "Event": 1, "EventRelation": 3, "ContentNote": 1, "ContentDocumentLink": 2}
    assert {link["LinkedEntityId"] for link in store.of("ContentDocumentLink")} == {OPP, JANE}
    assert plan.relations == ["003P000", "003P001", "003P002"]
    # And the follow-ups are open tasks related like the call, dated by due date
    follow = {t["Subject"]: t for t in store.of("Task")}
    assert "Status" not in follow["Send pricing"] and follow["Send pricing"]["ActivityDate"] == "2026-11-27"
    assert "ActivityDate" not in follow["Book the demo"]
    assert (follow["Send pricing"]["WhatId"], follow["Send pricing"]["WhoId"]) == (OPP, JANE)
    assert len(result.follow_up_task_ids) == 2 and result.note_id


def test_same_revision_again_writes_nothing() -> None:
    # Given the call was fully logged
    state = full_state(others=2)
    _, store, ledger = run(state)
    before = counts(store)
    # When the step runs again for the same revision (a replay)
    result, store, _ = run(state, store, ledger)
    # Then no request, nothing new, and the result names the same records
    assert counts(store) == before and store.api_requests == 1
    assert result.action == "unchanged" and result.report.api_requests == 0
    assert result.activity_id == store.of("Event")[0]["Id"]


def test_new_revision_updates_in_place_and_adds_only_new_follow_ups() -> None:
    # Given revision 1 was logged
    _, store, ledger = run(full_state(others=2))
    first_event = store.of("Event")[0]["Id"]
    # When revision 2 arrives with a changed title, one old and one new action item (fresh candidates: none match)
    items = [{"text": "Send pricing", "due_date": "2026-11-30"}, {"text": "Loop in legal"}]
    state = full_state(revision=2, items=items, others=2)
    state.call = state.call.model_copy(update={"title": "Globex weekly (rescheduled)"})
    result, store, ledger = run(state, store, ledger)
    # Then the same Event and note are updated, pricing is moved, legal is added; nothing is duplicated
    assert result.action == "updated" and result.activity_id == first_event and result.deduped_with == "ledger"
    assert counts(store) == {"Task": 3, "Event": 1, "EventRelation": 2, "ContentNote": 1, "ContentDocumentLink": 2}
    pricing = next(t for t in store.of("Task") if t["Subject"] == "Send pricing")
    assert pricing["ActivityDate"] == "2026-11-30"
    # one write per revision, and one read of the Event the ledger names: the read-ahead did not return it
    # (its title changed), and a person may have re-associated it since (protect_human_edits)
    assert store.api_requests == 3 and store.lookups[-1].activity_ids == [first_event]
    # And the ledger of revision 2 still remembers the follow-up no longer listed
    notes = [c.note for c in result.report.changes]
    assert any(n and "no longer among the action items" in n for n in notes)


def test_crash_after_salesforce_write_does_not_duplicate() -> None:
    # Given the function dies after Salesforce committed but before the ledger was finished
    store = FakeActivityStore()
    store.crash_after_write = True
    ledger = FakeLedger()
    state = full_state(others=2)
    with pytest.raises(Crash):
        run(state, store, ledger)
    assert PENDING in ledger.entries(state.call.call_key)[0].as_json()["warnings"]
    before = counts(store)
    # When Step Functions retries with the same (stale) input
    result, store, ledger = run(state, store, ledger)
    # Then one lookup finds the activity, note and follow-ups by marker/title: nothing new is created
    assert len(store.lookups) == 1
    assert counts(store) == before
    assert result.action == "updated" and result.deduped_with == "lookup"
    assert PENDING not in ledger.entries(state.call.call_key)[0].as_json()["warnings"]


def test_failed_write_is_raised_and_retry_is_idempotent() -> None:
    # Given Salesforce answers 503 to the write
    store = FakeActivityStore()
    store.fail_next = unavailable()
    ledger = FakeLedger()
    state = full_state()
    with pytest.raises(SalesforceUnavailable):
        run(state, store, ledger)
    # When the state machine retries / Then the call is logged once
    run(state, store, ledger)
    assert counts(store)["Event"] == 1 and counts(store)["ContentNote"] == 1 and counts(store)["Task"] == 2


def test_record_deleted_since_earlier_revision_is_created_anew() -> None:
    # Given revision 1 was logged and someone deleted its Event
    _, store, ledger = run(full_state())
    old = store.of("Event")[0]["Id"]
    del store.records[old]
    # When revision 2 is logged
    result, store, _ = run(full_state(revision=2), store, ledger)
    # Then a new Event exists and the report says why
    assert result.activity_id != old and len(store.of("Event")) == 1
    assert any("deleted in Salesforce" in w for w in result.report.warnings)


def test_without_shared_activities_only_who_and_report_unlinked() -> None:
    # Given 3 other contacts and no Shared Activities
    result, store, _ = run(full_state(others=3), shared=False)
    # Then no relation records; the result and report name the unlinked contacts
    assert counts(store)["EventRelation"] == 0
    assert result.unlinked_contacts == ["p0@globex.com", "p1@globex.com", "p2@globex.com"]
    assert any("Shared Activities is off" in w for w in result.report.warnings)


def test_sixty_participants_attach_49_and_report_the_rest() -> None:
    # Given 60 external contacts
    result, store, _ = run(full_state(others=59))
    # Then 49 relations next to the WhoId, 10 unlinked, still one write
    assert counts(store)["EventRelation"] == 49 and len(result.unlinked_contacts) == 10
    assert store.api_requests == 1


def test_no_access_to_notes_is_a_warning_not_a_failure() -> None:
    # Given the integration user cannot see ContentNote
    result, store, _ = run(full_state(), note=False)
    # Then the call and follow-ups are logged, the note is skipped with a warning
    assert counts(store)["ContentNote"] == 0 and counts(store)["Event"] == 1
    # And the warning carries the same fix `callsync doctor` prints
    from callsync.domain.permissions import object_permission_fix

    fix = object_permission_fix("ContentNote", "create")
    assert any("ContentNote" in w and fix in w for w in result.report.warnings)


def test_hidden_field_is_reported_not_sent() -> None:
    # Given Event.Type hidden from the integration user
    result, store, _ = run(make_state(), hidden=("Type",))
    assert "Type" not in store.of("Event")[0]
    # And the warning names the field and the fix `callsync doctor` prints for it
    from callsync.domain.permissions import field_permission_fix

    assert any("Event.Type" in w and field_permission_fix("Event", "Type") in w for w in result.report.warnings)


def test_everything_off_is_disabled_without_requests() -> None:
    # Given all three features off
    state = make_state(settings=make_settings(activity_sync={"enabled": False, "mode": "smart"}))
    result, store, ledger = run(state)
    assert result.action == "disabled" and store.api_requests == 0
    assert ledger.entries(state.call.call_key)[0].as_json()["warnings"]


def test_account_only_and_no_contacts_relates_to_account() -> None:
    # Given no opportunity and no contacts matched
    match = make_match(opportunity=False, primary_contact=None, candidates=[])
    _, store, _ = run(make_state(match=match))
    event = store.of("Event")[0]
    assert event["WhatId"] == ACCOUNT and "WhoId" not in event


def test_a_revision_waits_while_another_revision_of_the_call_holds_the_lease() -> None:
    # Given revision 1 of the call is being logged right now (it holds the call's lease)
    from callsync.errors import ConcurrentUpdate

    from tests.support.fakes import FakeLeases

    leases = FakeLeases()
    first = full_state(others=2)
    key = f"log-activity#{first.call.org_id}#{first.call.call_id}"
    leases.acquire(key, first.call.call_key, ttl_seconds=90)
    store, ledger = FakeActivityStore(), FakeLedger()
    second = full_state(revision=2, others=2)

    def service() -> LogActivity:
        return LogActivity(store, describes(), ledger, leases, lease_wait_seconds=0.0)  # type: ignore[arg-type]

    # When revision 2 reaches LogActivity and the lease stays held for the whole wait
    with pytest.raises(ConcurrentUpdate, match="held by another call"):
        service().run(second)
    # Then it wrote nothing and made no request (the state machine retries it)
    assert store.api_requests == 0 and counts(store)["Event"] == 0
    # When revision 1 finishes and gives the lease back, and revision 2 is retried
    leases.release(key, first.call.call_key, written=False)
    service().run(first)
    result = service().run(second)
    # Then revision 2 updates revision 1's Event instead of creating a second one, and the lease is free again
    assert counts(store)["Event"] == 1 and result.action == "updated"
    assert "owner" not in leases.items[key]


def test_an_older_revision_arriving_after_a_newer_one_changes_nothing() -> None:
    # Given revision 2 of the call was logged
    _, store, ledger = run(full_state(revision=2, others=2))
    before = counts(store)
    # When revision 1 arrives late (it waited for the lease, or was redelivered after revision 2)
    result, store, ledger = run(full_state(revision=1, others=2), store, ledger)
    # Then it writes nothing, makes no request, and says why
    assert counts(store) == before and store.api_requests == 1
    assert result.action == "skipped" and result.report.api_requests == 0
    assert any("revision 2 of this call is already logged" in w for w in result.report.warnings)


def test_a_later_revision_finds_the_calls_records_by_their_role_not_by_the_reports_wording() -> None:
    # Given revision 1 logged the Event, its note and follow-ups, and the ledger's human notes were reworded
    store, ledger = FakeActivityStore(), FakeLedger()
    run(full_state(others=2), store, ledger)
    for entry in ledger.items.values():
        for change in entry.report.changes if entry.report is not None else []:
            change.note = "reworded for people"
    created = counts(store)
    # When revision 2 of the call is logged
    result, store, ledger = run(full_state(revision=2, others=2), store, ledger)
    # Then it updates revision 1's records (found by role and key in the typed ledger) and creates none
    assert counts(store) == created
    assert result.action == "updated"
    report = ledger.entries(full_state(revision=2).call.call_key)[0].report
    assert report is not None and report.progress == "finished"
    state = full_state(revision=2)
    assert sorted(c.key or "" for c in report.with_role("follow_up")) == sorted(
        i.key for i in plan_follow_ups(state.call, state.match)
    )
