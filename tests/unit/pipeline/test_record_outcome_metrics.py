"""RecordOutcome emits the run's metrics (EMF): outcome, API requests, records written, and OrgDisconnected.

The OrgDisconnected metric is what template.yaml's OrgDisconnectedAlarm watches; the alarms read the
``service``-only aggregate, and failures and API requests are emitted once more per org (``org_id``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_handler_log_state import ARN, CALL, deps

from tests.support.lambdas import lambda_context, load_function


def documents(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]


def dimensions(doc: dict[str, Any]) -> list[str]:
    (dims,) = doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    return list(dims)


def emitted(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """The service-level document (the one the alarms read)."""
    docs = [d for d in documents(capsys) if dimensions(d) == ["service"]]
    assert len(docs) == 1, docs
    return docs[0]


def per_org(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """metric name -> the document that carries it with an org_id dimension."""
    return {
        m["Name"]: d
        for d in docs
        if dimensions(d) == ["service", "org_id"]
        for m in d["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    }


@pytest.fixture
def metrics_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Metrics emitted, starting from none: Powertools' metric set is process-wide, and another test of this
    worker may have added metrics with emission off (they would be flushed with this test's document)."""
    from callsync.observability import metrics

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics.clear_metrics()


def test_a_disconnected_org_is_counted_for_its_alarm(metrics_on: None, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a run that failed because the org's refresh token is revoked
    error = {
        "Error": "OrgDisconnected",
        "Cause": json.dumps(
            {
                "errorMessage": "org acme is disconnected (invalid_grant): "
                "reconnect with `callsync connect --org-id acme`",
                "errorType": "OrgDisconnected",
            }
        ),
    }
    # When RecordFailure runs
    load_function("record_outcome").handler(
        {"status": "FAILED", "call": CALL, "error": error, "execution_arn": ARN},
        lambda_context("record-outcome", "req-1"),
        deps=deps(),
    )
    # Then the metrics say a call failed and an org is disconnected
    doc = emitted(capsys)
    names = {m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"CallsFailed", "OrgDisconnected", "SalesforceApiRequests", "RecordsWritten"} <= names
    assert doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Callsync"
    assert "CallsSucceeded" not in names


def test_a_success_is_counted_without_disconnect(metrics_on: None, capsys: pytest.CaptureFixture[str]) -> None:
    load_function("record_outcome").handler(
        {"status": "SUCCEEDED", "call": CALL, "execution_arn": ARN},
        lambda_context("record-outcome", "req-2"),
        deps=deps(),
    )
    doc = emitted(capsys)
    names = {m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert "CallsSucceeded" in names and "OrgDisconnected" not in names


def test_failures_and_api_requests_are_also_counted_per_org(
    metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a run that failed
    error = {
        "Error": "SalesforceUnavailable",
        "Cause": json.dumps({"errorMessage": "down", "errorType": "SalesforceUnavailable"}),
    }
    # When RecordFailure runs
    load_function("record_outcome").handler(
        {"status": "FAILED", "call": CALL, "error": error, "execution_arn": ARN},
        lambda_context("record-outcome", "req-3"),
        deps=deps(),
    )
    # Then CallsFailed and SalesforceApiRequests are emitted with the call's org as a dimension
    by_org = per_org(documents(capsys))
    assert set(by_org) == {"CallsFailed", "SalesforceApiRequests"}
    assert {d["org_id"] for d in by_org.values()} == {CALL["org_id"]}
    assert by_org["CallsFailed"]["CallsFailed"] == [1.0]


def test_a_success_counts_api_requests_per_org_but_no_failure(
    metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    load_function("record_outcome").handler(
        {"status": "SUCCEEDED", "call": CALL, "execution_arn": ARN},
        lambda_context("record-outcome", "req-4"),
        deps=deps(),
    )
    assert set(per_org(documents(capsys))) == {"SalesforceApiRequests"}


def test_a_feature_a_permission_stopped_is_counted_for_its_alarm(
    metrics_on: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a run whose LogActivity skipped the call activity: the integration user cannot create Events
    from callsync.models.event import CallProcessed
    from callsync.models.ledger import SkippedFeature, StepReport

    dependencies = deps()
    skipped = SkippedFeature(feature="call activity", subject="Event", need="create", fix="grant Create on Event")
    call_key = CallProcessed.model_validate(CALL).call_key
    dependencies.ledger.record_step(call_key, StepReport(step="LogActivity", skipped_features=[skipped]))
    # When RecordSuccess runs
    load_function("record_outcome").handler(
        {"status": "SUCCEEDED", "call": CALL, "execution_arn": ARN},
        lambda_context("record-outcome", "req-5"),
        deps=dependencies,
    )
    # Then FeaturesSkipped (what FeaturesSkippedAlarm watches) is 1, and is emitted for the org as well
    docs = documents(capsys)
    service = next(d for d in docs if dimensions(d) == ["service"])
    assert service["FeaturesSkipped"] == [1.0]
    assert per_org(docs)["FeaturesSkipped"]["FeaturesSkipped"] == [1.0]
