"""Pure rules of reusing an activity: normalised titles, the Event start tolerance, callsync's Description
section, and a person's edit read from the row's LastModified fields."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from activity_builders import (
    ACCOUNT,
    CALL_START,
    HOST,
    OPP,
    FakeActivityStore,
    describes,
    make_call,
    make_match,
    make_state,
)
from callsync.domain.activity_kind import normalise_title, title_words
from callsync.domain.activity_plan import (
    DESCRIPTION_MAX,
    EVENT_START_TOLERANCE,
    pick_existing_activity,
    read_ahead_dates,
)
from callsync.domain.activity_section import (
    has_section,
    merge_section,
    section_begin,
    section_end,
)
from callsync.domain.person_edits import last_modified_of, person_edit
from callsync.models.match import OpportunityInfo
from callsync.services.log_activity import LogActivity

from tests.support.fakes import FakeLedger

INTEGRATION = "005000000000INT"
MARKER = "callsync-ref: c1"
TAIL = f"Call: https://app.example.com/calls/c1\n{MARKER}"


@pytest.mark.parametrize(
    "variant",
    [
        "Wingtip \u2013 proposal walkthrough",  # en dash
        "Wingtip \u2014 proposal walkthrough",  # em dash
        "wingtip-PROPOSAL   walkthrough",  # case, no spaces around the hyphen, whitespace run
        "[Airspeed] Wingtip - proposal walkthrough",  # the subject prefix
        "  [airspeed]   Wingtip \u2212 proposal\twalkthrough ",  # minus sign, tab, prefix in other case
    ],
)
def test_title_variants_normalise_to_the_same_title(variant: str) -> None:
    # Given the call's title and a calendar's / dialer's spelling of it
    # Then both read as one title
    assert normalise_title(variant, "[Airspeed]") == normalise_title("Wingtip - proposal walkthrough", "[Airspeed]")


def test_quote_variants_are_one_and_other_words_are_not() -> None:
    # Given curly and straight quotes, and a different word
    # Then the quotes compare equal, the word does not
    curly = "Acme \u201cQ3\u201d review \u2018draft\u2019"
    assert normalise_title(curly) == normalise_title("acme \"Q3\" review 'draft'")
    assert normalise_title("Acme Q3 review") != normalise_title("Acme Q4 review")
    # And a prefix in the middle of a title is part of it
    assert normalise_title("Call [Airspeed] x", "[Airspeed]") == "call [airspeed] x"


def test_title_words_are_letters_and_digits_only() -> None:
    # Given a title with quotes, percent, underscore and a backslash
    # Then the words a LIKE pattern looks for carry none of them
    assert title_words('[A] It\'s 100% "q_x" \\ done', "[A]") == ["it", "s", "100", "q", "x", "done"]


def event_at(minutes: float, subject: str = "Globex weekly") -> dict[str, object]:
    start = CALL_START + timedelta(minutes=minutes)
    return {
        "attributes": {"type": "Event"},
        "Id": "00U1",
        "Subject": subject,
        "StartDateTime": start.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "WhatId": "006OPP",
    }


@pytest.mark.parametrize(
    ("minutes", "found"), [(10, True), (-10, True), (10.02, False), (-11, False), (0, True), (120, False)]
)
def test_an_event_is_the_call_within_ten_minutes_of_its_start(minutes: float, found: bool) -> None:
    # Given a calendar Event starting ``minutes`` from the call's start, same title and deal
    call = make_call()
    # When dedupe looks for the call's activity
    picked = pick_existing_activity(
        [event_at(minutes)], call, subjects=["[A] Globex weekly", "Globex weekly"], related_ids=["006OPP"],
        prefer_kind="Event", prefix="[A]",
    )  # fmt: skip
    # Then within ±10 minutes (both edges included) it is the call's Event, beyond it is not
    assert (picked is not None) is found
    assert timedelta(minutes=10) == EVENT_START_TOLERANCE


def test_a_calendar_subject_with_an_en_dash_and_the_prefix_is_the_call() -> None:
    # Given the calendar's subject in other typography
    call = make_call(title="Wingtip - proposal walkthrough")
    row = event_at(3, "[A]  wingtip \u2013 Proposal walkthrough")
    # Then it is picked
    picked = pick_existing_activity(
        [row], call, subjects=["[A] Wingtip - proposal walkthrough", "Wingtip - proposal walkthrough"],
        related_ids=["006OPP"], prefer_kind="Event", prefix="[A]",
    )  # fmt: skip
    assert picked is row


def test_the_section_follows_the_existing_text_and_is_replaced_in_place() -> None:
    # Given a calendar invite's text
    invite = "Join: https://meet.example/abc\r\nDial-in: +1 555 0100"
    # When callsync adds its section, then a later revision puts another one, with a rep's line after it
    first = merge_section(invite, "Revision 1 summary", TAIL, "c1", marker=MARKER).text
    assert first == (
        f"Join: https://meet.example/abc\nDial-in: +1 555 0100\n\n{section_begin('c1')}\n"
        f"Revision 1 summary\n\n{TAIL}\n{section_end('c1')}"
    )
    edited = f"{first}\n\nRep: called back on Monday"
    second = merge_section(edited, "Revision 2 summary", TAIL, "c1", marker=MARKER).text
    # Then only the section changed; the same revision again changes nothing
    assert second == edited.replace("Revision 1 summary", "Revision 2 summary")
    assert merge_section(second, "Revision 2 summary", TAIL, "c1", marker=MARKER).text == second
    assert has_section(second, "c1") and not has_section(second, "c2")


def test_a_section_whose_end_line_was_deleted_ends_at_the_marker() -> None:
    # Given callsync's section whose end line a rep deleted, and their note after it
    text = f"Invite\n\n{section_begin('c1')}\nOld summary\n\n{TAIL}\n\nRep note"
    # When the section is written again
    merged = merge_section(text, "New summary", TAIL, "c1", marker=MARKER).text
    # Then it replaces the old one up to the marker; the rep's note stays
    assert merged == f"Invite\n\n{section_begin('c1')}\nNew summary\n\n{TAIL}\n{section_end('c1')}\n\nRep note"


def test_the_existing_text_is_never_cut_callsyncs_section_is() -> None:
    # Given an existing text that leaves little room within 32,000 characters
    existing = "x" * (DESCRIPTION_MAX - 400)
    # When a long summary is added
    merged = merge_section(existing, "word " * 2000, TAIL, "c1", marker=MARKER)
    # Then the result fits, the existing text is whole, the backlink and marker survive, the body is cut
    assert merged.text is not None and len(merged.text) <= DESCRIPTION_MAX
    assert merged.text.startswith(existing + "\n\n") and merged.truncated
    assert merged.text.endswith(f"{TAIL}\n{section_end('c1')}")
    # And with no room even for the backlink and marker, nothing is written
    full = merge_section("y" * (DESCRIPTION_MAX - 50), "summary", TAIL, "c1", marker=MARKER)
    assert full.text is None


def row(by: str | None, at: str | None, name: str | None = "Alice Rep") -> dict[str, object]:
    return {"LastModifiedById": by, "LastModifiedDate": at, "LastModifiedBy": {"Name": name} if name else None}


def test_a_persons_edit_after_the_call_started_is_told_with_name_and_date() -> None:
    since = datetime(2026, 6, 3, 15, 0, tzinfo=UTC)

    def edit(by: str | None, at: str | None, name: str | None = "Alice Rep", user: str | None = INTEGRATION):
        return person_edit(last_modified_of(row(by, at, name)), integration_user_id=user, since=since)

    # Given a row changed by Alice two days after the call
    # Then it is a person's edit, said in the report's words
    alice = edit("005ALICE", "2026-06-05T09:30:00.000+0000")
    assert alice is not None and alice.note == "kept: changed by Alice Rep on 2026-06-05"
    # And the integration user's own change (also in its 18-character form) or a change before the call are not
    assert edit(INTEGRATION, "2026-06-05T09:30:00Z") is None
    assert edit(INTEGRATION + "AAA", "2026-06-05T09:30:00Z") is None
    assert edit("005ALICE", "2026-06-03T14:59:00Z") is None
    # And a row without its modifier is not
    assert edit(None, "2026-06-05T09:30:00Z") is None and last_modified_of(None) is None
    # And with an unknown integration user every modifier counts as a person (the careful side)
    assert edit("005ALICE", "2026-06-05T09:30:00Z", user=None) == alice
    # And without the name read, the person's User id is named
    nameless = edit("005ALICE", "2026-06-05T09:30:00Z", None)
    assert nameless is not None and nameless.by == "005ALICE"


# ---------------------------------------------------------------- the service, with the in-memory Salesforce


def row_of(store: FakeActivityStore, record_id: str) -> dict[str, object]:
    """The record as the match step's read-ahead returns it."""
    return {k: v for k, v in store.records[record_id].items() if k != "attributes"}


