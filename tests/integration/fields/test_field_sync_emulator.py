"""SyncFields through its real adapters: the emulator over HTTPS, describes cached in moto DynamoDB."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from callsync.adapters.salesforce_fields import SalesforceFieldStore
from callsync.composition import Dependencies
from callsync.domain.field_revisions import call_mark
from callsync.domain.person_edits import last_modified_of
from callsync.errors import SalesforceUnavailable
from callsync.models.fields import FieldSyncResult, LastModified
from callsync.models.match import AccountInfo, MatchResult, OpportunityInfo, Person
from callsync.models.state import SyncState
from callsync.services.sync_fields import SyncFields
from callsync_dev.emulator import Emulator
from callsync_dev.emulator.limits import FaultInjector

from tests.support.lambdas import lambda_context, load_function
from tests.support.stack import StartEmulator, WireDependencies

pytestmark = pytest.mark.integration

ORG = "acme"
OPP, ACC, CON = "006000000000001AAA", "001000000000001AAA", "003000000000001AAA"

FIXTURE: dict[str, Any] = {
    "schema": {
        "Opportunity": {
            "fields": {
                "Pain__c": {"type": "textarea", "length": 32768},
                "Competitors__c": {"type": "multipicklist", "values": ["Gong", "Chorus", "Clari"], "restricted": True},
                "Forecast__c": {"type": "picklist", "values": ["Hot", "Warm", "Cold"], "restricted": True},
                "Secret__c": {"type": "string", "length": 80},
                "Locked__c": {"type": "string", "length": 80},
            }
        },
        "Account": {"fields": {"Airspeed_Link__c": {"type": "url", "length": 255}}},
        "Contact": {"fields": {"Champion_Notes__c": {"type": "textarea", "length": 32768}}},
        "Deal_Review__c": {
            "custom": True,
            "fields": {
                "Opportunity__c": {"type": "reference", "referenceTo": ["Opportunity"]},
                "Metrics__c": {"type": "textarea", "length": 1000},
            },
        },
    },
    "hidden_fields": ["Opportunity.Secret__c"],
    "read_only_fields": ["Opportunity.Locked__c"],
    "records": {
        "User": [{"Id": "005000000000001AAA", "Name": "Alice Rep", "Email": "alice@ourco.com", "IsActive": True}],
        "Account": [{"Id": ACC, "Name": "Globex", "Website": "https://globex.com"}],
        "Contact": [{"Id": CON, "LastName": "Doe", "FirstName": "Ann", "Email": "ann@globex.com", "AccountId": ACC}],
        "Opportunity": [
            {
                "Id": OPP,
                "Name": "Globex rollout",
                "AccountId": ACC,
                "StageName": "Qualification",
                "CloseDate": "2026-12-31",
                "Amount": 10000,
                "Pain__c": "Rep: month-end is slow",
                "Competitors__c": "Clari",
            }
        ],
    },
}

MAPPINGS = [
    {"insight": "pain", "object": "Opportunity", "field": "Pain__c"},
    {"insight": "budget", "object": "Opportunity", "field": "Amount"},
    {"insight": "competitors", "object": "Opportunity", "field": "Competitors__c"},
    {"insight": "forecast", "object": "Opportunity", "field": "Forecast__c"},
    {"insight": "pain", "object": "Opportunity", "field": "Secret__c"},
    {"insight": "pain", "object": "Opportunity", "field": "Locked__c"},
    {"insight": "champion", "object": "Contact", "field": "Champion_Notes__c"},
    {"insight": "metrics", "object": "Deal_Review__c", "field": "Metrics__c", "via": "Opportunity__c"},
]

ENTRY = f"[2026-11-20 #{call_mark('c1')}]"  # the header of call c1's text entries


@pytest.fixture
def emulator(emulator_for: StartEmulator) -> Emulator:
    return emulator_for(FIXTURE)


@pytest.fixture
def new_process(deps_for: WireDependencies, emulator: Emulator) -> Callable[[], Dependencies]:
    """A factory of Dependencies, one per simulated Lambda process, wired to the emulator."""
    return partial(deps_for, emulator)


def sync_state(
    current_values: dict[str, dict[str, Any]] | None = None,
    last_modified: dict[str, LastModified] | None = None,
    **call: Any,
) -> SyncState:
    body = {
        "schema_version": 1,
        "org_id": ORG,
        "call_id": "c1",
        "title": "Globex discovery",
        "started_at": "2026-11-20T15:00:00Z",
        "duration_seconds": 1800,
        "medium": "video",
        "host_email": "alice@ourco.com",
        "participants": [{"email": "alice@ourco.com"}, {"email": "ann@globex.com"}],
        "summary": "s",
        "call_url": "https://app.example.com/calls/c1",
        "company": {"name": "Globex", "url": "https://app.example.com/companies/globex"},
        "insights": {
            "pain": "Reporting takes two days",
            "budget": "$50k",
            "competitors": ["gong", "Nope"],
            "forecast": "HOT",
            "champion": "Ann pushes for it",
            "metrics": "Cut reporting to 1 hour",
        },
        **call,
    }
    match = MatchResult(
        opportunity=OpportunityInfo(id=OPP, name="Globex rollout", account_id=ACC),
        account=AccountInfo(id=ACC, name="Globex"),
        primary_contact=Person(email="ann@globex.com", object="Contact", id=CON, account_id=ACC),
        current_values=current_values or {},
        last_modified=last_modified or {},
    )
    settings = {
        "org_id": ORG,
        "internal_domains": ["ourco.com"],
        "account_link_field": "Airspeed_Link__c",
        "field_sync": {"enabled": True, "mappings": MAPPINGS},
    }
    return SyncState.model_validate({"call": body, "settings": settings, "match": match.model_dump(mode="json")})


def records(emu: Emulator, object_name: str) -> list[dict[str, Any]]:
    return emu.dump()["records"].get(object_name, [])


def one(emu: Emulator, object_name: str, record_id: str) -> dict[str, Any]:
    return next(r for r in records(emu, object_name) if r["Id"] == record_id)


def run_step(deps: Dependencies, state: SyncState) -> FieldSyncResult:
    api = deps.salesforce(ORG)
    return SyncFields(SalesforceFieldStore(api), deps.describes(ORG, api), deps.ledger).run(state)


def test_cold_call_writes_the_right_values_and_a_retry_writes_nothing(emulator, new_process):
    # Given a cold process (no cached describes) and no values read ahead by the match step
    deps = new_process()
    # When SyncFields runs
    result = run_step(deps, sync_state())
    # Then the emulator holds the policy results
    opp = one(emulator, "Opportunity", OPP)
    assert opp["Pain__c"] == f"Rep: month-end is slow\n\n{ENTRY} Reporting takes two days"
    assert opp["Amount"] == 10000  # number kept
    assert opp["Competitors__c"] == "Clari;Gong"  # union; invalid value dropped
    assert opp["Forecast__c"] == "Hot"
    assert opp.get("Locked__c") is None
    assert one(emulator, "Contact", CON)["Champion_Notes__c"] == f"{ENTRY} Ann pushes for it"
    assert one(emulator, "Account", ACC)["Airspeed_Link__c"] == "https://app.example.com/companies/globex"
    reviews = records(emulator, "Deal_Review__c")
    assert len(reviews) == 1 and reviews[0]["Opportunity__c"] == OPP
    assert reviews[0]["Metrics__c"] == f"{ENTRY} Cut reporting to 1 hour"
    # And hidden/read-only fields are reported with the fix; describes + one read + one write were spent
    warnings = " ".join(result.report.warnings)
    assert "Opportunity.Secret__c" in warnings and "Opportunity.Locked__c" in warnings
    assert (result.records_updated, result.records_created, result.records_failed) == (3, 1, 0)
    assert result.report.api_requests == emulator.api_requests == 3  # describes, read, write

    # When the step is retried with the same input in a new process (describes now in DynamoDB)
    emulator.reset_api_requests()
    again = run_step(new_process(), sync_state())
    # Then nothing was appended twice, nothing was created twice, and only the re-read was spent
    assert one(emulator, "Opportunity", OPP)["Pain__c"].count("Reporting takes two days") == 1
    assert len(records(emulator, "Deal_Review__c")) == 1
    assert again.records_updated == again.records_created == 0
    assert emulator.api_requests == again.report.api_requests == 1


def test_warm_typical_call_uses_one_request(emulator, new_process):
    # Given describes cached by an earlier call and current values (and who last modified each record) read
    # ahead by the match step
    run_step(new_process(), sync_state(call_id="c0", insights={}))  # an earlier call: warms the describe cache
    current = {
        OPP: {
            k: one(emulator, "Opportunity", OPP).get(k)
            for k in ("Pain__c", "Amount", "Competitors__c", "Forecast__c", "Locked__c")
        },
        ACC: {"Airspeed_Link__c": one(emulator, "Account", ACC).get("Airspeed_Link__c")},
        CON: {"Champion_Notes__c": None},
    }
    rows = {OPP: "Opportunity", ACC: "Account", CON: "Contact"}
    modifiers = {i: last_modified_of(one(emulator, obj, i)) for i, obj in rows.items()}
    settings_without_via = [m for m in MAPPINGS if "via" not in m]
    state = sync_state(current, {i: m for i, m in modifiers.items() if m is not None})
    state = state.model_copy(
        update={
            "settings": state.settings.model_copy(
                update={
                    "field_sync": state.settings.field_sync.model_copy(
                        update={
                            "mappings": [
                                type(state.settings.field_sync.mappings[0]).model_validate(m)
                                for m in settings_without_via
                            ]
                        }
                    )
                }
            )
        }
    )
    emulator.reset_api_requests()
    # When SyncFields runs in a new process
    result = run_step(new_process(), state)
    # Then the whole step cost one request: the composite write
    assert emulator.api_requests == result.report.api_requests == 1
    assert one(emulator, "Opportunity", OPP)["Forecast__c"] == "Hot"


def test_a_5xx_on_the_write_raises_retryable_and_the_retry_completes(emulator, new_process):
    # Given Salesforce answers the third composite (describes, read, *write*) with a 503 once
    emulator.app.faults = FaultInjector(
        [
            {
                "method": "POST",
                "path": "composite$",
                "skip": 2,
                "times": 1,
                "status": 503,
                "errorCode": "SERVER_UNAVAILABLE",
                "message": "later",
            }
        ]
    )
    deps = new_process()
    # When SyncFields runs, Then it raises a retryable error and wrote nothing
    with pytest.raises(SalesforceUnavailable):
        run_step(deps, sync_state())
    assert records(emulator, "Deal_Review__c") == []
    # When retried, Then every value is written once
    run_step(deps, sync_state())
    assert one(emulator, "Opportunity", OPP)["Pain__c"].count("Reporting takes two days") == 1
    assert len(records(emulator, "Deal_Review__c")) == 1


def test_the_handler_returns_the_step_result(emulator, new_process):
    # Given the Lambda handler module, loaded the way the local stack loads it
    module = load_function("sync_fields")
    context = lambda_context("SyncFields")
    # When it is invoked with the state machine's input
    output = module.handler(sync_state().model_dump(mode="json"), context, deps=new_process())
    # Then it returns the FieldSyncResult as JSON and the ledger holds the same report
    result = FieldSyncResult.model_validate(output)
    assert result.records_updated == 3 and result.report.step == "SyncFields"
    assert one(emulator, "Opportunity", OPP)["Forecast__c"] == "Hot"
