"""Scheduled (EventBridge): publish one deal.closed event per Opportunity close, for every win/loss org."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from callsync.adapters.aws_errors import translating_aws_errors
from callsync.composition import Dependencies, get_dependencies
from callsync.observability import logger, metrics, tracer


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@translating_aws_errors
def handler(event: dict[str, Any], context: Any, deps: Dependencies | None = None) -> dict[str, Any]:
    deps = deps or get_dependencies()
    org_ids = (event.get("detail") or {}).get("org_ids") or event.get("org_ids")  # optional: a manual run
    result = deps.watch_closed_deals_service().run(org_ids)
    for org in result.orgs:
        log = logger.error if org.status == "FAILED" else logger.info
        log("closed deals cycle", extra={"org_id": org.org_id, "status": org.status, "published": len(org.published),
                                         "duplicates": org.duplicates, "deferred": org.deferred,
                                         "error": org.error, "api_requests": org.api_requests})  # fmt: skip
    metrics.add_metric(name="DealClosedPublished", unit=MetricUnit.Count, value=len(result.events))
    metrics.add_metric(name="WatchOrgFailures", unit=MetricUnit.Count,
                       value=sum(o.status == "FAILED" for o in result.orgs))  # fmt: skip
    return result.model_dump(mode="json")
