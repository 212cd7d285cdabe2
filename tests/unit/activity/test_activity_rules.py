"""Domain rules of the logged call: owner, relations, Type, Status, text, times, dedupe."""

from __future__ import annotations

from datetime import date

import pytest
from activity_builders import (
    ACCOUNT,
    BOB,
    HOST,
    JANE,
    OPP,
    OWNER,
    contact,
    make_call,
    make_match,
    make_settings,
    user,
)
from callsync.domain.activity_kind import activity_kind, activity_subject, candidate_subjects
from callsync.domain.activity_plan import (
    activity_description,
    call_ref,
    choose_owner,
    completed_status,
    event_duration_warning,
    event_times,
    pick_existing_activity,
    picklist_match,
    relations,
    split_shared_contacts,
)
from callsync.models.match import ContactsResult, MatchResult, Person


@pytest.mark.parametrize(
    ("mode", "medium", "kind"),
    [
        ("tasks", "video", "Task"),
        ("events", "telephony", "Event"),
        ("smart", "telephony", "Task"),
        ("smart", "video", "Event"),
        ("smart", "upload", "Event"),
    ],
)
def test_mode_picks_task_or_event(mode: str, medium: str, kind: str) -> None:
    # Given an activity mode and a call medium / When the kind is chosen / Then it follows the mode
    settings = make_settings(activity_sync={"enabled": True, "mode": mode})
    assert activity_kind(settings, make_call(medium=medium)) == kind


def test_subject_is_prefix_and_title_cut_to_255() -> None:
    # Given a title with quotes, HTML and 300 characters
    call = make_call(title='He said "<b>hi</b>" ' + "x" * 300)
    # When the subject is built / Then it keeps the text as is, prefixed, at most 255 characters
    subject = activity_subject(make_settings(), call)
    assert subject.startswith('[Airspeed] He said "<b>hi</b>" ')
    assert len(subject) == 255


def test_description_has_summary_key_points_insights_and_backlink() -> None:
    # Given a call with key points and insights of every shape
    call = make_call(
        key_points=["Budget approved", "Pilot in June"],
        insights={"pain": "manual logging", "seats": 120, "competitors": ["Gong", "Chorus"]},
    )
    # When the description is built
    text, truncated = activity_description(call)
    # Then it reads summary, key points, insights, backlink and marker, in that order
    assert not truncated
    assert text.index("We talked") < text.index("Key points:") < text.index("Insights:") < text.index("Call: https")
    assert "- Pilot in June" in text and "- seats: 120" in text and "- competitors: Gong, Chorus" in text
    assert text.endswith(call_ref(call))


def test_long_summary_is_cut_cleanly_with_note_and_backlink_kept() -> None:
    # Given a 40,000-character summary
    call = make_call(summary=("word " * 8000).strip())
    # When the description is built
    text, truncated = activity_description(call)
    # Then it fits in 32,000 characters, says it was cut, ends at a word, and keeps the backlink
    assert truncated and len(text) <= 32_000
    assert "truncated by callsync" in text
    assert "wor\n" not in text
    assert "Call: https://app.example.com/calls/c1" in text and text.endswith(call_ref(call))


@pytest.mark.parametrize(
    ("value", "allowed", "expected"),
    [
        ("discovery", ["Call", "Discovery"], "Discovery"),
        ("  DEMO ", ["Demo"], "Demo"),
        ("Negotiation", ["Call", "Discovery"], None),
        (None, ["Call"], None),
        ("", ["Call"], None),
    ],
)
def test_type_only_when_the_picklist_has_it(value: str | None, allowed: list[str], expected: str | None) -> None:
    # Given a call type in odd case / When matched against the org's values / Then the org's spelling or nothing
    assert picklist_match(value, allowed) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["Not Started", "Completed", "Closed"], "Completed"),
        (["Open", "Done"], "Done"),
        (["Open", "Closed - Finished"], "Closed - Finished"),
        (["Open", "Waiting"], None),
    ],
)
def test_completed_status_valid_in_org(values: list[str], expected: str | None) -> None:
    # Given the org's Task Status values / Then "Completed" wins, else one that reads as done, else none
    assert completed_status(values) == expected


def test_owner_is_opportunity_owner_when_on_call() -> None:
    # Given the opportunity owner attended
    match = make_match(owner=BOB)
    # Then the owner takes precedence over the host
    assert choose_owner(make_call(), match).user_id == BOB


def test_owner_is_host_when_opportunity_owner_absent() -> None:
    # Given the opportunity owner did not attend
    assert choose_owner(make_call(), make_match(owner=OWNER)).user_id == HOST


def test_owner_falls_back_to_internal_participant_then_default() -> None:
    # Given a host who is no User but a colleague who is
    match = make_match(internal=[user("alice@ourco.com", None), user("bob@ourco.com", BOB)])
    assert choose_owner(make_call(), match).user_id == BOB
    # Given nobody internal is a User / Then the default owner stays
    nobody = make_match(internal=[user("alice@ourco.com", None)])
    assert choose_owner(make_call(), nobody).user_id is None


def test_related_to_opportunity_else_account_and_name_primary_contact() -> None:
    # Given a matched opportunity / Then WhatId is the opportunity and WhoId the primary contact
    rel = relations(make_match(), None)
    assert (rel.what_id, rel.what_object, rel.who_id) == (OPP, "Opportunity", JANE)
    # Given no opportunity / Then the account
    assert relations(make_match(opportunity=False), None).what_id == ACCOUNT


