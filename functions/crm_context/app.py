"""Deal context for prep sheets and summaries (synchronous Lambda invoke by the upstream app)."""

from __future__ import annotations

from typing import Any

from callsync.adapters.aws_errors import translating_aws_errors
from callsync.composition import Dependencies, get_dependencies
from callsync.errors import InvalidEvent
from callsync.models.read_side import DealContextRequest
from callsync.models.validation import explain
from callsync.observability import logger, tracer
from pydantic import ValidationError


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler
@translating_aws_errors
def handler(event: dict[str, Any], context: Any, deps: Dependencies | None = None) -> dict[str, Any]:
    try:
        request = DealContextRequest.model_validate(event)
    except ValidationError as e:
        raise InvalidEvent(f"invalid deal context request: {explain(e)}") from e
    deps = deps or get_dependencies()
    logger.append_keys(org_id=request.org_id)
    result = deps.deal_context_service(request.org_id, context.get_remaining_time_in_millis).run(request)
    logger.info("deal context", extra={"opportunity_id": result.opportunity.id if result.opportunity else None,
                                       "emails": len(result.emails), "api_requests": result.api_requests,
                                       "warnings": len(result.warnings)})  # fmt: skip
    return result.model_dump(mode="json")
