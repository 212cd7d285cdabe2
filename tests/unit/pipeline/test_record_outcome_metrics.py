"""RecordOutcome emits the run's metrics (EMF): outcome, API requests, records written, and OrgDisconnected.

The OrgDisconnected metric is what template.yaml's OrgDisconnectedAlarm watches.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_handler_log_state import ARN, CALL, deps

from tests.support.lambdas import lambda_context, load_function


def emitted(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert len(docs) == 1, docs
    return docs[0]


@pytest.fixture
def metrics_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")


def test_a_disconnected_org_is_counted_for_its_alarm(metrics_on: None, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a run that failed because the org's refresh token is revoked
    error = {"Error": "OrgDisconnected", "Cause": json.dumps({
        "errorMessage": "org acme is disconnected (invalid_grant): reconnect with `callsync connect --org-id acme`",
        "errorType": "OrgDisconnected"})}
    # When RecordFailure runs
    load_function("record_outcome").handler(
        {"status": "FAILED", "call": CALL, "error": error, "execution_arn": ARN},
        lambda_context("record-outcome", "req-1"), deps=deps())
    # Then the metrics say a call failed and an org is disconnected
    doc = emitted(capsys)
    names = {m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"CallsFailed", "OrgDisconnected", "SalesforceApiRequests", "RecordsWritten"} <= names
    assert doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Callsync"
    assert "CallsSucceeded" not in names


def test_a_success_is_counted_without_disconnect(metrics_on: None, capsys: pytest.CaptureFixture[str]) -> None:
    load_function("record_outcome").handler(
        {"status": "SUCCEEDED", "call": CALL, "execution_arn": ARN}, lambda_context("record-outcome", "req-2"),
        deps=deps())
    doc = emitted(capsys)
    names = {m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert "CallsSucceeded" in names and "OrgDisconnected" not in names
