"""A call that matched no Opportunity, Account or Contact gets no orphan ContentNote.

Regression (acceptance review): the note was created and linked to nothing, so nobody could find it.
"""

from __future__ import annotations

from activity_builders import FakeActivityStore, describes, make_call, make_match, make_settings, make_state
from callsync.models.state import SyncState
from callsync.services.log_activity import LogActivity

from tests.support.fakes import FakeLedger

NOTHING_MATCHED = {"opportunity": False, "account": None, "primary_contact": None, "candidates": []}


def run(state: SyncState, store: FakeActivityStore, ledger: FakeLedger):
    return LogActivity(store, describes(), ledger).run(state)  # type: ignore[arg-type]


def test_note_is_skipped_with_a_warning_when_nothing_matched() -> None:
    # Given notes sync on and a call that matched no Opportunity, Account or Contact
    store, ledger = FakeActivityStore(), FakeLedger()
    state = make_state(
        make_call(notes="Some notes"), make_settings(notes_sync={"enabled": True}), make_match(**NOTHING_MATCHED)
    )
    # When LogActivity runs
    result = run(state, store, ledger)
    # Then the Event is logged, no note is written, and the report says why; still one request
    assert store.of("Event") and store.of("ContentNote") == [] and store.writes[0].note is None
    assert result.note_id is None and store.api_requests == 1
    assert any("no record to attach the note to" in w for w in result.report.warnings)
    assert not [c for c in result.report.changes if c.object == "ContentNote"]


def test_notes_only_with_nothing_matched_spends_no_request() -> None:
    # Given only notes sync on and nothing matched
    store, ledger = FakeActivityStore(), FakeLedger()
    settings = make_settings(activity_sync={"enabled": False, "mode": "smart"}, notes_sync={"enabled": True})
    state = make_state(make_call(notes="Some notes"), settings, make_match(**NOTHING_MATCHED))
    # When LogActivity runs
    result = run(state, store, ledger)
    # Then nothing is written and no request is made; the ledger keeps the warning
    assert store.api_requests == 0 and store.records == {}
    entry = ledger.entries(state.call.call_key)[0].as_json()
    assert any("no record to attach the note to" in w for w in entry["warnings"])
    assert result.action == "skipped"
