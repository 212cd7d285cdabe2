"""SQS consumer: each call.processed message → one PostCallSync execution (or REJECTED/SKIPPED/DUPLICATE).

Partial batch failures: only messages that hit a transient error are reported back to SQS for redelivery.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from callsync.adapters.aws_errors import translating_aws_errors
from callsync.composition import Dependencies, get_dependencies
from callsync.observability import logger, metrics, tracer
from callsync.services.start_sync import Message, SqsDeadLetters, StartSync, StepFunctionsExecutions

_METRIC = {
    "STARTED": "MessagesStarted",
    "SKIPPED": "MessagesSkipped",
    "DUPLICATE": "MessagesDuplicate",
    "REJECTED": "MessagesRejected",
}


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@translating_aws_errors
def handler(event: dict[str, Any], context: Any, deps: Dependencies | None = None) -> dict[str, Any]:
    deps = deps or get_dependencies()
    service = StartSync(
        settings=deps.settings,
        ledger=deps.ledger,
        executions=StepFunctionsExecutions(deps.stepfunctions(), deps.config.state_machine_arn),
        dead_letters=SqsDeadLetters(deps.sqs(), deps.config.dlq_url),
    )

    def record_handler(record: SQSRecord) -> str:
        receive_count = int(record.attributes.approximate_receive_count or 1)
        decision = service.handle(Message(record.message_id, record.body, receive_count))
        report = decision.report
        log = logger.warning if decision.status == "REJECTED" else logger.info
        log(
            f"message {decision.status}",
            extra={
                "message_id": record.message_id,
                "status": decision.status,
                "reason": report.reason,
                "error_type": report.error_type,
                "org_id": report.org_id,
                "call_id": report.call_id,
                "revision": report.revision,
                "execution_arn": report.execution_arn,
            },
        )
        metrics.add_metric(name=_METRIC[decision.status], unit=MetricUnit.Count, value=1)
        return decision.status

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
