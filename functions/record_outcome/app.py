"""PostCallSync's last task: record SUCCEEDED, DEFERRED (the budget's reason) or FAILED (error, cause)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from callsync.adapters.aws_errors import translating_aws_errors
from callsync.composition import Dependencies, get_dependencies
from callsync.observability import add_org_metric, logger, metrics, tracer
from callsync.services.record_outcome import OutcomeInput, RecordOutcome


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@translating_aws_errors
def handler(event: dict[str, Any], context: Any, deps: Dependencies | None = None) -> dict[str, Any]:
    deps = deps or get_dependencies()
    data = OutcomeInput.model_validate(event)
    logger.append_keys(
        org_id=data.call.org_id,
        call_id=data.call.call_id,
        revision=data.call.revision,
        execution_arn=data.execution_arn,
    )
    outcome, summary = RecordOutcome(deps.ledger).run(data)
    metric = {
        "SUCCEEDED": "CallsSucceeded",
        "FAILED": "CallsFailed",
        "DEFERRED": "CallsDeferred",
        "PREVIEWED": "CallsPreviewed",
    }[outcome.status]
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    if outcome.error == "OrgDisconnected":
        metrics.add_metric(name="OrgDisconnected", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="SalesforceApiRequests", unit=MetricUnit.Count, value=summary.api_requests)
    # Per org as well (org_id dimension): which org fails, which org spends the API allocation.
    if outcome.status == "FAILED":
        add_org_metric("CallsFailed", 1, data.call.org_id)
    add_org_metric("SalesforceApiRequests", summary.api_requests, data.call.org_id)
    metrics.add_metric(name="RecordsWritten", unit=MetricUnit.Count, value=summary.records_written)
    # A feature a missing permission stopped: the call succeeded without it (FeaturesSkippedAlarm).
    metrics.add_metric(name="FeaturesSkipped", unit=MetricUnit.Count, value=summary.features_skipped)
    if summary.features_skipped:
        add_org_metric("FeaturesSkipped", summary.features_skipped, data.call.org_id)
    log = logger.warning if outcome.status == "FAILED" else logger.info
    log(
        f"run {outcome.status}",
        extra={
            "error": outcome.error,
            "cause": outcome.cause,
            "reason": outcome.reason,
            "api_requests": summary.api_requests,
            "records_written": summary.records_written,
            "features_skipped": summary.features_skipped,
        },
    )
    return outcome.model_dump(mode="json")
