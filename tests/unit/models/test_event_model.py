"""call.processed v1 (INTERFACES.md §1): what is accepted, what is rejected and how it is explained."""

from __future__ import annotations

import json
from typing import Any

import pytest
from callsync.errors import InvalidEvent
from callsync.models.validation import parse_event


def valid_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "schema_version": 1,
        "org_id": "acme",
        "call_id": "c1",
        "title": "Globex - Discovery",
        "started_at": "2026-11-20T15:00:00Z",
        "duration_seconds": 1800,
        "medium": "video",
        "host_email": "alice@ourco.com",
        "participants": [{"email": "alice@ourco.com"}, {"email": "Jane@Globex.com", "name": "Jane Doe"}],
        "summary": "We talked.",
        "call_url": "https://app.example.com/calls/c1",
    }
    event.update(overrides)
    return event


def test_minimal_event_gets_defaults() -> None:
    # Given an event with only the required fields
    # When it is parsed
    call = parse_event(json.dumps(valid_event()))
    # Then optional fields take their documented defaults
    assert call.revision == 1
    assert call.key_points == [] and call.insights == {} and call.action_items == []
    assert call.call_key == "acme#c1#1"


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    # Given a producer that sends a field we do not know yet
    call = parse_event(
        json.dumps(valid_event(sentiment="positive", participants=[{"email": "a@ourco.com", "title": "AE"}]))
    )
    # Then the event still parses
    assert call.participants[0].email == "a@ourco.com"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"org_id": None}, "org_id"),
        ({"schema_version": 2}, "schema_version"),
        ({"revision": 0}, "revision"),
        ({"duration_seconds": -1}, "duration_seconds"),
        ({"duration_seconds": "60"}, "duration_seconds"),
        ({"medium": "fax"}, "medium"),
        ({"started_at": "2026-11-20T15:00:00"}, "started_at"),
        ({"participants": [{"name": "no email"}]}, "participants[0].email"),
        ({"call_url": "not a url"}, "call_url"),
        ({"insights": {"pain": {"nested": "object"}}}, "insights.pain"),
        ({"action_items": [{"text": "x", "due_date": "next week"}]}, "action_items[0].due_date"),
    ],
)
def test_invalid_event_is_rejected_naming_the_field(change: dict[str, Any], named: str) -> None:
    # Given an event with one wrong or missing field
    event = valid_event(**change)
    event = {k: v for k, v in event.items() if v is not None}
    # When it is parsed
    with pytest.raises(InvalidEvent) as caught:
        parse_event(json.dumps(event))
    # Then the error names that field
    assert named in str(caught.value)


def test_not_json_is_rejected_as_such() -> None:
    # When the body is not JSON, or JSON that is not an object / Then the reason says which
    with pytest.raises(InvalidEvent, match="body is not JSON"):
        parse_event(b"{not json")
    with pytest.raises(InvalidEvent, match="not a JSON object"):
        parse_event(b"[1, 2]")


def test_insight_values_may_be_text_numbers_or_lists() -> None:
    call = parse_event(json.dumps(valid_event(insights={"pain": "slow", "budget": 50000, "competitors": ["Gong"]})))
    assert call.insights == {"pain": "slow", "budget": 50000, "competitors": ["Gong"]}


def test_participant_emails_compare_case_insensitively() -> None:
    call = parse_event(json.dumps(valid_event()))
    assert call.participants[1].email_key == "jane@globex.com"


def test_private_and_crm_overrides_are_optional_with_defaults() -> None:
    # Given an event without the 1.1 fields
    call = parse_event(json.dumps(valid_event()))
    # Then the call is not private and has no manual association
    assert call.private is False and call.crm_overrides is None


def test_private_and_crm_overrides_are_read() -> None:
    # Given a private event with a manual association to an Opportunity and an Account
    overrides = {"opportunity_id": "006000000000001AAA", "account_id": "001000000000001"}
    call = parse_event(json.dumps(valid_event(private=True, crm_overrides=overrides)))
    # Then both are read as given
    assert call.private is True
    assert call.crm_overrides is not None
    assert call.crm_overrides.opportunity_id == "006000000000001AAA"
    assert call.crm_overrides.account_id == "001000000000001"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"private": "yes"}, "private"),
        ({"private": 1}, "private"),
        ({"crm_overrides": {"opportunity_id": "001000000000001AAA"}}, "Opportunity id"),
        ({"crm_overrides": {"account_id": "006000000000001"}}, "Account id"),
        ({"crm_overrides": {"opportunity_id": "006-not-an-id"}}, "crm_overrides.opportunity_id"),
        ({"crm_overrides": "006000000000001AAA"}, "crm_overrides"),
    ],
)
def test_a_wrong_private_or_crm_overrides_rejects_the_message(change: dict[str, Any], named: str) -> None:
    # Given an event whose 1.1 field has the wrong type or an id of the wrong object
    with pytest.raises(InvalidEvent) as caught:
        parse_event(json.dumps(valid_event(**change)))
    # Then it is rejected and the reason names the field
    assert named in str(caught.value)
