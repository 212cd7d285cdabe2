"""Activity values Salesforce would refuse, through `callsync run`: long calls and a hidden Type."""

from __future__ import annotations

import pytest
from callsync_dev.runner import DEMO_EVENT, DEMO_ORG, run

from tests.support.demo import live, load, write_event

pytestmark = pytest.mark.e2e


def log_activity_entry(result):
    (entry,) = [e for e in result.ledger if e.get("sk") == "step#LogActivity"]
    return entry


def test_a_30_day_call_is_logged_as_a_14_day_event_with_a_warning(tmp_path):
    """Salesforce refuses a non-all-day Event longer than 14 days (DurationInMinutes ≤ 20,160) with
    FIELD_INTEGRITY_EXCEPTION (Object Reference, Event; salesforce-rest.md), as the emulator does."""
    # Given a video call (logged as an Event) whose duration_seconds is 30 days
    event = write_event(tmp_path, "call", duration_seconds=30 * 86400)
    # When `callsync run` processes it
    result = run([event])
    # Then the call succeeds and the Event lasts exactly 14 days from the call's start
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"], result.runs
    (logged,) = live(result, "Event")
    assert logged["DurationInMinutes"] == 20160
    assert logged["StartDateTime"].startswith("2026-06-03T15:00:00")
    assert logged["EndDateTime"].startswith("2026-06-17T15:00:00")
    # And the report says the Event was shortened, and how long the call was
    warnings = " ".join(log_activity_entry(result)["warnings"])
    assert "43,200 minutes (30.0 days)" in warnings and "limits an Event to 14 days" in warnings


@pytest.mark.parametrize(("medium", "kind"), [("video", "Event"), ("telephony", "Task")])
def test_a_hidden_type_field_never_enters_a_select(tmp_path, medium, kind):
    # Given an org where the activity's Type is hidden from the integration user (INVALID_FIELD in SOQL)
    org = load(DEMO_ORG)
    org["hidden_fields"] = [*org.get("hidden_fields", []), f"{kind}.Type"]
    first = write_event(tmp_path, "call", medium=medium)
    # When the call runs, and is then replayed as revision 2 against the org it left (a dedupe lookup)
    result = run([first], org=org)
    replay = write_event(tmp_path, "call-r2", load(DEMO_EVENT), medium=medium, revision=2)
    again = run([replay], org={**result.org, "hidden_fields": org["hidden_fields"]})
    # Then both succeed and the call is one activity, logged without a Type
    assert [r["status"] for r in result.runs + again.runs] == ["SUCCEEDED", "SUCCEEDED"], result.runs + again.runs
    (logged,) = [r for r in live(again, kind) if "rollout scoping" in (r.get("Subject") or "")]
    assert logged.get("Type") is None
    # And the report says why Type was left blank, with the fix
    assert any(f"{kind}.Type is not visible" in w for w in log_activity_entry(again)["warnings"])
