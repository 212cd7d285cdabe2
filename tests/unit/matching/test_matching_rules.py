"""Opportunity association: candidates, timing tiers, tie-breaks, and what the match hands on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from callsync.domain.matching import (
    Candidate,
    ContactRow,
    LeadRow,
    MatchInput,
    RoleRow,
    UserRow,
    best_candidate,
    match_call,
    timing_tier,
)
from callsync.domain.participants import build_roster
from callsync.models.match import AccountInfo
from matching_builders import CALL_START, make_call, opp

GLOBEX = AccountInfo(id="001A", name="Globex", website="https://www.globex.com")
INITECH = AccountInfo(id="001B", name="Initech", website="initech.com")

PARTICIPANTS = [
    {"email": "alice@ourco.com", "name": "Alice Rep"},
    {"email": "jane@globex.com", "name": "Jane Doe"},
    {"email": "bob@globex.com", "name": "Bob Roe"},
    {"email": "new@globex.com", "name": "New Person"},
]


def contacts() -> list[ContactRow]:
    return [
        ContactRow(id="003J", email="jane@globex.com", name="Jane Doe", account=GLOBEX),
        ContactRow(id="003B", email="bob@globex.com", name="Bob Roe", account=GLOBEX),
    ]


def run(data: MatchInput, participants: list[dict] | None = None):
    call = make_call(participants or PARTICIPANTS)
    return match_call(build_roster(call), ["ourco.com"], data)


# ---- timing tiers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "tier"),
    [
        ({"created": timedelta(days=-30)}, 1),  # existed before, open
        ({"created": timedelta(seconds=-1)}, 1),
        ({"created": timedelta(0)}, 1),  # created at the very start = existed before
        ({"created": timedelta(days=-30), "closed": True, "close_date": "2026-11-20"}, 2),
        ({"created": timedelta(days=-30), "closed": True, "close_date": "2026-11-19"}, None),
        ({"created": timedelta(days=-30), "closed": True, "close_date": "2026-11-21"}, None),
        ({"created": timedelta(minutes=5)}, 3),  # created during/after the call
        ({"created": timedelta(days=14)}, 3),  # the 14th day still counts
        ({"created": timedelta(days=14, seconds=1)}, None),
        ({"created": timedelta(days=3), "closed": True, "close_date": "2026-11-25"}, 3),
    ],
)
def test_timing_tier(kwargs: dict, tier: int | None) -> None:
    # Given an opportunity with these dates / Then its tier relative to the call start (UTC day)
    assert timing_tier(opp("006X", **kwargs), CALL_START) == tier


def test_closed_on_the_calls_day_uses_the_utc_day() -> None:
    # Given a call at 23:30 in New York on the 19th, i.e. 04:30 UTC on the 20th
    start = datetime(2026, 11, 20, 4, 30, tzinfo=UTC)
    closed = opp("006X", closed=True, close_date="2026-11-20")
    # Then an opportunity closed on the 20th counts as closed on the call's day
    assert timing_tier(closed, start) == 2


# ---- tie-breaks -----------------------------------------------------------------------------


def test_tier_beats_link_then_link_beats_activity() -> None:
    # Given a primary-role opp closed today, a role-only opp open before the call, and an account opp open
    primary_closed = Candidate(opp("0061", closed=True, close_date="2026-11-20"), "primary", 2)
    role_open = Candidate(opp("0062", last_activity="2026-01-01"), "role", 1)
    account_open = Candidate(opp("0063", last_activity="2026-11-19"), "account", 1)
    # Then the open one with a role wins: tier first, then link (even against more recent activity)
    assert best_candidate([primary_closed, role_open, account_open]) is role_open


def test_within_tier_and_link_latest_activity_then_modified_then_id() -> None:
    # Given three open primary-role opps
    old_activity = Candidate(opp("0061", last_activity="2026-10-01"), "primary", 1)
    recent_activity = Candidate(opp("0062", last_activity="2026-11-18"), "primary", 1)
    no_activity = Candidate(opp("0063"), "primary", 1)
    # Then the latest LastActivityDate wins; no activity counts as oldest
    assert best_candidate([old_activity, no_activity, recent_activity]) is recent_activity
    # Given equal activity, the latest LastModifiedDate wins
    a = Candidate(opp("006A", last_activity="2026-11-18", modified=CALL_START), "primary", 1)
    b = Candidate(opp("006B", last_activity="2026-11-18", modified=CALL_START - timedelta(days=1)), "primary", 1)
    assert best_candidate([b, a]) is a
    # Given everything equal, the smallest Id wins (stable)
    c = Candidate(opp("006C"), "role", 1)
    d = Candidate(opp("006D"), "role", 1)
    assert best_candidate([d, c]) is c


def test_ineligible_candidates_are_never_chosen() -> None:
    # Given only an opportunity closed last month
    stale = Candidate(opp("0061", closed=True, close_date="2026-10-01"), "primary", None)
    # Then there is no choice
    assert best_candidate([stale]) is None


# ---- whole match ----------------------------------------------------------------------------


def test_primary_contact_role_wins_and_reason_says_why() -> None:
    # Given Jane is the primary contact on an open deal and Bob has a role on a more active one
    data = MatchInput(
        started_at=CALL_START,
        users=[UserRow(id="005A", email="alice@ourco.com", name="Alice Rep")],
        contacts=contacts(),
        roles=[
            RoleRow("006E", "003J", is_primary=True),
            RoleRow("006F", "003B", is_primary=False),
        ],
        opportunities=[
            opp("006E", name="Globex - Expansion", last_activity="2026-10-01"),
            opp("006F", name="Globex - Renewal", last_activity="2026-11-19"),
        ],
    )
    # When matched
    result = run(data)
    # Then the primary-role opp is chosen, Jane is the primary contact, Bob another contact
    assert result.opportunity is not None and result.opportunity.id == "006E"
    assert result.link == "primary" and result.tier == 1
    assert result.primary_contact is not None and result.primary_contact.id == "003J"
    assert [p.id for p in result.contacts] == ["003B"]
    assert result.account is not None and result.account.name == "Globex"
    assert result.reason == (
        "Globex - Expansion: Jane Doe is its primary contact; open before the call (chosen over 1 other candidate)"
    )
    # And the internal host is resolved to its User, the new person is unknown
    assert result.host_user_id == "005A"
    assert [(p.email, p.object, p.id) for p in result.internal] == [("alice@ourco.com", "User", "005A")]
    assert [p.email for p in result.unknown] == ["new@globex.com"]


def test_account_opportunities_only_when_no_tied_opportunity() -> None:
    # Given no contact roles at all, and two opps on Globex (one open, one closed long ago)
    data = MatchInput(
        started_at=CALL_START,
        contacts=contacts(),
        opportunities=[
            opp("006O", name="Globex - New"),
            opp("006C", name="Globex - Old", closed=True, close_date="2025-01-01"),
            opp("006Z", account="001Z", name="Unrelated"),
        ],
    )
    # When matched
    result = run(data)
    # Then the open opp of the contacts' account is chosen, linked by account
    assert result.opportunity is not None and result.opportunity.id == "006O"
    assert result.link == "account" and result.candidates == 2
    assert result.primary_contact is not None and result.primary_contact.id == "003J"  # first external Contact
    assert result.reason.startswith("Globex - New: an opportunity of Globex, the participants' account")


def test_tied_opportunity_wins_over_account_opportunity_even_when_less_active() -> None:
    # Given Bob has a role on an open deal; the account has a more active deal nobody is tied to
    data = MatchInput(
        started_at=CALL_START,
        contacts=contacts(),
        roles=[RoleRow("006R", "003B")],
        opportunities=[opp("006R", last_activity="2026-01-01"), opp("006A", last_activity="2026-11-19")],
    )
    # When matched
    result = run(data)
    # Then the tied one wins and the reason names Bob's role; Jane (first listed) is the primary contact
    assert result.opportunity is not None and result.opportunity.id == "006R"
    assert result.link == "role"
    assert "Bob Roe has a contact role on it" in result.reason
    assert result.primary_contact is not None and result.primary_contact.id == "003J"


def test_a_tied_but_ineligible_deal_lets_the_accounts_deals_in() -> None:
    # Given Jane's only role is on a deal closed last year, and Globex has a new deal created after the call
    data = MatchInput(
        started_at=CALL_START,
        contacts=contacts(),
        roles=[RoleRow("006L", "003J", is_primary=True)],
        opportunities=[
            opp("006L", closed=True, close_date="2025-06-01"),
            opp("006N", created=timedelta(days=2), name="Globex - Pilot"),
        ],
    )
    # When matched
    result = run(data)
    # Then the Account's deal is chosen: no tied deal fits the call's timing, so the Account's deals are searched
    assert result.opportunity is not None and result.opportunity.id == "006N"
    assert result.link == "account" and result.tier == 3


def test_a_tied_deal_that_fits_the_timing_still_beats_the_accounts_deals() -> None:
    # Given Jane has a role on an open deal, and Globex has another open deal with more activity
    data = MatchInput(
        started_at=CALL_START,
        contacts=contacts(),
        roles=[RoleRow("006T", "003J", is_primary=False)],
        opportunities=[opp("006T", created=timedelta(days=-60)), opp("006U", created=timedelta(days=-10))],
    )
    # When matched / Then the tied deal wins; the untied one is not even a candidate
    result = run(data)
    assert result.opportunity is not None and result.opportunity.id == "006T" and result.link == "role"


def test_tied_opportunity_on_another_account_and_its_account() -> None:
    # Given Jane (Globex) is primary contact on a deal of a partner account
    data = MatchInput(
        started_at=CALL_START,
        contacts=contacts(),
        roles=[RoleRow("006P", "003J", is_primary=True)],
        opportunities=[opp("006P", account="001P", name="Partner deal")],
    )
    # When matched
    result = run(data)
    # Then the Account is the opportunity's, not the contacts'
    assert result.opportunity is not None and result.opportunity.id == "006P"
    assert result.account is not None and result.account.id == "001P"
    assert {a.id for a in result.accounts_seen} == {"001A", "001P"}


def test_no_opportunity_account_with_most_contacts() -> None:
    # Given one Initech contact listed first and two Globex contacts, and no opportunities
    data = MatchInput(
        started_at=CALL_START,
        contacts=[*contacts(), ContactRow(id="003I", email="ian@initech.com", name="Ian", account=INITECH)],
    )
    participants = [{"email": "ian@initech.com"}, *PARTICIPANTS]
    # When matched
    result = run(data, participants)
    # Then no opportunity; the Account is Globex (2 of 3) and the primary contact the first Contact (Ian)
    assert result.opportunity is None
    assert result.account is not None and result.account.id == "001A"
    assert result.primary_contact is not None and result.primary_contact.id == "003I"
    assert result.reason == (
        "No opportunity: the participants' Contacts have no opportunity; account Globex (2 of 3 external contacts)"
    )


def test_account_tie_goes_to_the_first_listed_contact() -> None:
    # Given one Initech and one Globex contact
    data = MatchInput(
        started_at=CALL_START,
        contacts=[contacts()[1], ContactRow(id="003I", email="ian@initech.com", account=INITECH)],
    )
    # When matched with Bob listed before Ian
    result = run(data, [{"email": "bob@globex.com"}, {"email": "ian@initech.com"}])
    # Then Globex wins the tie
    assert result.account is not None and result.account.id == "001A"


def test_no_eligible_opportunity_keeps_the_account() -> None:
    # Given only closed-long-ago deals
    data = MatchInput(
        started_at=CALL_START,
        contacts=contacts(),
        roles=[RoleRow("006L", "003J", is_primary=True)],
        opportunities=[opp("006L", closed=True, close_date="2025-06-01")],
    )
    result = run(data)
    # Then no opportunity, the contacts' account, and a reason saying none was eligible
    assert result.opportunity is None and result.account is not None and result.account.id == "001A"
    assert result.reason.startswith("No opportunity: none of the 1 candidate(s) is open")


def test_primary_contact_is_the_opportunitys_primary_when_on_the_call() -> None:
    # Given Bob (listed after Jane) is the primary contact of the chosen deal
    data = MatchInput(
        started_at=CALL_START,
        contacts=contacts(),
        roles=[RoleRow("006E", "003B", is_primary=True), RoleRow("006E", "003J")],
        opportunities=[opp("006E")],
    )
    result = run(data)
    # Then Bob is the primary contact and Jane is among the others
    assert result.primary_contact is not None and result.primary_contact.id == "003B"
    assert [p.id for p in result.contacts] == ["003J"]


def test_leads_users_and_contact_over_lead() -> None:
    # Given a participant who is both Contact and Lead, one who is only a Lead (two lead records),
    # and an internal colleague without a User
    data = MatchInput(
        started_at=CALL_START,
        users=[UserRow(id="005A", email="ALICE@ourco.com")],
        contacts=[contacts()[0]],
        leads=[
            LeadRow(id="00QJ", email="jane@globex.com"),
            LeadRow(id="00Q1", email="lee@startup.io", name="Lee", last_modified_date=CALL_START),
            LeadRow(id="00Q2", email="lee@startup.io", name="Lee", last_modified_date=CALL_START - timedelta(1)),
        ],
    )
    participants = [
        {"email": "alice@ourco.com"},
        {"email": "zed@ourco.com"},
        {"email": "jane@globex.com"},
        {"email": "Lee@Startup.io"},
    ]
    result = run(data, participants)
    # Then Jane is a Contact, Lee the most recently modified Lead, Zed internal without User
    assert [(p.email, p.object, p.id) for p in result.external] == [
        ("jane@globex.com", "Contact", "003J"),
        ("lee@startup.io", "Lead", "00Q1"),
    ]
    assert [p.id for p in result.leads] == ["00Q1"]
    assert [(p.email, p.id) for p in result.internal] == [("alice@ourco.com", "005A"), ("zed@ourco.com", None)]


def test_same_email_on_two_contacts_picks_the_one_on_the_chosen_opportunity() -> None:
    # Given two Contacts with Jane's email; only the second has the primary role on the deal
    data = MatchInput(
        started_at=CALL_START,
        contacts=[
            ContactRow(id="003J1", email="jane@globex.com", account=GLOBEX, last_modified_date=CALL_START),
            ContactRow(id="003J2", email="jane@globex.com", account=GLOBEX),
        ],
        roles=[RoleRow("006E", "003J2", is_primary=True)],
        opportunities=[opp("006E")],
    )
    result = run(data, [{"email": "jane@globex.com", "name": "Jane"}])
    # Then the contact on the deal stands for Jane
    assert result.primary_contact is not None and result.primary_contact.id == "003J2"


def test_no_external_participants() -> None:
    # Given an internal-only call
    result = run(MatchInput(started_at=CALL_START), [{"email": "alice@ourco.com"}, {"email": "bo@ourco.com"}])
    # Then nothing is matched and the reason says so
    assert result.opportunity is None and result.account is None and result.primary_contact is None
    assert result.reason == "No opportunity: no external participants"


def test_no_contact_among_external_participants() -> None:
    # Given an external participant who is not a Contact
    result = run(MatchInput(started_at=CALL_START), [{"email": "x@nowhere.io"}])
    # Then the reason says no Contact was found, and the participant is unknown
    assert result.reason == "No opportunity: no external participant is a Salesforce Contact"
    assert [p.email for p in result.unknown] == ["x@nowhere.io"]


def test_a_customer_hosted_meeting_matches_through_its_external_host() -> None:
    # Given Jane (a Contact, primary on an open deal) hosts the meeting and Alice (a User) attends
    call = make_call(
        [{"email": "alice@ourco.com", "name": "Alice Rep"}, {"email": "jane@globex.com"}], host="Jane@Globex.com"
    )
    data = MatchInput(
        started_at=CALL_START,
        users=[UserRow(id="005A", email="alice@ourco.com", name="Alice Rep")],
        contacts=contacts(),
        roles=[RoleRow("006E", "003J", is_primary=True)],
        opportunities=[opp("006E", name="Globex - Expansion")],
    )
    # When matched
    result = match_call(build_roster(call), ["ourco.com"], data)
    # Then the host is the external primary contact, not an internal person, and the deal is found through her
    assert [p.email for p in result.internal] == ["alice@ourco.com"]
    assert result.primary_contact is not None and result.primary_contact.id == "003J"
    assert result.primary_contact.is_host
    assert result.opportunity is not None and result.opportunity.id == "006E"
    # And no User stands for the host
    assert result.host_user_id is None
