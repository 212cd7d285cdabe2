"""Reverts and re-associations racing new calls on one deal, through the real pipe: the result is the same
whatever the order.

Six calls are synced on one Opportunity (``bench.concurrency``'s calls: each appends its own dated entry to
an Opportunity field, the primary Contact's field and a Deal Review via-record, and brings the same new
person). Then, in the same local environment, some of them are reverted (or moved to another Opportunity)
from several threads while four new calls on the same deal are delivered together. The control plane and
field writes hold the same record leases; a revert takes out only its call's entries (docs/operations.md,
"Revert a call"). The final state of Salesforce is asserted exactly.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from callsync.errors import RetryableError
from callsync.services.revert import RevertResult
from callsync_dev.control_plane import pipeline_starter
from callsync_dev.localstack import LocalStack
from callsync_dev.runner import read_events, run

from bench.concurrency import NEW_PERSON, OPPORTUNITY, PRIMARY, call_event, org_fixture, settings_fixture
from tests.support.demo import live_records, state_org, write_event
from tests.support.races import inject_faults, while_delivering

pytestmark = pytest.mark.e2e

ORG_ID = "acme"
SYNCED, NEW = range(6), range(6, 10)
REVERTED = range(3)
REFUSED = "Salesforce refused the revert"
ATTEMPTS = 10


def text_settings() -> dict[str, Any]:
    """The benchmark's mappings without the multi-select: every target is a text field with marked entries."""
    settings = settings_fixture()
    mappings = settings["field_sync"]["mappings"]
    settings["field_sync"]["mappings"] = [m for m in mappings if m["insight"] != "competition"]
    return settings


def synced_environment(tmp_path: Path) -> Path:
    """Calls 0-5 synced on the deal into a local environment."""
    state = tmp_path / "state"
    events = [write_event(tmp_path, f"c{i}", call_event(i)) for i in SYNCED]
    first = run(events, org=org_fixture(len(SYNCED) + len(NEW)), settings=text_settings(), state=state)
    assert [r["status"] for r in first.runs] == ["SUCCEEDED"] * len(SYNCED), first.runs
    return state


def revert_until_settled(stack: LocalStack, call_id: str, results: dict[str, RevertResult]) -> None:
    """An operator's revert, run again while Salesforce refuses part of it or a call holds its records."""
    service = stack.function("MatchOpportunityFunction").dependencies().revert_service(ORG_ID)
    for _ in range(ATTEMPTS):
        try:
            result = service.run(ORG_ID, call_id)
        except RetryableError:
            continue
        if not any(c.note and c.note.startswith(REFUSED) for c in result.changes):
            results[call_id] = result
            return


def revert_while_new_calls_sync(tmp_path: Path, state: Path) -> tuple[list[dict[str, Any]], dict[str, RevertResult]]:
    new_calls = read_events([write_event(tmp_path, f"c{i}", call_event(i)) for i in NEW])
    results: dict[str, RevertResult] = {}
    reverts = [partial(revert_until_settled, call_id=call_event(i)["call_id"], results=results) for i in REVERTED]
    return while_delivering(state, new_calls, reverts).runs, results


def assert_only_the_kept_calls_remain(org: dict[str, Any]) -> None:
    opportunity = next(r for r in live_records(org, "Opportunity") if r["Name"] == OPPORTUNITY)
    contact = next(r for r in live_records(org, "Contact") if r.get("Email") == PRIMARY)
    (review,) = live_records(org, "Deal_Review__c")
    subjects = [e["Subject"] for e in live_records(org, "Event")]
    for i in [*SYNCED, *NEW]:
        expected = 0 if i in REVERTED else 1
        counts = {
            "Pain__c": str(opportunity["Pain__c"]).count(f"Pain from call {i}."),
            "Champion_Notes__c": str(contact["Champion_Notes__c"]).count(f"Champion note {i}."),
            "Decision_Process__c": str(review["Decision_Process__c"]).count(f"Decision step {i}."),
            "Event": sum(s.endswith(f"Globex sync #{i}") for s in subjects),
        }
        assert counts == dict.fromkeys(counts, expected), (i, counts)
    # And the new person every call brought is one Contact, kept for the activities that stay
    assert [c.get("Email") for c in live_records(org, "Contact")].count(NEW_PERSON) == 1
    # And what was on the deal before any call stays first, byte for byte
    seeded = next(r for r in org_fixture(0)["records"]["Opportunity"] if r["Name"] == OPPORTUNITY)
    assert str(opportunity["Pain__c"]).startswith(seeded["Pain__c"] + "\n\n[")


def test_reverts_racing_new_calls_on_one_deal_leave_exactly_the_other_calls(tmp_path: Path) -> None:
    # Given six calls synced on one deal
    state = synced_environment(tmp_path)
    # When three of them are reverted from three threads while four new calls on the deal are delivered together
    runs, results = revert_while_new_calls_sync(tmp_path, state)
    # Then every new call succeeded and every revert settled
    assert [r["status"] for r in runs] == ["SUCCEEDED"] * len(NEW), runs
    assert sorted(results) == sorted(call_event(i)["call_id"] for i in REVERTED)
    # And Salesforce holds exactly the entries and activities of the calls not reverted, each once
    assert_only_the_kept_calls_remain(state_org(state))


