"""MatchOpportunity's queries against the emulator over HTTPS: one request, the right rows, the right match."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from callsync.adapters.salesforce_match import SalesforceMatchReader
from callsync.domain.matching import match_call
from callsync.domain.participants import build_roster
from callsync.models.event import CallProcessed
from callsync.ports.match import MappedFields, MatchQuery
from matching_org import BOB, EXPANSION, GLOBEX, JANE, OBRIEN, ORG, PARTNER_DEAL, RENEWAL, org_fixture

pytestmark = pytest.mark.integration
START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def make_call(participants: list[dict], host: str = "alice@ourco.com") -> CallProcessed:
    return CallProcessed.model_validate({
        "schema_version": 1, "org_id": ORG, "call_id": "c1", "title": "Globex weekly",
        "started_at": START.isoformat(), "duration_seconds": 1800, "medium": "video", "host_email": host,
        "participants": participants, "summary": "s", "call_url": "https://app.example.com/c/1",
    })  # fmt: skip


def test_one_composite_reads_users_contacts_roles_leads_opportunities_and_candidates(emulator_for, deps_for):
    # Given the org and a call with the host, a contractor User, Jane, Bob, O'Brien, a Lead and a converted Lead
    emu = emulator_for(org_fixture())
    api = deps_for(emu).salesforce(ORG)
    emails = ["alice@ourco.com", "carl@contractor.io", "jane@globex.com", "bob@globex.com",
              "o'brien@globex.com", "lee@startup.io", "conv@startup.io", "gone@old.io"]  # fmt: skip
    query = MatchQuery(
        emails=tuple(emails), external_emails=tuple(emails[1:]), started_at=START,
        fields=MappedFields(opportunity=("Pain__c",)), activity_object="Event",
        activity_subjects=("[Airspeed] Globex weekly", "Globex weekly"),
    )  # fmt: skip
    # When read
    read = SalesforceMatchReader(api).read(query)
    # Then it took one request, counted the same by the client and by the emulator
    assert api.api_requests == emu.api_requests == 1
    # And only active Users came back; converted Leads are left out
    assert sorted(u.email for u in read.data.users) == ["alice@ourco.com", "carl@contractor.io"]
    assert [lead.email for lead in read.data.leads] == ["lee@startup.io"]
    # And the contact roles carry their Opportunities, including the one on the partner's account
    assert {(r.opportunity_id, r.contact_id, r.is_primary) for r in read.data.roles} == {
        (EXPANSION, JANE, True),
        (RENEWAL, BOB, True),
        (PARTNER_DEAL, BOB, False),
    }
    assert {o.id for o in read.data.opportunities} >= {EXPANSION, RENEWAL, PARTNER_DEAL}
    # And the account query pre-filtered the ineligible ones (closed long ago; created >14 days after)
    assert {o.name for o in read.data.opportunities} == {"Globex - Expansion", "Globex - Renewal", "Partner resale"}
    # And current values and the calendar's own Event were read ahead
    assert read.values[EXPANSION] == {"Pain__c": "slow reports"}
    assert [a["Subject"] for a in read.activities or []] == ["[Airspeed] Globex weekly"]


def test_match_rules_on_emulator_rows(emulator_for, deps_for):
    # Given Jane (primary on the open Expansion) and Bob (primary on Renewal, closed on the call's day)
    emu = emulator_for(org_fixture())
    api = deps_for(emu).salesforce(ORG)
    call = make_call([{"email": "Alice@OurCo.com"}, {"email": "BOB@globex.com"}, {"email": "jane@globex.com"},
                      {"email": "carl@contractor.io"}])  # fmt: skip
    roster = build_roster(call)
    query = MatchQuery(emails=tuple(roster.emails), external_emails=tuple(roster.emails[1:]), started_at=START)
    # When matched
    result = match_call(roster, ["ourco.com"], SalesforceMatchReader(api).read(query).data)
    # Then the open Expansion wins over the Renewal closed today; Jane is primary; Carl is internal by User
    assert result.opportunity is not None and result.opportunity.id == EXPANSION
    assert result.account is not None and result.account.id == GLOBEX
    assert result.primary_contact is not None and result.primary_contact.id == JANE
    assert [p.id for p in result.contacts] == [BOB]
    assert [p.email for p in result.internal] == ["alice@ourco.com", "carl@contractor.io"]
    assert result.reason == (
        "Globex - Expansion: Jane Doe is its primary contact; open before the call (chosen over 2 other candidates)"
    )


@pytest.mark.live_org
def test_on_any_org_the_match_composite_is_valid_and_strangers_match_nothing(emulator_for, deps_for):
    """The reader's one composite (users, contacts, roles, leads, opportunities, candidates) is valid on the
    org under test: an empty emulator org, or the live org in live-org mode."""
    # Given an org and a call whose participants no record knows
    api = deps_for(emulator_for()).salesforce(ORG)
    strangers = ("nobody.one@callsync.invalid", "o'nobody@callsync.invalid")
    query = MatchQuery(
        emails=strangers,
        external_emails=strangers,
        started_at=START,
        activity_object="Event",
        activity_subjects=("[Airspeed] callsync live-org check",),
    )
    # When read
    read = SalesforceMatchReader(api).read(query)
    # Then one request answered, and nobody, no opportunity and no calendar event matched
    assert api.api_requests == 1
    assert (read.data.users, read.data.contacts, read.data.leads, read.data.roles) == ([], [], [], [])
    assert read.data.opportunities == [] and not read.activities


def test_apostrophes_and_injection_shaped_emails_are_plain_values(emulator_for, deps_for):
    # Given O'Brien, and an address shaped to break out of the string literal
    emu = emulator_for(org_fixture())
    api = deps_for(emu).salesforce(ORG)
    evil = "x'or'1'='1@globex.com"
    query = MatchQuery(
        emails=("o'brien@globex.com", evil),
        external_emails=("o'brien@globex.com", evil),
        started_at=START,
        activity_object="Task",
        activity_subjects=('it\'s \\ "quoted"',),
    )
    # When read / Then O'Brien is found, the other matches nothing, and nothing else leaks in
    read = SalesforceMatchReader(api).read(query)
    assert [c.id for c in read.data.contacts] == [OBRIEN]
    assert read.activities == []


def test_more_than_20_participants_take_one_request_per_20(emulator_for, deps_for):
    # Given 45 participants
    emu = emulator_for(org_fixture())
    api = deps_for(emu).salesforce(ORG)
    emails = tuple(["jane@globex.com"] + [f"p{i}@nowhere.io" for i in range(44)])
    # When read
    read = SalesforceMatchReader(api).read(MatchQuery(emails=emails, external_emails=emails, started_at=START))
    # Then three composite requests, and Jane is still found
    assert api.api_requests == emu.api_requests == 3
    assert [c.id for c in read.data.contacts] == [JANE]
