"""The SQS consumer's decisions (INTERFACES.md §1, §2, §4): STARTED, REJECTED, SKIPPED, DUPLICATE."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from callsync.models.settings import OrgSettings
from callsync.services.start_sync import Message, StartSync, execution_name

from tests.support.fakes import FakeLedger, FakeSettingsStore
from tests.unit.pipeline.consumer_doubles import FakeDeadLetters, FakeExecutions

EVENTS = Path(__file__).resolve().parents[3] / "events"


def demo_event(**changes: Any) -> dict[str, Any]:
    event = json.loads((EVENTS / "demo_event.json").read_text())
    event.update(changes)
    return event


def body(event: dict[str, Any]) -> str:
    return json.dumps(event)


class Harness:
    def __init__(self, *, autosync: bool = True, executions: FakeExecutions | None = None) -> None:
        self.settings = FakeSettingsStore([OrgSettings(org_id="acme", internal_domains=["acme.io"], autosync=autosync)])
        self.ledger = FakeLedger()
        self.executions = executions or FakeExecutions()
        self.dlq = FakeDeadLetters()
        self.service = StartSync(
            settings=self.settings, ledger=self.ledger, executions=self.executions, dead_letters=self.dlq
        )

    def deliveries(self) -> list[dict[str, Any]]:
        return [e for e in [e.as_json() for e in self.ledger.all_entries()] if e["step"].startswith("delivery#")]


def test_valid_event_starts_one_execution_named_after_org_call_and_revision() -> None:
    # Given a valid event for an org with autosync on
    h = Harness()
    # When the consumer handles it
    decision = h.service.handle(Message("m-1", body(demo_event())))
    # Then one execution starts, named org-call-revision, with the call and the settings as its input
    assert decision.status == "STARTED"
    name = "acme-zoom-8841-2026-06-03-1"
    assert list(h.executions.started) == [name]
    payload = h.executions.started[name]
    assert payload["call"]["call_id"] == "zoom-8841-2026-06-03"
    assert payload["settings"]["org_id"] == "acme"
    # And the ledger records the delivery under the call key
    (entry,) = h.deliveries()
    assert entry["call_key"] == "acme#zoom-8841-2026-06-03#1"
    assert entry["status"] == "STARTED" and entry["execution_arn"].endswith(name)
    assert h.dlq.messages == []


def test_not_json_is_rejected_to_the_dlq_with_its_reason_and_starts_nothing() -> None:
    # Given a body that is not JSON
    h = Harness()
    # When the consumer handles it
    decision = h.service.handle(Message("m-2", "this is not JSON {"))
    # Then it is REJECTED: in the DLQ at once with the reason, no execution, recorded in the ledger
    assert decision.status == "REJECTED"
    (dead,) = h.dlq.messages
    assert dead["body"] == "this is not JSON {"
    assert dead["reason"].startswith("body is not JSON")
    assert dead["error_type"] == "InvalidEvent"
    assert h.executions.started == {}
    (entry,) = h.deliveries()
    assert entry["call_key"] == "rejected#m-2" and entry["status"] == "REJECTED"


@pytest.mark.parametrize("raw", ["[1, 2]", "42", "null"])
def test_json_that_is_not_an_object_is_rejected(raw: str) -> None:
    # Given JSON that is not an object
    h = Harness()
    # When handled / Then REJECTED with a reason saying so
    assert h.service.handle(Message("m", raw)).status == "REJECTED"
    assert "not a JSON object" in h.dlq.messages[0]["reason"]


def test_invalid_v1_event_is_rejected_and_the_reason_names_every_bad_field() -> None:
    # Given an event with a missing call_url, a negative duration and an unknown medium
    event = demo_event(duration_seconds=-5, medium="carrier-pigeon")
    del event["call_url"]
    h = Harness()
    # When handled
    decision = h.service.handle(Message("m-3", body(event)))
    # Then REJECTED; the reason names each field, and the ledger keys it by the call it claims to be
    assert decision.status == "REJECTED"
    reason = h.dlq.messages[0]["reason"]
    for field in ("call_url", "duration_seconds", "medium"):
        assert field in reason
    assert decision.call_key == "acme#zoom-8841-2026-06-03#1"
    assert h.executions.started == {}


def test_unknown_schema_version_is_rejected() -> None:
    h = Harness()
    assert h.service.handle(Message("m", body(demo_event(schema_version=2)))).status == "REJECTED"
    assert "schema_version" in h.dlq.messages[0]["reason"]


def test_org_without_settings_is_rejected_and_the_error_names_the_org() -> None:
    # Given a valid event for an org that has no settings item
    h = Harness()
    # When handled
    decision = h.service.handle(Message("m-4", body(demo_event(org_id="globex-unknown"))))
    # Then REJECTED with a SettingsNotFound reason naming the org
    assert decision.status == "REJECTED"
    (dead,) = h.dlq.messages
    assert dead["error_type"] == "SettingsNotFound"
    assert "globex-unknown" in dead["reason"]


def test_org_with_invalid_settings_is_rejected_naming_the_field() -> None:
    # Given a settings item that does not validate
    h = Harness()
    h.settings.put_raw("acme", {"activity_sync": {"mode": "carrier-pigeon"}})
    # When handled / Then REJECTED as InvalidSettings, naming the org and the field
    assert h.service.handle(Message("m", body(demo_event()))).status == "REJECTED"
    (dead,) = h.dlq.messages
    assert dead["error_type"] == "InvalidSettings"
    assert "acme" in dead["reason"] and "activity_sync" in dead["reason"]


def test_autosync_off_is_skipped_and_starts_nothing() -> None:
    # Given an org with autosync off
    h = Harness(autosync=False)
    # When a valid event arrives
    decision = h.service.handle(Message("m-5", body(demo_event())))
    # Then SKIPPED: nothing starts, nothing goes to the DLQ, the ledger says why
    assert decision.status == "SKIPPED"
    assert h.executions.started == {} and h.dlq.messages == []
    (entry,) = h.deliveries()
    assert entry["status"] == "SKIPPED" and "autosync is off" in entry["reason"]


def test_second_message_for_the_same_call_is_duplicate_and_starts_nothing() -> None:
    # Given a call already accepted from one message
    h = Harness()
    h.service.handle(Message("m-6", body(demo_event())))
    # When the same event arrives again in another message (duplicate delivery upstream)
    decision = h.service.handle(Message("m-7", body(demo_event())))
    # Then it is DUPLICATE and still only one execution exists
    assert decision.status == "DUPLICATE"
    assert len(h.executions.started) == 1
    assert decision.report.execution_arn is not None
    statuses = sorted(e["status"] for e in h.deliveries())
    assert statuses == ["DUPLICATE", "STARTED"]


def test_same_message_redelivered_while_running_gets_its_execution_back() -> None:
    # Given a message whose execution started (and is still running)
    h = Harness()
    h.service.handle(Message("m-8", body(demo_event())))
    # When SQS redelivers that same message (the consumer crashed before deleting it)
    decision = h.service.handle(Message("m-8", body(demo_event()), receive_count=2))
    # Then Step Functions returns the same execution (same name, same input): nothing new starts
    assert decision.status == "STARTED"
    assert len(h.executions.started) == 1


def test_new_revision_of_a_call_starts_a_new_execution() -> None:
    h = Harness()
    h.service.handle(Message("m-9", body(demo_event())))
    decision = h.service.handle(Message("m-10", body(demo_event(revision=2))))
    assert decision.status == "STARTED"
    assert sorted(h.executions.started) == ["acme-zoom-8841-2026-06-03-1", "acme-zoom-8841-2026-06-03-2"]


def test_transient_start_failure_propagates_so_sqs_redelivers() -> None:
    # Given Step Functions throttling
    h = Harness(executions=FakeExecutions(fail_with=RuntimeError("ThrottlingException")))
    # When a valid event is handled / Then the error propagates (the batch reports the message as failed)
    with pytest.raises(RuntimeError):
        h.service.handle(Message("m-11", body(demo_event())))
    assert h.dlq.messages == [] and h.deliveries() == []


def test_execution_name_helper_agrees_with_the_consumer() -> None:
    h = Harness()
    event = demo_event(call_id="call with spaces/and:colons")
    h.service.handle(Message("m", body(event)))
    assert list(h.executions.started) == [execution_name("acme", "call with spaces/and:colons", 1)]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"private": True}, "marked private"),
        ({"participants": [{"email": "alice.rep@acme.io"}, {"email": "bob.se@acme.io"}]}, "internal-only"),
    ],
)
def test_an_excluded_call_is_skipped_with_the_reason_and_starts_nothing(changes: dict[str, Any], named: str) -> None:
    # Given a private call, or a call with only people of the internal domain
    h = Harness()
    # When the consumer handles it
    decision = h.service.handle(Message("m-1", body(demo_event(**changes))))
    # Then no execution starts; the delivery is SKIPPED with the reason in the ledger; nothing goes to the DLQ
    assert decision.status == "SKIPPED"
    assert h.executions.started == {}
    (entry,) = h.deliveries()
    assert entry["status"] == "SKIPPED" and named in entry["reason"]
    assert h.dlq.messages == []
