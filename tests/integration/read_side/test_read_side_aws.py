"""EventBridge publisher and DynamoDB watch state against moto (the shared `aws` fixture)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from callsync.adapters.dynamodb_watch_state import DynamoDbOrgDirectory, DynamoDbWatchState
from callsync.adapters.eventbridge_publisher import EventBridgePublisher
from callsync.config import Config
from callsync.domain.closed_deals import DealState
from callsync.errors import RetryableError
from callsync.models.read_side import DealClosed, RecordRef

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TABLES = Config()  # the shared `aws` fixture holds the template's tables under these names


def event(n: int) -> DealClosed:
    return DealClosed(close_id=f"acme#006{n}#1", org_id="acme",
                      opportunity=RecordRef(id=f"006{n}", name="Deal", url=f"https://x/lightning/r/Opportunity/006{n}/view"),
                      is_won=True, generation=1, system_modstamp=T0)  # fmt: skip


def test_events_reach_the_bus_with_source_detail_type_and_detail(aws):
    # Given a bus whose rule forwards deal.closed to a queue
    events, sqs = aws.client("events"), aws.client("sqs")
    events.create_event_bus(Name="bus")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="r", EventBusName="bus", EventPattern=json.dumps({"source": ["callsync"], "detail-type": ["deal.closed"]})
    )
    events.put_targets(Rule="r", EventBusName="bus", Targets=[{"Id": "q", "Arn": arn}])
    # When two events are published
    EventBridgePublisher(events, "bus").publish([event(1), event(2)])
    # Then both arrive with the DealClosed detail
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    bodies = sorted((json.loads(m["Body"]) for m in got), key=lambda b: b["detail"]["close_id"])
    assert [b["detail"]["close_id"] for b in bodies] == ["acme#0061#1", "acme#0062#1"]
    assert {b["source"] for b in bodies} == {"callsync"} and {b["detail-type"] for b in bodies} == {"deal.closed"}


class RefusingClient:
    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        return {"FailedEntryCount": 1, "Entries": [{"EventId": "1"}, {"ErrorCode": "ThrottlingException"}]}


def test_refused_entries_are_returned_by_close_id():
    assert EventBridgePublisher(RefusingClient(), "bus").publish([event(1), event(2)]) == ["acme#0062#1"]


class FailingClient:
    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        from botocore.exceptions import EndpointConnectionError

        raise EndpointConnectionError(endpoint_url="https://events")


def test_a_failed_request_is_retryable():
    with pytest.raises(RetryableError, match="EndpointConnectionError"):
        EventBridgePublisher(FailingClient(), "bus").publish([event(1)])


def test_more_than_ten_events_is_a_programming_error():
    with pytest.raises(ValueError):
        EventBridgePublisher(RefusingClient(), "bus").publish([event(i) for i in range(11)])


def test_the_watermark_only_moves_forward(aws):
    state = DynamoDbWatchState(aws.resource("dynamodb").Table(TABLES.claims_table))
    assert state.watermark("acme") is None and state.baseline("acme") is None
    state.advance_watermark("acme", T0, baseline=T0 - timedelta(days=7))
    state.advance_watermark("acme", T0 - timedelta(minutes=5))  # an overlapping, older run
    assert state.watermark("acme") == T0
    state.advance_watermark("acme", T0 + timedelta(seconds=1, microseconds=500))
    assert state.watermark("acme") == T0 + timedelta(seconds=1, microseconds=500)
    assert state.baseline("acme") == T0 - timedelta(days=7)  # written once


def test_deal_states_round_trip_with_a_ttl(aws):
    table = aws.resource("dynamodb").Table(TABLES.claims_table)
    state = DynamoDbWatchState(table, clock=lambda: 1_000_000.0)
    state.remember("acme", "006A", DealState(2, False, "won|Closed Won"))
    assert state.deal("acme", "006A") == DealState(2, False, "won|Closed Won")
    assert state.deal("acme", "006B") is None
    assert "expires_at" not in table.get_item(Key={"pk": "deal#acme#006A"})["Item"]  # never forgotten


def test_the_directory_lists_orgs_with_win_loss_enabled(aws):
    table = aws.resource("dynamodb").Table(TABLES.settings_table)
    table.put_item(Item={"org_id": "acme", "win_loss": {"enabled": True}})
    table.put_item(Item={"org_id": "umbrella", "win_loss": {"enabled": False}})
    table.put_item(Item={"org_id": "globex"})
    assert DynamoDbOrgDirectory(table).win_loss_orgs() == ["acme"]
