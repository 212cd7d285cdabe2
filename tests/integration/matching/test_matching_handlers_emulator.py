"""The MatchOpportunity and CreateContacts handlers against the emulator and moto: requests, records, ledger."""

from __future__ import annotations

from typing import Any

import pytest
from callsync.models.state import SyncState
from matching_org import EXPANSION, GLOBEX, JANE, ORG, org_fixture

from functions.create_contacts.app import handler as create_contacts
from functions.match_opportunity.app import handler as match_opportunity
from tests.support.lambdas import latest_report

pytestmark = pytest.mark.integration


def event(participants: list[dict[str, Any]], **settings: Any) -> dict[str, Any]:
    call = {
        "schema_version": 1, "org_id": ORG, "call_id": "c1", "title": "Globex weekly",
        "started_at": "2026-11-20T15:00:00Z", "duration_seconds": 1800, "medium": "video",
        "host_email": "alice@ourco.com", "participants": participants, "summary": "s",
        "call_url": "https://app.example.com/c/1", "company": {"name": "Globex", "domain": "globex.com"},
    }  # fmt: skip
    base = {
        "org_id": ORG, "internal_domains": ["ourco.com"], "subject_prefix": "[Airspeed]",
        "field_sync": {"enabled": True, "mappings": [
            {"insight": "pain", "object": "Opportunity", "field": "Pain__c"},
            {"insight": "secret", "object": "Opportunity", "field": "Secret__c"},
        ]},
        "contact_creation": {"enabled": True},
    }  # fmt: skip
    return {"call": call, "settings": {**base, **settings}}


PARTICIPANTS = [
    {"email": "alice@ourco.com", "name": "Alice Rep"},
    {"email": "jane@globex.com", "name": "Jane Doe"},
    {"email": "New.Person@globex.com", "name": "New Person"},
    {"email": "solo@gmail.com"},
    {"email": "broken email"},
]


def test_match_then_create_contacts_within_budget(emulator_for, deps_for, lambda_context):
    # Given the org, wired dependencies and a call with Jane, a Globex newcomer and a gmail stranger
    emu = emulator_for(org_fixture())
    deps = deps_for(emu)
    state = event(PARTICIPANTS)
    # When MatchOpportunity runs (cold: describes fetched once)
    match = match_opportunity(state, lambda_context, deps=deps)
    # Then Expansion is matched with its reason, the hidden field was left out, values read ahead
    assert match["opportunity"]["id"] == EXPANSION and match["account"]["id"] == GLOBEX
    assert match["primary_contact"]["id"] == JANE
    assert match["reason"].startswith("Globex - Expansion: Jane Doe is its primary contact; open before the call")
    assert match["current_values"][EXPANSION] == {"Pain__c": "slow reports"}
    assert [a["Subject"] for a in match["activity_candidates"]] == ["[Airspeed] Globex weekly"]
    assert match["skipped_emails"] == ["broken email"]
    # one describe composite (cold) + one match composite
    assert latest_report(deps.ledger, "MatchOpportunity")["api_requests"] == 2
    # When it runs warm / Then one request
    emu.reset_api_requests()
    warm = match_opportunity(state, lambda_context, deps=deps)
    assert latest_report(deps.ledger, "MatchOpportunity")["api_requests"] == emu.api_requests == 1

    # When CreateContacts runs on the match
    emu.reset_api_requests()
    contacts = create_contacts({**state, "match": warm}, lambda_context, deps=deps)
    # Then one collections request created a Contact under Globex; the gmail stranger (no company) got nothing
    assert emu.api_requests == latest_report(deps.ledger, "CreateContacts")["api_requests"] == 1
    created = {p["email"]: p for p in contacts["created"]}
    assert list(created) == ["new.person@globex.com"]
    assert created["new.person@globex.com"]["object"] == "Contact"
    assert created["new.person@globex.com"]["account_id"] == GLOBEX
    new_contact = next(c for c in emu.records("Contact") if c["Email"] == "new.person@globex.com")
    assert (new_contact["FirstName"], new_contact["LastName"], new_contact["AccountId"]) == ("New", "Person", GLOBEX)
    assert not [r for r in emu.records("Lead") if r["Email"] == "solo@gmail.com"]
    assert [p["email"] for p in warm["not_created"]] == ["solo@gmail.com"]
    # And the ledger has both steps
    steps = [e["sk"] for e in [e.as_json() for e in deps.ledger.entries(f"{ORG}#c1#1")]]
    assert steps == ["step#CreateContacts", "step#MatchOpportunity"]
    SyncState.model_validate({**state, "match": warm, "contacts": contacts})  # the next steps can read it

    # When CreateContacts runs again (a retried step) / Then nothing new, no request
    emu.reset_api_requests()
    again = create_contacts({**state, "match": warm}, lambda_context, deps=deps)
    assert emu.api_requests == 0 and again["created"] == []
    assert sorted(p["email"] for p in again["reused"]) == ["new.person@globex.com"]
    assert len([c for c in emu.records("Contact") if c["Email"] == "new.person@globex.com"]) == 1