def edited_by_alice(store: FakeActivityStore, record_id: str, **values: object) -> None:
    store.records[record_id].update(
        values, LastModifiedById="005ALICE", LastModifiedDate="2026-11-21T10:00:00.000+0000",
        LastModifiedBy={"Name": "Alice Rep"},
    )  # fmt: skip


@pytest.mark.parametrize("integration_user", [INTEGRATION, None], ids=["known user", "unknown user"])
def test_a_persons_other_edit_does_not_freeze_the_association_callsync_wrote(integration_user: str | None) -> None:
    # Given revision 1 logged on the deal, then Alice renamed the Event (she did not move it); with an unknown
    # integration user every modifier counts as a person, callsync's own write too
    store, ledger = FakeActivityStore(), FakeLedger()
    store.integration_user_id = integration_user
    first = LogActivity(store, describes(), ledger).run(make_state(make_call(revision=1)))
    event_id = str(first.activity_id)
    edited_by_alice(store, event_id, Subject="Globex weekly (Alice's notes)")
    # When revision 2 matches another deal
    other = OpportunityInfo(id="006OTHER", name="Globex expansion", account_id=ACCOUNT, owner_id=HOST)
    match = make_match(candidates=[row_of(store, event_id)], opportunity=True)
    match.opportunity = other
    second = LogActivity(store, describes(), ledger).run(make_state(make_call(revision=2), match=match))
    # Then the Event follows the new match: the association was still the one callsync wrote
    assert store.records[event_id]["WhatId"] == "006OTHER"
    assert not [f for c in second.report.changes for f in c.fields if f.policy == "kept"]


