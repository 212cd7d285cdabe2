"""CheckApiBudget: the first step: does this call fit in the org's API budget? (``$.budget``; deferred → DEFERRED)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from callsync.adapters.aws_errors import translating_aws_errors
from callsync.composition import Dependencies, get_dependencies
from callsync.observability import add_org_metric, logger, tracer
from callsync.services.api_budget import BudgetInput


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler
@translating_aws_errors
def handler(event: dict[str, Any], context: Any, deps: Dependencies | None = None) -> dict[str, Any]:
    deps = deps or get_dependencies()
    data = BudgetInput.model_validate(event)
    org_id = data.call.org_id
    logger.append_keys(org_id=org_id, call_id=data.call.call_id, revision=data.call.revision)
    result = deps.check_api_budget_service(org_id, context.get_remaining_time_in_millis).run(data)
    if result.share_used is not None:  # per org: the alarm fires at 80 % of the share (template.yaml)
        add_org_metric("ApiShareUsed", round(result.share_used * 100, 2), org_id, MetricUnit.Percent)
    if result.deferred:
        add_org_metric("CallsDeferred", 1, org_id)
        logger.warning("call held by the API budget", extra={"reason": result.reason, "used": result.used})
    else:
        logger.info("within the API budget", extra={"used": result.used, "allowed": result.allowed})
    return result.model_dump(mode="json")
