"""A call's sync status and the Salesforce records related to it (synchronous Lambda invoke by the upstream app)."""

from __future__ import annotations

from typing import Any

from callsync.adapters.aws_errors import translating_aws_errors
from callsync.composition import Dependencies, get_dependencies
from callsync.errors import InvalidEvent
from callsync.models.call_status import CallStatusRequest
from callsync.models.validation import explain
from callsync.observability import logger, tracer
from pydantic import ValidationError


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler
@translating_aws_errors
def handler(event: dict[str, Any], context: Any, deps: Dependencies | None = None) -> dict[str, Any]:
    try:
        request = CallStatusRequest.model_validate(event)
    except ValidationError as e:
        raise InvalidEvent(f"invalid call status request: {explain(e)}") from e
    deps = deps or get_dependencies()
    logger.append_keys(org_id=request.org_id, call_id=request.call_id)
    status = deps.call_status_service().run(request.org_id, request.call_id, request.revision)
    logger.info("call status", extra={"revision": status.revision, "status": status.status,
                                      "records": len(status.records)})  # fmt: skip
    return status.model_dump(mode="json")
