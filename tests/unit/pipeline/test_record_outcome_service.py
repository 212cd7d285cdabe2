"""RecordOutcome: the run's end in the ledger - SUCCEEDED, or FAILED with the error and its cause."""

from __future__ import annotations

import json
from pathlib import Path

from callsync.services.record_outcome import OutcomeInput, RecordOutcome, failure_cause

from tests.support.fakes import FakeLedger

CALL = json.loads((Path(__file__).resolve().parents[3] / "events/demo_event.json").read_text())
ARN = "arn:aws:states:us-east-1:123456789012:execution:PostCallSync:acme-zoom-8841-2026-06-03-1"


def test_success_is_recorded_under_the_call_key() -> None:
    ledger = FakeLedger()
    outcome, _ = RecordOutcome(ledger).run(OutcomeInput(status="SUCCEEDED", call=CALL, execution_arn=ARN))
    (entry,) = [e.as_json() for e in ledger.entries("acme#zoom-8841-2026-06-03#1")]
    assert entry["status"] == "SUCCEEDED" and entry["execution_arn"] == ARN
    assert outcome.error is None and outcome.cause is None


def test_failure_records_the_error_name_and_the_lambda_error_message_as_cause() -> None:
    # Given the Catch result of a Lambda error (Cause is the runtime's JSON error document)
    error = {
        "Error": "SalesforceUnavailable",
        "Cause": json.dumps(
            {"errorMessage": "HTTP 503 SERVER_UNAVAILABLE", "errorType": "SalesforceUnavailable", "stackTrace": ["..."]}
        ),
    }
    ledger = FakeLedger()
    # When recorded
    RecordOutcome(ledger).run(OutcomeInput(status="FAILED", call=CALL, error=error, execution_arn=ARN))
    # Then the ledger has the error class name and the readable message
    (entry,) = [e.as_json() for e in ledger.entries("acme#zoom-8841-2026-06-03#1")]
    assert (entry["status"], entry["error"], entry["cause"]) == (
        "FAILED",
        "SalesforceUnavailable",
        "HTTP 503 SERVER_UNAVAILABLE",
    )


def test_non_lambda_causes_are_kept_as_text() -> None:
    assert failure_cause({"Error": "States.Timeout", "Cause": "Task timed out"}) == "Task timed out"
    assert failure_cause({"Error": "States.Runtime", "Cause": '"quoted"'}) == '"quoted"'
    assert failure_cause(None) is None


def test_the_run_totals_come_from_the_steps_ledger_entries() -> None:
    # Given two steps recorded what they wrote and what it cost
    from callsync.models.ledger import RecordChange, StepReport

    ledger = FakeLedger()
    key = "acme#zoom-8841-2026-06-03#1"
    ledger.record_step(
        key,
        StepReport(
            step="MatchOpportunity",
            api_requests=2,
            changes=[RecordChange(action="unchanged", object="Opportunity", id="006A")],
        ),
    )
    ledger.record_step(
        key,
        StepReport(
            step="LogActivity",
            api_requests=1,
            changes=[
                RecordChange(action="created", object="Event", id="00UA"),
                RecordChange(action="updated", object="Task", id="00TA"),
                RecordChange(action="skipped", object="EventRelation"),
            ],
        ),
    )
    # When the run's outcome is recorded
    _, summary = RecordOutcome(ledger).run(OutcomeInput(status="SUCCEEDED", call=CALL, execution_arn=ARN))
    # Then the totals for the metrics are the steps' requests and the records created or updated
    assert (summary.api_requests, summary.records_written) == (3, 2)
