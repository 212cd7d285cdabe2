"""Matching and contact creation through `callsync run`: WhatId/WhoId on the logged call, created records,
the reason in the report, one record for a person two calls create at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from callsync_dev.report import render
from callsync_dev.runner import DEMO_EVENT, RunResult, run

from tests.support.chaos import CHAOS
from tests.support.demo import load, records, write_event

pytestmark = pytest.mark.e2e

ROLLOUT = "Globex - Sales call automation (120 seats)"


def one(result: RunResult, object_name: str, **where: Any) -> dict[str, Any]:
    found = [r for r in records(result, object_name) if all(r.get(k) == v for k, v in where.items())]
    assert len(found) == 1, f"{object_name} {where}: {len(found)} found"
    return found[0]


def activity_of(result: RunResult, subject_title: str) -> dict[str, Any]:
    return one(result, "Event", Subject=f"[callsync] {subject_title}")


def test_demo_call_links_the_opportunity_and_primary_contact_and_creates_sam(tmp_path: Path) -> None:
    # Given the demo org: Jane is the primary contact of the open rollout deal; Sam is not in Salesforce
    # When the demo call runs
    result = run([DEMO_EVENT])
    # Then it succeeded and the Event is related to the rollout Opportunity, named for Jane
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"]
    rollout = one(result, "Opportunity", Name=ROLLOUT)
    jane = one(result, "Contact", Email="jane.doe@globex.com")
    event = activity_of(result, "Globex x Acme - rollout scoping")
    assert (event["WhatId"], event["WhoId"]) == (rollout["Id"], jane["Id"])
    # And Sam was created once, as a Contact under Globex, and linked to the Event
    globex = one(result, "Account", Name="Globex")
    sam = one(result, "Contact", Email="sam.lee@globex.com")
    assert (sam["FirstName"], sam["LastName"], sam["AccountId"]) == ("Sam", "Lee", globex["Id"])
    relations = {r["RelationId"] for r in records(result, "EventRelation") if r.get("EventId") == event["Id"]}
    assert sam["Id"] in relations
    # And the report prints the reason of the match
    text = render(result)
    assert f"reason: {ROLLOUT}: Jane Doe is its primary contact; open before the call" in text
    # And the match took one composite (+ one describe composite, cold) and contacts one collections request
    steps = {e["sk"]: e for e in result.ledger if e.get("kind") == "step"}
    if not CHAOS:  # NO_BUDGETS_UNDER_CHAOS
        assert steps["step#MatchOpportunity"]["api_requests"] <= 2
        assert steps["step#CreateContacts"]["api_requests"] == 1


def test_account_only_call_and_no_record_for_a_stranger_on_a_personal_address(tmp_path: Path) -> None:
    # Given a call with Peter (Initech has no opportunity) and a stranger on gmail with no company
    event = write_event(
        tmp_path, "initech", call_id="initech-1", title="Initech intro",
        participants=[
            {"email": "alice.rep@acme.io", "name": "Alice Rep"},
            {"email": "peter@initech.example", "name": "Peter Gibbons"},
            {"email": "milton.w@gmail.com", "name": "Milton Waddams"},
        ],
        company={"name": "Initech", "domain": "initech.example"},
    )  # fmt: skip
    # When it runs
    result = run([event])
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"]
    # Then the Event is related to Initech and named for Peter
    initech = one(result, "Account", Name="Initech")
    peter = one(result, "Contact", Email="peter@initech.example")
    logged = activity_of(result, "Initech intro")
    assert (logged["WhatId"], logged["WhoId"]) == (initech["Id"], peter["Id"])
    # And Milton (a personal address, no company) became neither a Lead nor a Contact, with the reason given
    people = records(result, "Lead") + records(result, "Contact")
    assert not [r for r in people if r.get("Email") == "milton.w@gmail.com"]
    assert any(w.startswith("milton.w@gmail.com: a personal email address") for w in result.runs[0]["warnings"])
    assert "reason: No opportunity: the participants' Contacts have no opportunity; account Initech" in render(result)


def test_two_calls_with_the_same_new_person_create_one_contact(tmp_path: Path) -> None:
    # Given two different calls, delivered together, both with Sam (not in Salesforce) in different case
    first = write_event(tmp_path, "a", call_id="call-a")
    participants = load(DEMO_EVENT)["participants"]
    participants[-1] = {**participants[-1], "email": "SAM.LEE@globex.com"}
    second = write_event(tmp_path, "b", call_id="call-b", participants=participants)
    # When both run
    result = run([first, second])
    # Then both succeeded and there is exactly one Sam
    assert [r["status"] for r in result.runs] == ["SUCCEEDED", "SUCCEEDED"]
    sam = one(result, "Contact", Email="sam.lee@globex.com")
    # And the call that did not create Sam reused the same record
    contacts_steps = [e for e in result.ledger if e.get("sk") == "step#CreateContacts"]
    actions = sorted(c["action"] for e in contacts_steps for c in e["changes"])
    assert actions == ["created", "reused"]
    assert {c["id"] for e in contacts_steps for c in e["changes"]} == {sam["Id"]}


def test_a_role_only_on_an_old_closed_deal_still_finds_the_accounts_open_deal(tmp_path: Path) -> None:
    # Given Raj (on the call) whose only contact role is on last year's closed-lost pilot, and Globex's open
    # rollout deal with no role for anyone on the call (Jane is not on this call)
    from callsync_dev.runner import DEMO_ORG

    org = load(DEMO_ORG)
    org["records"]["OpportunityContactRole"] = [
        r for r in org["records"]["OpportunityContactRole"] if r["OpportunityId"] == "opp-globex-2025"
    ]
    event = load(DEMO_EVENT)
    event["participants"] = [p for p in event["participants"] if p["email"] != "jane.doe@globex.com"]
    # When the call runs
    result = run([write_event(tmp_path, "call", event)], org=org)
    # Then the call's Event is linked to the Account's open deal
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"]
    rollout = next(r for r in records(result, "Opportunity") if r["Name"].startswith("Globex - Sales call"))
    event_rows = [e for e in records(result, "Event") if "rollout scoping" in e["Subject"]]
    assert len(event_rows) == 1 and event_rows[0]["WhatId"] == rollout["Id"]
