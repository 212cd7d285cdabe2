"""The ledger of `callsync run` shows a reused calendar Event's fields as before → after."""

from __future__ import annotations

import json
from typing import Any

import pytest
from callsync_dev.runner import DEMO_EVENT, DEMO_ORG, run

pytestmark = pytest.mark.e2e

TITLE = "Globex x Acme - rollout scoping"


def test_calendar_invite_description_shows_before_and_unchanged_fields_are_not_listed() -> None:
    # Given a calendar Event for the demo call, with its own description, already related to Jane and the deal
    org = json.loads(DEMO_ORG.read_text(encoding="utf-8"))
    org["records"]["Event"] = [
        {
            "Id": "ev-calendar",
            "Subject": TITLE,
            "StartDateTime": "2026-06-03T15:00:00Z",
            "EndDateTime": "2026-06-03T16:00:00Z",
            "WhatId": "opp-globex-rollout",
            "WhoId": "contact-jane",
            "OwnerId": "user-alice",
            "Description": "Calendar invite",
        }
    ]
    # When the demo call runs
    result = run([DEMO_EVENT], org=org, retry_wait_scale=0.01)
    # Then the ledger lists the Event's Description as "Calendar invite" → the summary
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"]
    entry = next(e for e in result.ledger if e.get("sk") == "step#LogActivity")
    change: dict[str, Any] = next(c for c in entry["changes"] if c["object"] == "Event")
    fields = {f["field"]: f for f in change["fields"]}
    assert change["action"] == "updated" and fields["Description"]["before"] == "Calendar invite"
    assert "Globex wants every sales call" in fields["Description"]["after"]
    # And the related records it already had are not listed as changes
    assert "WhoId" not in fields and "WhatId" not in fields