def test_with_an_unknown_integration_user_an_empty_name_callsync_never_wrote_is_filled() -> None:
    # Given revision 1 logged with no Contact matched (no WhoId written), by a connection that does not name
    # its user (so callsync's own last write counts as a person's)
    store, ledger = FakeActivityStore(), FakeLedger()
    store.integration_user_id = None
    first = LogActivity(store, describes(), ledger).run(
        make_state(make_call(revision=1), match=make_match(primary_contact=None))
    )
    event_id = str(first.activity_id)
    assert not store.records[event_id].get("WhoId")
    # When revision 2 matches Jane (the read-ahead returns the empty WhoId as Salesforce does: null)
    match = make_match(candidates=[{"WhoId": None, **row_of(store, event_id)}])
    second = LogActivity(store, describes(), ledger).run(make_state(make_call(revision=2), match=match))
    # Then the Event gets her as its Name: nobody had set one, so there is nothing to keep
    assert store.records[event_id]["WhoId"] == match.primary_contact.id
    assert not [f for c in second.report.changes for f in c.fields if f.policy == "kept"]


@pytest.mark.parametrize("integration_user", [INTEGRATION, None], ids=["known user", "unknown user"])
def test_a_persons_move_is_kept_and_said_and_a_reused_event_known_from_the_ledger_is_read_by_id(
    integration_user: str | None,
) -> None:
    # Given a calendar Event reused by revision 1, then moved by Alice to another deal, and renamed (so the
    # read-ahead of revision 2 does not return it); known or unknown integration user
    store, ledger = FakeActivityStore(), FakeLedger()
    store.integration_user_id = integration_user
    calendar = store.add(
        "Event", Subject="Globex weekly", StartDateTime="2026-11-20T15:05:00.000+0000", WhatId=OPP,
        Type="Meeting", Description="Join: https://meet.example/x",
    )  # fmt: skip
    match = make_match(candidates=[row_of(store, calendar)])
    first = LogActivity(store, describes(), ledger).run(make_state(make_call(revision=1), match=match))
    assert first.activity_id == calendar and store.records[calendar]["Type"] == "Meeting"
    edited_by_alice(store, calendar, WhatId="006REP", Subject="Globex weekly - moved")
    # When revision 2 runs with an empty read-ahead
    second = LogActivity(store, describes(), ledger).run(make_state(make_call(revision=2, summary="Second take.")))
    # Then the Event was read by its Id in one lookup, Alice's deal kept, only callsync's section replaced
    assert store.lookups[-1].activity_ids == [calendar]
    event = store.records[calendar]
    assert event["WhatId"] == "006REP" and event["Type"] == "Meeting"
    assert str(event["Description"]).startswith(f"Join: https://meet.example/x\n\n{section_begin('c1')}\nSecond take.")
    kept = [f for c in second.report.changes for f in c.fields if f.policy == "kept"]
    assert [(f.field, f.note) for f in kept] == [("WhatId", "kept: changed by Alice Rep on 2026-11-21")]


def test_the_read_ahead_asks_for_every_date_an_event_within_ten_minutes_may_carry() -> None:
    # Given a call starting 5 minutes after midnight UTC
    start = datetime(2026, 6, 4, 0, 5, tzinfo=UTC)
    # Then a calendar Event starting up to 10 minutes earlier (the previous day) is read ahead too
    assert read_ahead_dates(start) == [date(2026, 6, 3), date(2026, 6, 4)]
    # And a call at noon asks for its day only
    assert read_ahead_dates(datetime(2026, 6, 4, 12, 0, tzinfo=UTC)) == [date(2026, 6, 4)]
