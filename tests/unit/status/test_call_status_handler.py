"""The ``call_status`` function's handler and its sample events (``sam local invoke -e`` uses them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from callsync.composition import Dependencies
from callsync.config import Config
from callsync.errors import InvalidEvent
from callsync.models.call_status import CallStatus, CallStatusRequest
from callsync.models.event import call_key
from callsync.models.ledger import Outcome, RecordChange, StepReport

from tests.support.fakes import FakeClaims, FakeLedger, FakeSettingsStore, FakeTokenStore
from tests.support.lambdas import lambda_context, load_function

EVENTS = Path(__file__).resolve().parents[3] / "events"


def deps_with(ledger: FakeLedger) -> Dependencies:
    return Dependencies(
        config=Config(), settings=FakeSettingsStore([]), ledger=ledger, tokens=FakeTokenStore(), claims=FakeClaims()
    )


@pytest.mark.parametrize(
    "event",
    [{}, {"org_id": "acme"}, {"org_id": "", "call_id": "c1"}, {"org_id": "acme", "call_id": "c1", "revision": 0}],
)
def test_an_invalid_status_request_is_an_invalid_event_naming_the_field(event: dict[str, object]) -> None:
    # Given a malformed invoke payload / When the handler runs (no dependencies are built for it)
    with pytest.raises(InvalidEvent) as raised:
        load_function("call_status").handler(event, lambda_context("call-status"))
    # Then the error names what is wrong
    assert "invalid call status request" in str(raised.value)
    assert any(name in str(raised.value) for name in ("org_id", "call_id", "revision"))


def test_the_handler_answers_the_status_of_the_requested_call() -> None:
    # Given a ledger with a call whose run succeeded and created an Event
    ledger = FakeLedger()
    key = call_key("acme", "zoom-8841-2026-06-03", 1)
    ledger.record_step(
        key,
        StepReport(
            step="LogActivity", api_requests=1, changes=[RecordChange(action="created", object="Event", id="00UA")]
        ),
    )
    ledger.record_outcome(key, Outcome(status="SUCCEEDED"))
    # When the function is invoked with the sample request
    request = json.loads((EVENTS / "call_status_request.json").read_text())
    answer = load_function("call_status").handler(request, lambda_context("call-status"), deps=deps_with(ledger))
    # Then it answers the status document of the contract
    assert set(answer) >= {"org_id", "call_id", "revision", "status", "error", "warnings", "api_requests", "records"}
    assert answer["status"] == "SUCCEEDED" and answer["records"][0]["action"] == "created"


def test_the_sample_request_and_response_are_the_models_they_document() -> None:
    request = CallStatusRequest.model_validate(json.loads((EVENTS / "call_status_request.json").read_text()))
    response = CallStatus.model_validate(json.loads((EVENTS / "call_status_response.json").read_text()))
    assert (request.org_id, request.call_id) == (response.org_id, response.call_id)
    assert response.status == "SUCCEEDED" and {r.action for r in response.records} >= {"created", "updated", "linked"}
