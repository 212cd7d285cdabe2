"""The local stack is built from template.yaml and routes Lambda invocations to the in-process handlers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from callsync_dev.cfn import load_template
from callsync_dev.localstack import LocalStack, lambda_error

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack() as s:
        yield s


def test_tables_are_created_with_the_template_key_schemas(stack: LocalStack) -> None:
    template = load_template(ROOT / "template.yaml")
    ddb = stack.client("dynamodb")
    for logical, name in stack.tables.items():
        described = ddb.describe_table(TableName=name)["Table"]
        assert described["KeySchema"] == template["Resources"][logical]["Properties"]["KeySchema"]
    assert set(stack.tables) == {"SettingsTable", "LedgerTable", "DescribeCacheTable", "ClaimsTable"}


def test_queue_redrives_to_the_dlq_after_max_receive_count(stack: LocalStack) -> None:
    attrs = stack.client("sqs").get_queue_attributes(QueueUrl=stack.queue_url, AttributeNames=["All"])["Attributes"]
    policy = json.loads(attrs["RedrivePolicy"])
    assert policy["deadLetterTargetArn"].endswith(":callsync-local-CallProcessedDLQ")
    assert policy["maxReceiveCount"] == 5


def test_state_machine_definition_is_the_asl_file_invoking_the_function_aliases(stack: LocalStack) -> None:
    # Given the local stack built from the template
    # When the state machine's definition is read back
    definition = json.loads(
        stack.client("stepfunctions").describe_state_machine(stateMachineArn=stack.state_machine_arn)["definition"]
    )
    on_disk = json.loads((ROOT / "statemachine/post_call_sync.asl.json").read_text())
    # Then it is the ASL file, each task invoking its function's `live` alias
    assert definition["States"].keys() == on_disk["States"].keys()
    match_alias = stack.function("MatchOpportunityFunction").arn + ":live"
    assert definition["States"]["MatchOpportunity"]["Resource"] == match_alias
    assert definition["TimeoutSeconds"] == on_disk["TimeoutSeconds"]
    assert definition["States"]["MatchOpportunity"]["Retry"] == on_disk["States"]["MatchOpportunity"]["Retry"]


def test_functions_get_the_template_environment(stack: LocalStack) -> None:
    env = stack.function("StartSyncFunction").env
    assert env["STATE_MACHINE_ARN"] == stack.state_machine_arn
    assert env["DLQ_URL"] == stack.dlq_url
    assert env["LEDGER_TABLE"] == stack.tables["LedgerTable"]
    assert env["SECRET_PREFIX"] == "callsync-local/org/"  # stack-scoped: <stack name>/org/
    assert env["APP_SECRET_NAME"] == "callsync-local/app"
    assert stack.function("StartSyncFunction").name == "callsync-local-StartSync"


def test_a_handler_exception_becomes_a_lambda_error_named_after_its_class() -> None:
    from callsync.errors import SalesforceRowLocked

    try:
        raise SalesforceRowLocked("UNABLE_TO_LOCK_ROW")
    except SalesforceRowLocked as e:
        payload = lambda_error(e)
    assert payload["errorType"] == "SalesforceRowLocked"
    assert payload["errorMessage"] == "UNABLE_TO_LOCK_ROW"


def test_state_machine_invokes_the_in_process_handlers_and_records_the_outcome(stack: LocalStack) -> None:
    # Given the demo call as the state machine's input (steps that touch Salesforce are bypassed:
    # RecordFailure is reached when MatchOpportunity cannot reach Salesforce - no secret is seeded)
    event = json.loads((ROOT / "events/sync_state_demo.json").read_text())
    sfn = stack.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=stack.state_machine_arn, name="it-1", input=json.dumps(event))[
        "executionArn"
    ]
    # When it runs to the end
    deadline = time.monotonic() + 60
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # Then it failed through Catch -> RecordFailure, which wrote the error to the ledger
    assert described["status"] == "FAILED"
    from callsync.adapters.dynamodb_ledger import DynamoDbLedger

    ledger = DynamoDbLedger(stack.table("LedgerTable")).entries("acme#zoom-8841-2026-06-03#1")
    (outcome,) = [e.outcome for e in ledger if e.outcome is not None]
    assert outcome.status == "FAILED"
    assert outcome.error == described["error"] == "OrgDisconnected"
    assert outcome.execution_arn == arn
