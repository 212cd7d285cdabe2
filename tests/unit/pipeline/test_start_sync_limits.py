"""The consumer applies the input limits (``domain.input_limits``) before it starts an execution."""

from __future__ import annotations

import json

from callsync.services.start_sync import Message

from tests.unit.pipeline.test_start_sync_service import Harness, body, demo_event


def test_a_body_over_256_kib_is_rejected_and_starts_nothing() -> None:
    # Given a 300 KB message (SQS's limit is 256 KiB)
    h = Harness()
    oversized = body(demo_event(notes="n" * 300_000))
    # When the consumer handles it
    decision = h.service.handle(Message("m-big", oversized))
    # Then it is REJECTED with the size in the reason, in the DLQ, and recorded under the call key
    assert decision.status == "REJECTED"
    assert h.executions.started == {}
    (dead,) = h.dlq.messages
    assert "at most 262,144 bytes (256 KiB" in dead["reason"] and dead["error_type"] == "InputTooLarge"
    (entry,) = h.deliveries()
    assert entry["call_key"] == "acme#zoom-8841-2026-06-03#1"


def test_a_trimmed_call_starts_with_the_trimmed_input_and_the_notes_in_the_report() -> None:
    # Given a call with a 40,000-character summary
    h = Harness()
    decision = h.service.handle(Message("m-1", body(demo_event(summary="s" * 40_000))))
    # Then it starts with the summary cut to 32,000, and the delivery report's warnings say so
    assert decision.status == "STARTED"
    (payload,) = h.executions.started.values()
    assert len(payload["call"]["summary"]) == 32_000
    (entry,) = h.deliveries()
    assert entry["warnings"] == ["summary: 40,000 characters, trimmed to 32,000"]
    assert len(json.dumps(payload)) < 256 * 1024


def test_a_call_id_too_long_to_be_a_key_is_rejected_under_the_message_id() -> None:
    # Given a call id of 40,000 characters (it cannot be trimmed, nor be a ledger key)
    h = Harness()
    decision = h.service.handle(Message("m-3", body(demo_event(call_id="c" * 40_000))))
    # Then it is REJECTED naming the field, recorded under the message id
    assert decision.status == "REJECTED"
    assert decision.report.reason is not None and decision.report.reason.startswith("call_id is 40,000 characters")
    assert decision.call_key == "rejected#m-3"
