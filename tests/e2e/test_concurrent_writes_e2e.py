"""Many calls on one deal at once, through `callsync run`: every call's contribution lands exactly once.

Ten to twelve different calls on the same Opportunity are delivered in one run, so their executions overlap
in every step. Each call appends its own dated text to an Opportunity field, a Contact field (the primary
contact) and a via-object (Deal_Review__c), adds its own value to a multi-select picklist, and brings the same
new person. The final state of Salesforce is asserted exactly: each call's entry present once, one Contact for
the new person, one Deal Review, one activity per call. The calls and the count are ``bench.concurrency``'s,
the same that ``make bench`` measures at 2, 8 and 32 calls.
"""

from __future__ import annotations

from typing import Any

import pytest
from callsync_dev.runner import RunResult, run

from bench.concurrency import NEW_PERSON, OPPORTUNITY, call_event, contributions, org_fixture, settings_fixture
from tests.support.demo import live, records, write_event

pytestmark = pytest.mark.e2e

CALLS = 12


def org_with(faults: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    org = org_fixture(CALLS)
    org["faults"] = faults or []
    return org


def assert_every_contribution_once(result: RunResult, calls: int) -> None:
    """The final text of every written field holds each call's entry exactly once; one Event per call."""
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"] * calls, [
        (r["call_id"], r["status"], r["error"]) for r in result.runs if r["status"] != "SUCCEEDED"
    ]
    assert contributions(result.org["records"], calls) == (0, 0)
    opp = next(r for r in records(result, "Opportunity") if r["Name"] == OPPORTUNITY)
    assert sorted(opp["Competitors__c"].split(";")) == sorted(["Gong", *(f"Vendor{i}" for i in range(calls))])
    assert [c["Email"] for c in live(result, "Contact")].count(NEW_PERSON) == 1
    subjects = [e["Subject"] for e in live(result, "Event")]
    for i in range(calls):
        assert sum(s.endswith(f"Globex sync #{i}") for s in subjects) == 1, (i, subjects)


def test_twelve_concurrent_calls_on_one_deal_keep_every_contribution(tmp_path):
    # Given twelve different calls on the same deal, each with its own text, picklist value and the same new person
    events = [write_event(tmp_path, f"c{i}", call_event(i)) for i in range(CALLS)]
    # When they are delivered together (their executions overlap in every step)
    result = run(events, org=org_with(), settings=settings_fixture())
    # Then every call's contribution is in Salesforce exactly once
    assert_every_contribution_once(result, CALLS)


def test_concurrent_calls_under_row_locks_and_outages_keep_every_contribution(tmp_path):
    # Given twelve calls on one deal, and Salesforce refusing writes for a while: row locks on the field
    # writes, a 6-request outage on the contact creation and 4 failed composite requests
    faults = [
        {
            "method": "PATCH",
            "path": "composite/sobjects",
            "skip": 2,
            "times": 4,
            "status": 400,
            "errorCode": "UNABLE_TO_LOCK_ROW",
            "message": "unable to obtain exclusive access to this record",
        },
        {
            "method": "POST",
            "path": "composite/sobjects",
            "skip": 0,
            "times": 6,
            "status": 503,
            "errorCode": "SERVER_UNAVAILABLE",
            "message": "try later",
        },
        {
            "method": "POST",
            "path": "composite$",
            "skip": 5,
            "times": 4,
            "status": 503,
            "errorCode": "SERVER_UNAVAILABLE",
            "message": "try later",
        },
    ]
    events = [write_event(tmp_path, f"c{i}", call_event(i)) for i in range(CALLS)]
    # When they are delivered together
    result = run(events, org=org_with(faults), settings=settings_fixture())
    # Then every call still succeeds and every contribution is in Salesforce exactly once
    assert_every_contribution_once(result, CALLS)


def test_a_person_salesforce_refuses_fails_no_call_and_holds_up_no_other_call(tmp_path):
    # Given a Contact field required by the org that no call fills: Salesforce refuses every create of the person
    org = org_with()
    org["schema"]["Contact"]["fields"]["Region__c"] = {"type": "string", "length": 40, "required": True}
    events = [write_event(tmp_path, f"c{i}", call_event(i)) for i in range(10)]
    # When ten calls with that person run together
    result = run(events, org=org, settings=settings_fixture())
    # Then every call succeeds: each reports the refusal, none waits on another's failed claim
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"] * 10, [(r["call_id"], r["error"]) for r in result.runs]
    assert NEW_PERSON not in [c.get("Email") for c in live(result, "Contact")]
    contacts_steps = [e for e in result.ledger if e.get("sk") == "step#CreateContacts"]
    assert len(contacts_steps) == 10
    for entry in contacts_steps:
        assert any(NEW_PERSON in w and "REQUIRED_FIELD_MISSING" in w for w in entry["warnings"]), entry["warnings"]
    # And every other contribution still landed once
    opp = next(r for r in records(result, "Opportunity") if r["Name"] == OPPORTUNITY)
    for i in range(10):
        assert opp["Pain__c"].count(f"Pain from call {i}.") == 1
