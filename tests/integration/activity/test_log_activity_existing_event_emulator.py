"""LogActivity onto an Event that already exists in the org (emulator over HTTPS, moto's ledger)."""

from __future__ import annotations

from typing import Any

import pytest
from activity_stack import DEAL, JANE, org_fixture
from test_log_activity_emulator import live, state

from functions.log_activity.app import handler
from tests.support.lambdas import latest_report

pytestmark = pytest.mark.integration

CANDIDATES = (
    "SELECT Id, Subject, ActivityDate, WhoId, WhatId, OwnerId, Type, Description, StartDateTime, "
    "EndDateTime, DurationInMinutes, (SELECT RelationId FROM EventRelations) FROM Event"
)


def calendar_org(attendees: int) -> dict[str, Any]:
    """The org with a calendar Event for the call: Jane as WhoId and ``attendees`` other contacts attached."""
    org = org_fixture(
        events=[
            {
                "Id": "ev-calendar",
                "Subject": 'Globex "weekly" <b>sync</b>',
                "StartDateTime": "2026-11-20T15:00:00Z",
                "EndDateTime": "2026-11-20T15:30:00Z",
                "WhoId": JANE,
                "WhatId": DEAL,
                "Description": "Calendar invite",
            }
        ]
    )
    records = org["records"]
    records["Contact"] += [
        {"Id": f"att-{i}", "LastName": f"Attendee {i}", "Email": f"att{i}@globex.com"} for i in range(attendees)
    ]
    records["EventRelation"] = [
        {"EventId": "ev-calendar", "RelationId": f"att-{i}", "IsParent": True, "IsInvitee": True}
        for i in range(attendees)
    ]
    return org


def read_ahead(deps: Any) -> list[dict[str, Any]]:
    """The candidate rows as the match step reads them (with their relations: Shared Activities on)."""
    api = deps.salesforce("acme")
    return [{k: v for k, v in r.items() if k != "attributes"} for r in api.query(CANDIDATES)]


def test_event_holding_50_contacts_gets_no_relation_and_the_rest_are_unlinked(emulator_for, deps_for, lambda_context):
    # Given a calendar Event already holding 50 contacts (Jane as WhoId + 49 attendees), read ahead by the match
    emu = emulator_for(calendar_org(attendees=49))
    deps = deps_for(emu)
    candidates = read_ahead(deps)
    # When the call (Jane, Raj, Sam) is logged
    result = handler(state(candidates=candidates), lambda_context, deps=deps)
    # Then the Event is reused, no relation is refused (none was sent), Raj and Sam are reported unlinked
    event = live(emu, "Event")[0]
    assert result["activity_id"] == event["Id"] and result["action"] == "updated"
    changes = latest_report(deps.ledger, "LogActivity")["changes"]
    assert not [c for c in changes if c["action"] == "failed"], changes
    assert sorted(result["unlinked_contacts"]) == ["raj@globex.com", "sam@globex.com"]
    contacts = [r for r in live(emu, "EventRelation") if r["EventId"] == event["Id"] and not r.get("IsWhat")]
    assert len(contacts) == 50


def test_call_matching_no_record_writes_no_orphan_note(emulator_for, deps_for, lambda_context):
    # Given a call for which the match step found no Opportunity, Account or Contact (notes sync on)
    emu = emulator_for(org_fixture())
    deps = deps_for(emu)
    body = state(candidates=[])
    body["match"].update(opportunity=None, account=None, primary_contact=None, contacts=[])
    # When LogActivity runs
    result = handler(body, lambda_context, deps=deps)
    # Then the Event and follow-ups are logged, no ContentNote exists, and the report says why
    assert live(emu, "ContentNote") == [] and result["note_id"] is None
    assert len(live(emu, "Event")) == 1 and result["action"] == "created"
    assert any("no record to attach the note to" in w for w in latest_report(deps.ledger, "LogActivity")["warnings"])
