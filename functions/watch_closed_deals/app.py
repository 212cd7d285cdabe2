"""Scheduled (EventBridge): start one closed-deals watch per org with win/loss on (WatchOrgDeals).

With ``WATCH_ORG_FUNCTION`` set (the deployed stack) each org's cycle runs in its own asynchronous
invocation of the per-org watcher, so one org's slow Salesforce never holds the others; without it
(local tools) the cycles run here, one org after the other. A manual run may name ``org_ids``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from callsync.adapters.aws_errors import translating_aws_errors
from callsync.composition import Dependencies, get_dependencies
from callsync.observability import add_org_metric, logger, metrics, tracer


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@translating_aws_errors
def handler(event: dict[str, Any], context: Any, deps: Dependencies | None = None) -> dict[str, Any]:
    deps = deps or get_dependencies()
    org_ids = (event.get("detail") or {}).get("org_ids") or event.get("org_ids")  # optional: a manual run
    if deps.config.watch_org_function:
        dispatch = deps.watch_dispatch_service().run(org_ids, remaining_ms=context.get_remaining_time_in_millis)
        for failed in dispatch.failed:
            logger.error("closed deals watch not started", extra={"org_id": failed.org_id, "error": failed.error})
            add_org_metric("WatchOrgFailures", 1, failed.org_id)
        if dispatch.deferred:
            logger.warning("closed deals watches deferred to the next cycle", extra={"org_ids": dispatch.deferred})
        logger.info("closed deals watches started", extra={"orgs": len(dispatch.dispatched)})
        metrics.add_metric(name="OrgWatchesStarted", unit=MetricUnit.Count, value=len(dispatch.dispatched))
        metrics.add_metric(name="WatchOrgFailures", unit=MetricUnit.Count, value=len(dispatch.failed))
        return dispatch.model_dump(mode="json")
    result = deps.watch_closed_deals_service(remaining_ms=context.get_remaining_time_in_millis).run(org_ids)
    for org in result.orgs:
        log = logger.error if org.status == "FAILED" else logger.info
        log("closed deals cycle", extra={"org_id": org.org_id, "status": org.status, "published": len(org.published),
                                         "duplicates": org.duplicates, "deferred": org.deferred,
                                         "error": org.error, "api_requests": org.api_requests})  # fmt: skip
        if org.status == "FAILED":
            add_org_metric("WatchOrgFailures", 1, org.org_id)
    metrics.add_metric(name="DealClosedPublished", unit=MetricUnit.Count, value=len(result.events))
    metrics.add_metric(name="WatchOrgFailures", unit=MetricUnit.Count,
                       value=sum(o.status == "FAILED" for o in result.orgs))  # fmt: skip
    return result.model_dump(mode="json")
