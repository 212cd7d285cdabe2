"""Handlers' log context: keys appended in one invocation must not reach the next one (``clear_state``).

Powertools' Logger is one object per process (``callsync.observability``); ``append_keys`` stays on it
until cleared. Every handler passes ``clear_state=True`` to ``inject_lambda_context``.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import requests
from callsync.composition import Dependencies
from callsync.config import Config
from callsync.observability import logger

from tests.support.fakes import FakeClaims, FakeLedger, FakeSettingsStore, FakeTokenStore
from tests.support.lambdas import lambda_context, load_function

ROOT = Path(__file__).resolve().parents[3]
CALL = json.loads((ROOT / "events/demo_event.json").read_text())
ARN = "arn:aws:states:us-east-1:123456789012:execution:PostCallSync:acme-zoom-8841-2026-06-03-1"


def deps() -> Dependencies:
    """Fakes, plus a Salesforce session that is never used (no request is made in these tests)."""
    return Dependencies(
        config=Config(),
        settings=FakeSettingsStore([]),
        ledger=FakeLedger(),
        tokens=FakeTokenStore(),
        claims=FakeClaims(),
        session=requests.Session(),
        refresher=cast(Any, object()),
        describe_table=object(),
    )


def invoke_all(*invocations: tuple[ModuleType, dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Invoke each (handler module, event) in turn, in this process; the JSON log lines of each."""
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(logger.registered_formatter)
    logger.addHandler(capture)
    level = logger.log_level  # the CLI tests lower it to WARNING in this process
    logger.setLevel(logging.INFO)
    per_invocation: list[list[dict[str, Any]]] = []
    try:
        for n, (module, event) in enumerate(invocations, start=1):
            start = len(stream.getvalue().splitlines())
            module.handler(event, lambda_context("record-outcome", f"req-{n}"), deps=deps())
            per_invocation.append([json.loads(line) for line in stream.getvalue().splitlines()[start:]])
    finally:
        logger.setLevel(level)
        logger.removeHandler(capture)
    return per_invocation


def test_a_step_does_not_carry_the_execution_arn_of_the_previous_invocation() -> None:
    # Given a process that just ran RecordOutcome for a call (org, call, revision and execution ARN appended)
    first_event = {"status": "SUCCEEDED", "call": CALL, "execution_arn": ARN}
    # When the same process runs SyncFields for another org's call (nothing to write: field sync is off),
    # as the local runner does with every handler in one process
    other = json.loads((ROOT / "events/sync_state_demo.json").read_text())
    other["call"] = {**other["call"], "org_id": "globex", "call_id": "other-call-7"}
    other["settings"] = {
        **other["settings"],
        "org_id": "globex",
        "field_sync": {"enabled": False},
        "account_link_field": None,
    }
    first, second = invoke_all((load_function("record_outcome"), first_event), (load_function("sync_fields"), other))

    # Then RecordOutcome's lines carry its keys
    assert first and all(line.get("execution_arn") == ARN and line.get("org_id") == "acme" for line in first)
    # And SyncFields' lines carry only its own: no execution ARN, its org, call and request id
    assert second
    for line in second:
        assert "execution_arn" not in line
        assert (line.get("org_id"), line.get("call_id"), line.get("function_request_id")) == (
            "globex",
            "other-call-7",
            "req-2",
        )


def test_the_same_handler_twice_logs_only_the_second_calls_keys() -> None:
    # Given RecordOutcome invoked for a call with an execution ARN
    handler = load_function("record_outcome")
    other_call = {**CALL, "org_id": "globex", "call_id": "other-call-7"}
    # When the same process handles another org's call, without an execution ARN
    first, second = invoke_all(
        (handler, {"status": "SUCCEEDED", "call": CALL, "execution_arn": ARN}),
        (handler, {"status": "SUCCEEDED", "call": other_call}),
    )
    # Then the second invocation's lines carry none of the first one's keys
    assert first and second
    for line in second:
        assert "execution_arn" not in line
        assert (line.get("org_id"), line.get("call_id"), line.get("function_request_id")) == (
            "globex",
            "other-call-7",
            "req-2",
        )
