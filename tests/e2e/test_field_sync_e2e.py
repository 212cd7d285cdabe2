"""Field sync through `callsync run`: the template's state machine, handlers in-process, the emulator's dump."""

from __future__ import annotations

from typing import Any

import pytest
from callsync.domain.field_revisions import call_mark
from callsync_dev.runner import DEMO_EVENT, DEMO_ORG, DEMO_SETTINGS, RunResult, run

from tests.support.demo import load, records, write_event

pytestmark = pytest.mark.e2e

OPP_NAME = "Globex - Sales call automation (120 seats)"
REP_PAIN = "2026-05-12: Call notes never reach Salesforce; forecast calls rely on memory."
DEMO = f"[2026-06-03 #{call_mark(load(DEMO_EVENT)['call_id'])}]"  # the demo call's entry header
LATER = f"[2026-06-10 #{call_mark('zoom-9000')}]"  # the other call's


def org_fixture() -> dict[str, Any]:
    """The demo org plus a picklist, a hidden and a read-only field, and a Deal Review via-object."""
    org = load(DEMO_ORG)
    opp_fields = org["schema"]["Opportunity"]["fields"]
    opp_fields["Forecast__c"] = {"type": "picklist", "values": ["Hot", "Warm", "Cold"], "restricted": True}
    opp_fields["Secret__c"] = {"type": "textarea", "length": 1000}
    opp_fields["Locked__c"] = {"type": "string", "length": 80}
    org["schema"]["Deal_Review__c"] = {
        "custom": True,
        "fields": {
            "Opportunity__c": {"type": "reference", "referenceTo": ["Opportunity"]},
            "Decision_Process__c": {"type": "textarea", "length": 2000},
        },
    }
    org["hidden_fields"] = ["Opportunity.Secret__c"]
    org["read_only_fields"] = ["Opportunity.Locked__c"]
    return org


def settings() -> dict[str, Any]:
    body = load(DEMO_SETTINGS)
    body["field_sync"]["mappings"] += [
        {"insight": "forecast", "object": "Opportunity", "field": "Forecast__c"},
        {"insight": "pain", "object": "Opportunity", "field": "Secret__c"},
        {"insight": "pain", "object": "Opportunity", "field": "Locked__c"},
        {
            "insight": "decision_process",
            "object": "Deal_Review__c",
            "field": "Decision_Process__c",
            "via": "Opportunity__c",
        },
    ]
    return body


def field_event() -> dict[str, Any]:
    """The demo event with a picklist insight and a multi-select one (one value the org does not allow)."""
    event = load(DEMO_EVENT)
    event["insights"] = {**event["insights"], "forecast": "warm", "competition": ["chorus", "Nope"]}
    return event


def opportunity(result: RunResult) -> dict[str, Any]:
    return next(r for r in records(result, "Opportunity") if r["Name"] == OPP_NAME)


def sync_fields_entries(result: RunResult) -> list[dict[str, Any]]:
    return [e for e in result.ledger if e.get("sk") == "step#SyncFields"]


def test_a_call_lands_in_the_mapped_fields(tmp_path):
    # Given the demo org with extra mappings, and one call
    event = write_event(tmp_path, "call", field_event())
    # When `callsync run` processes it
    result = run([event], org=org_fixture(), settings=settings())
    # Then the run succeeds and the dump shows each policy's result
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"]
    opp = opportunity(result)
    assert opp["Pain__c"] == REP_PAIN + f"\n\n{DEMO} " + load(DEMO_EVENT)["insights"]["pain"]
    assert opp["Competitors__c"] == "Gong;Chorus"  # union, 'Nope' dropped
    assert opp["Forecast__c"] == "Warm"  # empty picklist filled, case-insensitive match
    assert opp["NextStep"] == load(DEMO_EVENT)["insights"]["next_step"]  # per-mapping overwrite
    assert opp["Amount"] == 86400  # not mapped, untouched
    assert opp.get("Locked__c") is None and opp.get("Secret__c") is None
    reviews = records(result, "Deal_Review__c")
    assert len(reviews) == 1 and reviews[0]["Opportunity__c"] == opp["Id"]
    assert reviews[0]["Decision_Process__c"].startswith(f"{DEMO} Security review")
    account = next(r for r in records(result, "Account") if r["Name"] == "Globex")
    assert account["Callsync_Link__c"] == "https://app.callsync.example/companies/globex"
    # And the ledger explains the skipped fields with the fix; the step spent the via-object's lookup
    # and the write (its cold describe came in MatchOpportunity's describe composite)
    (entry,) = sync_fields_entries(result)
    warnings = " ".join(entry["warnings"])
    assert "Opportunity.Secret__c" in warnings and "Opportunity.Locked__c" in warnings
    assert "Set Field-Level Security" in warnings
    assert entry["api_requests"] == 2
    changes = {c["object"]: c for c in entry["changes"]}
    assert changes["Deal_Review__c"]["action"] == "created"
    competitors = next(f for f in changes["Opportunity"]["fields"] if f["field"] == "Competitors__c")
    assert competitors["policy"] == "union" and "dropped 'Nope'" in competitors["note"]


