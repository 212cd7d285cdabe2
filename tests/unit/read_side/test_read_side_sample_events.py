"""The sample events in events/ stay valid for the models they document (sam local invoke -e uses them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from callsync.models.read_side import DealClosed, DealContext, DealContextRequest

EVENTS = Path(__file__).resolve().parents[3] / "events"


@pytest.mark.parametrize("name", ["crm_context_request.json", "crm_context_request_given_ids.json"])
def test_context_requests_validate(name: str):
    request = DealContextRequest.model_validate(json.loads((EVENTS / name).read_text()))
    assert request.org_id == "acme" and request.participants


def test_context_response_sample_is_a_deal_context():
    context = DealContext.model_validate(json.loads((EVENTS / "crm_context_response.json").read_text()))
    assert context.opportunity is not None and context.emails and context.fields


def test_deal_closed_sample_is_what_the_bus_delivers():
    event = json.loads((EVENTS / "watch_closed_deals_deal_closed.json").read_text())
    assert (event["source"], event["detail-type"]) == ("callsync", "deal.closed")
    detail = DealClosed.model_validate(event["detail"])
    assert detail.close_id == f"{detail.org_id}#{detail.opportunity.id}#{detail.generation}"


def test_watch_events_are_a_schedule_and_a_manual_run():
    schedule = json.loads((EVENTS / "watch_closed_deals_schedule.json").read_text())
    manual = json.loads((EVENTS / "watch_closed_deals_one_org.json").read_text())
    assert schedule["detail-type"] == "Scheduled Event" and manual["org_ids"] == ["acme"]


def test_the_per_org_watch_sample_names_one_org():
    event = json.loads((EVENTS / "watch_org_deals.json").read_text())
    assert event == {"org_id": "acme"}
