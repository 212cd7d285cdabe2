"""SalesforceActivityStore.write on the strict emulator (outer allOrNone applies to collections, as in Salesforce)."""

from __future__ import annotations

import base64

import pytest
from callsync.adapters.salesforce_activity import SalesforceActivityStore
from callsync.ports.activity import RecordWrite, WritePlan

from tests.integration.activity.activity_stack import DEAL, GLOBEX, JANE, ORG, RAJ, org_fixture

pytestmark = pytest.mark.integration

MISSING_CONTACT = "003000000000009AAA"  # well-formed, points nowhere


def test_a_refused_relation_keeps_the_activity_note_links_and_follow_up(emulator_for, deps_for):
    # Given an org with Shared Activities
    emu = emulator_for(org_fixture())
    api = deps_for(emu).salesforce(ORG)
    store = SalesforceActivityStore(api)
    # When the call is written with one good relation and one to a contact that does not exist
    outcome = store.write(
        WritePlan(
            activity=RecordWrite(
                "Task",
                {
                    "Subject": "Call with Globex",
                    "WhoId": JANE,
                    "WhatId": DEAL,
                    "ActivityDate": "2026-11-20",
                    "Status": "Completed",
                },
            ),
            relations=[RAJ, MISSING_CONTACT],
            note=RecordWrite("ContentNote", {"Title": "Call notes", "Content": base64.b64encode(b"<p>n</p>").decode()}),
            note_links=[DEAL, GLOBEX],
            follow_ups=[RecordWrite("Task", {"Subject": "Send pricing", "ActivityDate": "2026-11-27"}, key="f1")],
        )
    )
    # Then everything but the bad relation is written, in one request
    assert api.api_requests == 1
    task_ids = {t["Id"] for t in emu.records("Task")}
    assert outcome.activity_id in task_ids and outcome.follow_ups["f1"].id in task_ids
    assert outcome.note_id in {n["Id"] for n in emu.records("ContentNote")}
    assert all(link.ok for link in outcome.note_links.values())
    assert outcome.relations[RAJ].ok and not outcome.relations[MISSING_CONTACT].ok
    related = {r["RelationId"] for r in emu.records("TaskRelation") if r["TaskId"] == outcome.activity_id}
    assert RAJ in related and MISSING_CONTACT not in related