def test_account_lookup_for_an_unseen_company(emulator_for, deps_for, lambda_context):
    # Given an Initech person on a call with no known Contact
    emu = emulator_for(org_fixture())
    deps = deps_for(emu)
    state = event([{"email": "alice@ourco.com"}, {"email": "pat@initech.com", "name": "Pat Lee"}],
                  field_sync={"enabled": False})  # fmt: skip
    match = match_opportunity(state, lambda_context, deps=deps)
    assert match["opportunity"] is None and match["reason"].startswith("No opportunity")
    # When CreateContacts runs
    emu.reset_api_requests()
    contacts = create_contacts({**state, "match": match}, lambda_context, deps=deps)
    # Then one Account query plus one collections request made a Contact under Initech (website http://initech.com)
    assert emu.api_requests == 2
    assert contacts["created"][0]["object"] == "Contact"
    assert contacts["created"][0]["account_id"] == "001000000000003AAA"


def test_contact_creation_off_creates_nothing(emulator_for, deps_for, lambda_context):
    emu = emulator_for(org_fixture())
    deps = deps_for(emu)
    state = event(PARTICIPANTS, contact_creation={"enabled": False})
    match = match_opportunity(state, lambda_context, deps=deps)
    emu.reset_api_requests()
    contacts = create_contacts({**state, "match": match}, lambda_context, deps=deps)
    assert emu.api_requests == 0 and contacts["created"] == [] and contacts["enabled"] is False


def test_200_participants_with_repeats_quotes_and_apostrophes(emulator_for, deps_for, lambda_context):
    # Given 200 participant entries: Jane, 150 new people on 30 domains (some listed twice in another case),
    # names with quotes and apostrophes, and a host missing from the list
    emu = emulator_for(org_fixture())
    deps = deps_for(emu)
    people = [{"email": "jane@globex.com", "name": "Jane Doe"}]
    for i in range(150):
        people.append({"email": f"p{i}.o'neil@d{i % 30}.example", "name": f'Pat "P{i}" O\'Neil'})
    people += [{"email": p["email"].upper()} for p in people[1:50]]
    assert len(people) == 200
    state = event(people, field_sync={"enabled": False}, activity_sync={"enabled": False})
    state["call"]["host_email"] = "host@ourco.com"
    # When matched / Then the 152 distinct emails (host included) cost 8 composites of 20, Jane is matched,
    # plus one describe composite (cold cache) of Contact and Lead for CreateContacts' write gate
    match = match_opportunity(state, lambda_context, deps=deps)
    assert latest_report(deps.ledger, "MatchOpportunity")["api_requests"] == emu.api_requests == 9
    assert match["primary_contact"]["id"] == JANE and len(match["unknown"]) == 150
    assert any("host@ourco.com was not listed" in w for w in latest_report(deps.ledger, "MatchOpportunity")["warnings"])
    # When contacts are created / Then one Account lookup and one collections request create 150 Leads
    emu.reset_api_requests()
    contacts = create_contacts({**state, "match": match}, lambda_context, deps=deps)
    assert emu.api_requests == latest_report(deps.ledger, "CreateContacts")["api_requests"] == 2
    assert len(contacts["created"]) == 150
    lead = next(r for r in emu.records("Lead") if r["Email"] == "p7.o'neil@d7.example")
    assert (lead["FirstName"], lead["LastName"], lead["Company"]) == ('Pat "P7"', "O'Neil", "d7.example")
