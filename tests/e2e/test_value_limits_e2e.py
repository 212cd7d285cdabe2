"""Values Salesforce would refuse are never sent, through `callsync run`.

- A currency(18,2) field holds 16 digits before the decimal point: precision is the total number of
  digits, scale those right of the point (Salesforce Field Reference, "Precision" and "Scale").
  1e30 is dropped before sending, with the ledger saying why.
- NaN and Infinity are not JSON (RFC 8259 has no such numbers; Python's json reads them): a message
  carrying one as an insight is REJECTED with the insight named, before any execution starts.
"""

from __future__ import annotations

from typing import Any

import pytest
from callsync_dev.runner import DEMO_EVENT, DEMO_ORG, DEMO_SETTINGS, run

from tests.support.demo import load, records, write_event

pytestmark = pytest.mark.e2e

OPP_NAME = "Globex - Sales call automation (120 seats)"


def org_with_number_fields() -> dict[str, Any]:
    org = load(DEMO_ORG)
    org["schema"]["Opportunity"]["fields"].update(
        {
            "Budget__c": {"type": "currency", "precision": 18, "scale": 2},
            "Seats__c": {"type": "double", "precision": 18, "scale": 0},
        }
    )
    return org


def settings_with_number_mappings() -> dict[str, Any]:
    body = load(DEMO_SETTINGS)
    body["field_sync"]["mappings"] += [
        {"insight": "budget", "object": "Opportunity", "field": "Budget__c"},
        {"insight": "seats", "object": "Opportunity", "field": "Seats__c"},
    ]
    return body


def test_a_number_beyond_the_fields_precision_is_dropped_with_the_reason(tmp_path):
    # Given a call whose budget insight is 1e30 (31 digits) for a currency(18,2) field, and a valid seat count
    event = load(DEMO_EVENT)
    event["insights"] = {**event["insights"], "budget": 1e30, "seats": 120}
    path = write_event(tmp_path, "call", event)
    # When `callsync run` processes it
    result = run([path], org=org_with_number_fields(), settings=settings_with_number_mappings())
    # Then the call succeeds: the valid number is written, the out-of-range one never reached Salesforce
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"]
    opp = next(r for r in records(result, "Opportunity") if r["Name"] == OPP_NAME)
    assert opp["Seats__c"] == 120
    assert opp.get("Budget__c") is None
    # And the ledger's field change says why
    (entry,) = [e for e in result.ledger if e.get("sk") == "step#SyncFields"]
    changes = [f for c in entry["changes"] for f in c["fields"] if f["field"] == "Budget__c"]
    assert changes, entry["changes"]
    assert "out of range for this field (16 digit(s) before the decimal point)" in changes[0]["note"]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")], ids=["NaN", "Infinity"])
def test_a_message_with_a_non_finite_insight_is_rejected_naming_it(tmp_path, bad):
    # Given a message whose body carries NaN/Infinity (json.dumps writes them; they are not JSON)
    event = load(DEMO_EVENT)
    event["insights"] = {**event["insights"], "budget": bad}
    path = write_event(tmp_path, "call", event)
    # When it is delivered
    result = run([path], settings=settings_with_number_mappings())
    # Then it is REJECTED with the insight named, sent to the DLQ, and nothing was written
    (outcome,) = result.runs
    assert outcome["status"] == "REJECTED"
    assert "insights" in outcome["error"] and "not a finite number" in outcome["error"]
    assert "budget" in outcome["error"]
    assert len(result.dlq) == 1
    assert result.api_requests == 0
