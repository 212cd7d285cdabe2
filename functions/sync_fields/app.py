"""SyncFields: write the call's insights into the mapped Salesforce fields (one composite write)."""

from __future__ import annotations

from typing import Any

from callsync.adapters.aws_errors import translating_aws_errors
from callsync.composition import Dependencies, get_dependencies
from callsync.models.state import SyncState
from callsync.observability import logger, tracer


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler
@translating_aws_errors
def handler(event: dict[str, Any], context: Any, deps: Dependencies | None = None) -> dict[str, Any]:
    deps = deps or get_dependencies()
    state = SyncState.model_validate(event)
    logger.append_keys(org_id=state.call.org_id, call_id=state.call.call_id, revision=state.call.revision)
    # Salesforce requests get a deadline inside this invocation: slow answers fail retryably, before the timeout.
    # One of the org's concurrency slots while Salesforce is called; the org's usage reading is stored after.
    with deps.salesforce_bound(state.call.org_id, context.get_remaining_time_in_millis):
        service = deps.sync_fields_service(
            state.call.org_id, context.get_remaining_time_in_millis, preview=state.settings.preview
        )
        result = service.run(state)
    logger.info(
        "fields synced",
        extra={
            "records_updated": result.records_updated,
            "records_created": result.records_created,
            "records_failed": result.records_failed,
            "api_requests": result.report.api_requests,
        },
    )
    return result.model_dump(mode="json")