def test_reverts_racing_new_calls_under_row_locks_and_outages_leave_exactly_the_other_calls(tmp_path: Path) -> None:
    # Given six calls synced on one deal, then Salesforce refusing writes for a while: row locks on updates,
    # an outage on creates and failed composite requests (the reverts' reads and writes among them)
    state = synced_environment(tmp_path)
    inject_faults(state)
    # When three calls are reverted while four new calls are delivered
    runs, results = revert_while_new_calls_sync(tmp_path, state)
    # Then every new call still succeeded, every revert settled once run again, and the state is exact
    assert [r["status"] for r in runs] == ["SUCCEEDED"] * len(NEW), runs
    assert sorted(results) == sorted(call_event(i)["call_id"] for i in REVERTED)
    assert_only_the_kept_calls_remain(state_org(state))


PILOT = "Globex - Pilot 2025"
MOVED = range(2)


def move_and_wait(stack: LocalStack, call_id: str, pilot_id: str, ended: dict[str, str]) -> None:
    """An operator's ``callsync reassociate --opportunity`` (run again while Salesforce or a lease says
    later), then the wait for the call's run on the new deal."""
    deps = stack.function("MatchOpportunityFunction").dependencies()
    executions, consumer = pipeline_starter(deps, stack.table("SettingsTable"), stack)
    for _ in range(ATTEMPTS):
        try:
            result = deps.reassociate_service(ORG_ID, executions, consumer).run(
                ORG_ID, call_id, "Opportunity", pilot_id
            )
        except RetryableError:
            continue
        if result.execution_arn is None:
            ended[call_id] = result.status
            return
        sfn = stack.client("stepfunctions")
        while (status := sfn.describe_execution(executionArn=result.execution_arn)["status"]) == "RUNNING":
            time.sleep(0.05)
        ended[call_id] = str(status)
        return


@pytest.mark.parametrize("faults", [False, True], ids=["quiet", "row-locks-and-outages"])
def test_moves_racing_new_calls_on_one_deal_put_each_call_on_exactly_one_deal(tmp_path: Path, faults: bool) -> None:
    # Given six calls synced on the rollout deal, and the 2025 pilot deal of the same Account
    # (and, in one variant, Salesforce refusing writes for a while from now on)
    state = synced_environment(tmp_path)
    if faults:
        inject_faults(state)
    pilot_id = next(r["Id"] for r in live_records(state_org(state), "Opportunity") if r["Name"] == PILOT)
    new_calls = read_events([write_event(tmp_path, f"c{i}", call_event(i)) for i in NEW])
    ended: dict[str, str] = {}
    # When two of them are moved to the pilot from two threads while four new calls on the rollout are delivered
    moves = [partial(move_and_wait, call_id=call_event(i)["call_id"], pilot_id=pilot_id, ended=ended) for i in MOVED]
    delivered = while_delivering(state, new_calls, moves)
    # Then every new call and every moved call's run on the pilot succeeded
    assert [r["status"] for r in delivered.runs] == ["SUCCEEDED"] * len(NEW), delivered.runs
    assert ended == {call_event(i)["call_id"]: "SUCCEEDED" for i in MOVED}
    # And each call's entries are on exactly one deal (and its Deal Review), once; the Contact keeps them all
    org = state_org(state)
    deals = {r["Name"]: r for r in live_records(org, "Opportunity")}
    reviews = {r["Opportunity__c"]: r for r in live_records(org, "Deal_Review__c")}
    assert len(reviews) == len(live_records(org, "Deal_Review__c")) == 2
    contact = next(r for r in live_records(org, "Contact") if r.get("Email") == PRIMARY)
    events = {e["Subject"]: e for e in live_records(org, "Event")}
    for i in [*SYNCED, *NEW]:
        home, away = (PILOT, OPPORTUNITY) if i in MOVED else (OPPORTUNITY, PILOT)
        counts = {
            "home Pain__c": str(deals[home]["Pain__c"]).count(f"Pain from call {i}."),
            "away Pain__c": str(deals[away]["Pain__c"]).count(f"Pain from call {i}."),
            "home review": str(reviews[deals[home]["Id"]]["Decision_Process__c"]).count(f"Decision step {i}."),
            "away review": str(reviews[deals[away]["Id"]]["Decision_Process__c"]).count(f"Decision step {i}."),
            "Champion_Notes__c": str(contact["Champion_Notes__c"]).count(f"Champion note {i}."),
            "Event": sum(s.endswith(f"Globex sync #{i}") for s in events),
        }
        assert counts == {"home Pain__c": 1, "away Pain__c": 0, "home review": 1, "away review": 0,
                          "Champion_Notes__c": 1, "Event": 1}, (i, counts)  # fmt: skip
        (event,) = [e for s, e in events.items() if s.endswith(f"Globex sync #{i}")]
        assert event["WhatId"] == deals[home]["Id"], (i, event["WhatId"])