def test_lead_named_only_without_related_record() -> None:
    # Given only a lead on the call and nothing matched
    lead = Person(email="l@x.com", object="Lead", id="00QL")
    rel = relations(MatchResult(leads=[lead]), None)
    # Then the lead is the WhoId
    assert (rel.who_id, rel.who_object) == ("00QL", "Lead")
    # Given a lead and a matched account / Then Salesforce's rule wins: no lead next to a WhatId
    rel = relations(MatchResult(leads=[lead], account=make_match().account), None)
    assert rel.who_id is None and rel.unlinkable == ["l@x.com"]


def test_contacts_created_for_the_call_are_related() -> None:
    # Given no primary contact from the match but one created by CreateContacts
    created = ContactsResult(created=[contact("new@globex.com", "003NEW")])
    rel = relations(MatchResult(), created)
    # Then the new contact is named
    assert rel.who_id == "003NEW"


def test_shared_activities_attach_up_to_50_contacts() -> None:
    # Given 60 external contacts (primary + 59 others)
    rel = relations(make_match(others=59), None)
    # When Shared Activities is on / Then 49 others join the primary; 10 stay unlinked
    attach, left = split_shared_contacts(rel, shared_activities=True)
    assert len(attach) == 49 and len(left) == 10
    # When it is off / Then only the WhoId: every other contact stays unlinked, by email
    attach, left = split_shared_contacts(rel, shared_activities=False)
    assert attach == [] and len(left) == 59 and left[0] == "p0@globex.com"


def test_event_times_from_actual_start_and_duration() -> None:
    # Given a call of 1830 s starting 15:00Z / Then the event spans 31 minutes
    assert event_times(make_call()) == {
        "StartDateTime": "2026-11-20T15:00:00Z",
        "EndDateTime": "2026-11-20T15:31:00Z",
        "DurationInMinutes": 31,
    }


@pytest.mark.parametrize(
    ("seconds", "minutes", "end"),
    [
        (14 * 86400, 20160, "2026-12-04T15:00:00Z"),  # exactly 14 days: allowed as is
        (14 * 86400 + 1, 20160, "2026-12-04T15:00:00Z"),  # one second more: clamped
        (30 * 86400, 20160, "2026-12-04T15:00:00Z"),  # 30 days: clamped
    ],
)
def test_an_event_never_lasts_more_than_14_days(seconds: int, minutes: int, end: str) -> None:
    """Salesforce refuses a non-all-day Event longer than 14 days (20,160 minutes) with
    FIELD_INTEGRITY_EXCEPTION (Object Reference, Event: DurationInMinutes/EndDateTime; salesforce-rest.md)."""
    # Given a call that lasted `seconds`
    call = make_call(duration_seconds=seconds)
    # When its Event times are planned
    times = event_times(call)
    # Then the duration is at most 14 days, and the end agrees with it
    assert times == {"StartDateTime": "2026-11-20T15:00:00Z", "EndDateTime": end, "DurationInMinutes": minutes}


def test_a_clamped_event_says_how_long_the_call_really_was() -> None:
    # Given a 30-day call / Then the warning gives the real length and the limit
    warning = event_duration_warning(make_call(duration_seconds=30 * 86400))
    assert warning is not None
    assert "43,200 minutes (30.0 days)" in warning and "ends after 20,160 minutes" in warning
    # And a call within the limit gets none
    assert event_duration_warning(make_call(duration_seconds=14 * 86400)) is None


def _candidate(**fields: object) -> dict[str, object]:
    return {
        "attributes": {"type": "Event"},
        "Id": "00UX",
        "Subject": "Globex weekly",
        "StartDateTime": "2026-11-20T15:00:00.000+0000",
        "WhoId": JANE,
        "WhatId": None,
        **fields,
    }


def _pick(cands: list[dict[str, object]]) -> dict[str, object] | None:
    call = make_call()
    return pick_existing_activity(
        cands,
        call,
        subjects=candidate_subjects(make_settings(), call),
        related_ids=[OPP, ACCOUNT, JANE],
        prefer_kind="Event",
    )


def test_dedupe_finds_calendar_event_same_date_title_and_contact() -> None:
    # Given the calendar's event (no prefix, other case) for the same contact and day / Then it is found
    assert _pick([_candidate(Subject="GLOBEX WEEKLY")]) is not None
    # And our earlier prefixed attempt is found too, and preferred
    ours = _candidate(Id="00UOURS", Subject="[Airspeed] Globex weekly")
    assert _pick([_candidate(), ours])["Id"] == "00UOURS"  # type: ignore[index]


@pytest.mark.parametrize(
    "fields",
    [
        {"StartDateTime": "2026-11-22T15:00:00.000+0000"},  # another day
        {"Subject": "Globex quarterly"},  # another title
        {"WhoId": "003SOMEONE", "WhatId": "006OTHER"},  # other records
    ],
)
def test_dedupe_ignores_other_activities(fields: dict[str, object]) -> None:
    # Given an activity that differs in date, title or relations / Then it is not the call
    assert _pick([_candidate(**fields)]) is None


def test_dedupe_marker_wins_whatever_changed() -> None:
    # Given our earlier record whose title changed since / Then the marker in its description identifies it
    call = make_call()
    record = _candidate(Subject="Old title", Description=f"text\n{call_ref(call)}", WhoId=None)
    assert _pick([record]) is not None


def test_dedupe_task_candidates_by_activity_date() -> None:
    # Given a Task candidate (match step's read-ahead: no attributes, ActivityDate) / Then it is found by date
    record = {
        "Id": "00TX",
        "Subject": "globex weekly",
        "ActivityDate": date(2026, 11, 20).isoformat(),
        "WhoId": None,
        "WhatId": OPP,
    }
    assert _pick([record]) is not None
