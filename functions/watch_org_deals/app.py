"""One org's closed-deals watch cycle, invoked asynchronously by WatchClosedDeals with ``{"org_id"}``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from callsync.adapters.aws_errors import translating_aws_errors
from callsync.composition import Dependencies, get_dependencies
from callsync.errors import InvalidEvent
from callsync.observability import add_org_metric, logger, metrics, tracer


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@translating_aws_errors
def handler(event: dict[str, Any], context: Any, deps: Dependencies | None = None) -> dict[str, Any]:
    org_id = event.get("org_id")
    if not isinstance(org_id, str) or not org_id:
        raise InvalidEvent('the per-org watch needs {"org_id": "<org>"}')
    deps = deps or get_dependencies()
    logger.append_keys(org_id=org_id)
    service = deps.watch_closed_deals_service(remaining_ms=context.get_remaining_time_in_millis)
    (org,) = service.run([org_id]).orgs
    log = logger.error if org.status == "FAILED" else logger.info
    log("closed deals cycle", extra={"status": org.status, "published": len(org.published),
                                     "duplicates": org.duplicates, "deferred": org.deferred,
                                     "error": org.error, "api_requests": org.api_requests})  # fmt: skip
    metrics.add_metric(name="DealClosedPublished", unit=MetricUnit.Count, value=len(org.published))
    metrics.add_metric(name="WatchOrgFailures", unit=MetricUnit.Count, value=int(org.status == "FAILED"))
    if org.status == "FAILED":
        add_org_metric("WatchOrgFailures", 1, org_id)
    add_org_metric("SalesforceApiRequests", org.api_requests, org_id)
    return org.model_dump(mode="json")
