"""The consumer Lambda: Powertools batch processing with partial failures over the real service."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from callsync.composition import Dependencies
from callsync.config import Config
from callsync.models.settings import OrgSettings

from tests.support.fakes import FakeClaims, FakeLedger, FakeSettingsStore, FakeTokenStore
from tests.support.lambdas import lambda_context, load_function
from tests.unit.pipeline.consumer_doubles import FakeSqsClient, FakeStepFunctionsClient

ROOT = Path(__file__).resolve().parents[3]
STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:PostCallSync"
DLQ_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/dlq"


def record(message_id: str, body: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
        "awsRegion": "us-east-1",
    }


def make_deps(sfn: FakeStepFunctionsClient, sqs: FakeSqsClient, ledger: FakeLedger) -> Dependencies:
    config = Config(state_machine_arn=STATE_MACHINE, dlq_url=DLQ_URL)
    settings = FakeSettingsStore([OrgSettings(org_id="acme", internal_domains=["acme.io"])])
    return Dependencies(
        config=config,
        settings=settings,
        ledger=ledger,
        tokens=FakeTokenStore(),
        claims=FakeClaims(),
        _clients={"stepfunctions": sfn, "sqs": sqs},
    )


def event_body(call_id: str) -> str:
    event = json.loads((ROOT / "events/demo_event.json").read_text())
    event["call_id"] = call_id
    return json.dumps(event)


def test_only_transiently_failed_messages_are_reported_back_to_sqs() -> None:
    # Given a batch: a good event, a malformed one, and one whose StartExecution is throttled
    sfn, sqs, ledger = FakeStepFunctionsClient(throttle_call_ids={"throttled"}), FakeSqsClient(), FakeLedger()
    batch = {
        "Records": [
            record("ok", event_body("good")),
            record("bad", "{not json"),
            record("slow", event_body("throttled")),
        ]
    }
    # When the consumer handles the batch
    handler = load_function("start_sync").handler
    response = handler(batch, lambda_context("start-sync"), deps=make_deps(sfn, sqs, ledger))
    # Then only the throttled message is a batch item failure (SQS redelivers it)
    assert response == {"batchItemFailures": [{"itemIdentifier": "slow"}]}
    # And the good one started, the malformed one went to the DLQ with its reason as attributes
    assert list(sfn.inputs) == ["acme-good-1"]
    (dead,) = sqs.sent
    assert dead["QueueUrl"] == DLQ_URL and dead["MessageBody"] == "{not json"
    assert dead["MessageAttributes"]["error_type"]["StringValue"] == "InvalidEvent"
    assert dead["MessageAttributes"]["reject_reason"]["StringValue"].startswith("body is not JSON")
    assert dead["MessageAttributes"]["source_message_id"]["StringValue"] == "bad"


def test_redelivered_message_after_completion_is_duplicate() -> None:
    # Given a call whose first message was handled
    sfn, sqs, ledger = FakeStepFunctionsClient(), FakeSqsClient(), FakeLedger()
    handler = load_function("start_sync").handler
    deps = make_deps(sfn, sqs, ledger)
    handler({"Records": [record("first", event_body("c1"))]}, lambda_context("start-sync"), deps=deps)
    # When another message carries the same call
    response = handler({"Records": [record("second", event_body("c1"))]}, lambda_context("start-sync"), deps=deps)
    # Then it succeeds as a message (not retried) and the ledger says DUPLICATE
    assert response == {"batchItemFailures": []}
    statuses = {e["message_id"]: e["status"] for e in [e.as_json() for e in ledger.all_entries()]}
    assert statuses == {"first": "STARTED", "second": "DUPLICATE"}
    assert len(sfn.inputs) == 1
