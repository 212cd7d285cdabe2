"""Scheduled (EventBridge): replay the calls the API budget held, for every org whose window has room again."""

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
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    results = deps.resume_deferred_service(remaining_ms).run()
    for org in results:
        extra = {"org_id": org.org_id, "held": org.held, "replayed": len(org.replayed), "running": len(org.running)}
        logger.info("held calls resumed", extra=extra)
        for error in org.errors:  # kept held: the next tick tries again
            logger.warning("held call not replayed", extra={"org_id": org.org_id, "error": error})
    metrics.add_metric(name="DeferredCallsReplayed", unit=MetricUnit.Count, value=sum(len(o.replayed) for o in results))
    metrics.add_metric(name="DeferredResumeErrors", unit=MetricUnit.Count, value=sum(len(o.errors) for o in results))
    return {"orgs": [o.model_dump(mode="json") for o in results]}
