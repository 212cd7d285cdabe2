"""A note that already exists gets a missing ContentDocumentLink on its own: the note is not written again,
the link names the note's ContentDocumentId, and a link the ledger knows is never written twice."""

from __future__ import annotations

from activity_builders import JANE, OPP, FakeActivityStore, describes, make_call, make_match, make_settings, make_state
from callsync.adapters.salesforce_activity import SalesforceActivityStore
from callsync.models.match import OpportunityInfo
from callsync.models.state import SyncState
from callsync.ports.activity import WritePlan
from callsync.services.log_activity import LogActivity
from test_salesforce_activity_adapter import RecordingApi

from tests.support.fakes import FakeLedger

NOTE = "069000000000001AAA"
OTHER_OPP = "006OTHER"


def state_for(opportunity_id: str = OPP) -> SyncState:
    call = make_call(notes="Notes")
    opportunity = OpportunityInfo(id=opportunity_id, name="Globex deal", account_id="001ACC")
    match = make_match(candidates=[]).model_copy(update={"opportunity": opportunity})
    return make_state(call, make_settings(notes_sync={"enabled": True}), match)


def links(store: FakeActivityStore) -> list[tuple[str, str]]:
    return sorted((r["ContentDocumentId"], r["LinkedEntityId"]) for r in store.of("ContentDocumentLink"))


def test_adapter_writes_a_link_to_the_existing_note_in_the_one_composite() -> None:
    # Given a plan with links only (the note stays as it is) and the existing note's id
    api = RecordingApi()
    plan = WritePlan(note_links=[OTHER_OPP], note_id=NOTE)
    # When it is written
    outcome = SalesforceActivityStore(api).write(plan)
    # Then one composite request holds one ContentDocumentLink subrequest naming the note by its id
    ((subs, all_or_none),) = api.composites
    assert not all_or_none
    assert [(s["method"], s["url"].rsplit("/", 1)[-1], s["body"]) for s in subs] == [
        ("POST", "ContentDocumentLink", {"ContentDocumentId": NOTE, "LinkedEntityId": OTHER_OPP, "ShareType": "V"})
    ]
    assert outcome.note is None and outcome.note_links[OTHER_OPP].ok


def test_same_revision_with_a_new_opportunity_links_the_existing_note_once() -> None:
    # Given the call's revision logged with its note linked to the Opportunity and the contact
    store, ledger = FakeActivityStore(), FakeLedger()
    LogActivity(store, describes(), ledger).run(state_for())  # type: ignore[arg-type]
    (note,) = store.of("ContentNote")
    assert links(store) == [(note["Id"], JANE), (note["Id"], OPP)]
    writes = len(store.writes)

    # When the same revision runs again and now matches another Opportunity
    result = LogActivity(store, describes(), ledger).run(state_for(OTHER_OPP))  # type: ignore[arg-type]

    # Then one write adds only the link to the new Opportunity, to the same note, which is not rewritten
    assert len(store.writes) == writes + 1
    plan = store.writes[-1]
    assert plan.note is None and plan.note_links == [OTHER_OPP] and plan.note_id == note["Id"]
    assert store.of("ContentNote") == [note]
    assert links(store) == sorted([(note["Id"], JANE), (note["Id"], OPP), (note["Id"], OTHER_OPP)])
    # And the ledger knows the new link (created) and the earlier ones (unchanged)
    linked = {c.key: c.action for c in result.report.with_role("note_link")}
    assert linked == {OTHER_OPP: "created", OPP: "unchanged", JANE: "unchanged"}

    # When it runs once more / Then nothing is written: every link is known
    LogActivity(store, describes(), ledger).run(state_for(OTHER_OPP))  # type: ignore[arg-type]
    assert len(store.writes) == writes + 1 and len(store.of("ContentDocumentLink")) == 3


def test_a_link_salesforce_already_holds_is_found_and_not_written_again() -> None:
    # Given the revision logged, and the note then linked to another Opportunity by hand (unknown to the ledger)
    store, ledger = FakeActivityStore(), FakeLedger()
    LogActivity(store, describes(), ledger).run(state_for())  # type: ignore[arg-type]
    (note,) = store.of("ContentNote")
    store.add("ContentDocumentLink", ContentDocumentId=note["Id"], LinkedEntityId=OTHER_OPP)
    writes = len(store.writes)

    # When the same revision runs again and now matches that Opportunity
    LogActivity(store, describes(), ledger).run(state_for(OTHER_OPP))  # type: ignore[arg-type]

    # Then one lookup of the note's links by title, per record to link, finds it: nothing is written
    lookup = store.lookups[-1]
    assert lookup.note_title == note["Title"] and lookup.note_entities == [OTHER_OPP, JANE]
    assert len(store.writes) == writes
    assert links(store) == sorted([(note["Id"], JANE), (note["Id"], OPP), (note["Id"], OTHER_OPP)])