def test_redelivery_and_replay_never_append_twice(tmp_path):
    # Given a call delivered twice
    first = write_event(tmp_path, "call", field_event())
    result = run([first, first], org=org_fixture(), settings=settings())
    assert [r["status"] for r in result.runs] == ["SUCCEEDED", "DUPLICATE"]
    # When the call is replayed later as revision 2 with the same insights, against the org as it is now
    replay = write_event(tmp_path, "call-r2", field_event(), revision=2)
    again = run([replay], org=result.org, settings=settings())
    # Then the replay finds its own entries and writes no field
    assert [r["status"] for r in again.runs] == ["SUCCEEDED"]
    opp = opportunity(again)
    assert opp["Pain__c"] == opportunity(result)["Pain__c"]
    assert opp["Pain__c"].count(load(DEMO_EVENT)["insights"]["pain"]) == 1
    assert opp["Competitors__c"] == "Gong;Chorus"
    assert len(records(again, "Deal_Review__c")) == 1
    (replay_entry,) = sync_fields_entries(again)
    assert all(c["action"] in {"unchanged", "skipped"} for c in replay_entry["changes"]), replay_entry["changes"]


def test_a_later_call_appends_after_the_earlier_entry(tmp_path):
    # Given a call synced, then a different call on the same deal a week later
    first = write_event(tmp_path, "call", field_event())
    later = write_event(
        tmp_path,
        "later",
        field_event(),
        call_id="zoom-9000",
        started_at="2026-06-10T15:00:00Z",
        insights={"pain": "Managers still rebuild the forecast by hand.", "forecast": "Hot"},
    )
    result = run([first], org=org_fixture(), settings=settings())
    # When the later call runs against the org as the first left it
    again = run([later], org=result.org, settings=settings())
    # Then the text field holds both entries in order, and the picklist kept the first value
    assert [r["status"] for r in again.runs] == ["SUCCEEDED"]
    opp = opportunity(again)
    assert opp["Pain__c"] == opportunity(result)["Pain__c"] + (
        f"\n\n{LATER} Managers still rebuild the forecast by hand."
    )
    assert opp["Forecast__c"] == "Warm"
    # And SyncFields spent two requests: the via-object lookup and the write
    (entry,) = sync_fields_entries(again)
    assert entry["api_requests"] <= 3  # + the via-object's describe: a new run starts with an empty cache


def test_two_calls_on_one_deal_at_once_keep_both_entries(tmp_path):
    # Given two different calls on the same deal delivered together (processed concurrently)
    first = write_event(tmp_path, "call", field_event())
    other = write_event(
        tmp_path,
        "other",
        field_event(),
        call_id="zoom-9000",
        started_at="2026-06-10T15:00:00Z",
        insights={
            "pain": "Managers still rebuild the forecast by hand.",
            "decision_process": "CFO signs after the pilot",
        },
    )
    # When both run
    result = run([first, other], org=org_fixture(), settings=settings())
    # Then neither call's entry overwrote the other's, and only one Deal Review exists
    assert [r["status"] for r in result.runs] == ["SUCCEEDED", "SUCCEEDED"]
    pain = opportunity(result)["Pain__c"]
    assert pain.startswith(REP_PAIN + "\n\n")
    assert pain.count(f"{DEMO} Reps spend about 5 hours") == 1
    assert pain.count(f"{LATER} Managers still rebuild the forecast by hand.") == 1
    (review,) = records(result, "Deal_Review__c")
    assert f"{DEMO} Security review" in review["Decision_Process__c"]
    assert f"{LATER} CFO signs after the pilot" in review["Decision_Process__c"]
