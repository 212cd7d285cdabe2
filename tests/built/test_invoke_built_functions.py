"""Every function of the built application, invoked once from events/ under the Lambda runtime interface client."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from callsync.adapters.dynamodb_ledger import DynamoDbLedger
from callsync_dev.cfn import load_template, resources_of_type
from callsync_dev.invoke import InvokeSession, layer_architecture, machine_architecture

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "events"

# The sample event each function is invoked with (the same files serve `sam local invoke -e`).
SAMPLE_EVENTS = {
    "StartSyncFunction": "sqs_demo_event.json",
    "MatchOpportunityFunction": "sync_state_demo.json",
    "CreateContactsFunction": "create_contacts_state_demo.json",
    "SyncFieldsFunction": "sync_fields_state_demo.json",
    "LogActivityFunction": "log_activity_state_demo.json",
    "RecordOutcomeFunction": "record_outcome_succeeded.json",
    "CrmContextFunction": "crm_context_request.json",
    "CallStatusFunction": "call_status_request.json",
    "WatchClosedDealsFunction": "watch_closed_deals_schedule.json",
    "WatchOrgDealsFunction": "watch_org_deals.json",
    "CheckApiBudgetFunction": "check_api_budget_demo.json",
    "ResumeDeferredFunction": "resume_deferred_schedule.json",
}


def event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def test_every_function_of_the_template_has_a_sample_event() -> None:
    functions = resources_of_type(load_template(REPO / "template.yaml"), "AWS::Serverless::Function")
    assert set(functions) == set(SAMPLE_EVENTS)
    assert all((EVENTS / name).is_file() for name in SAMPLE_EVENTS.values())


@pytest.mark.parametrize("function", sorted(SAMPLE_EVENTS))
def test_the_built_function_answers_its_sample_event(session: InvokeSession, function: str) -> None:
    # Given the built function and its sample event, against the demo org
    # When it runs under awslambdaric
    invoked = session.invoke(function, event(SAMPLE_EVENTS[function]))
    # Then it answers without a function error, with a JSON object
    assert not invoked.failed, f"{invoked.document()}\n{invoked.logs[-3000:]}"
    assert isinstance(invoked.document(), dict)


def test_the_built_steps_chained_as_the_state_machine_chains_them_record_a_success(session: InvokeSession) -> None:
    # Given the state machine's input, and each step's ResultPath (statemachine/post_call_sync.asl.json)
    asl = json.loads((REPO / "statemachine" / "post_call_sync.asl.json").read_text())["States"]
    state = event("sync_state_demo.json")
    # When each built step runs on the state the previous ones built
    for step in ("MatchOpportunity", "CreateContacts", "SyncFields", "LogActivity"):
        invoked = session.invoke(f"{step}Function", state)
        assert not invoked.failed, invoked.document()
        state[asl[step]["ResultPath"].removeprefix("$.")] = invoked.document()
    outcome = session.invoke(
        "RecordOutcomeFunction",
        {"status": "SUCCEEDED", "call": state["call"], "execution_arn": "arn:aws:states:::execution:local:chain"},
    )
    # Then the call's Event is in Salesforce and the ledger holds the SUCCEEDED outcome
    assert not outcome.failed, outcome.document()
    assert state["activity"]["activity_id"] in {r["Id"] for r in session.emulator.records("Event")}
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(session.stack.tables["LedgerTable"])
    outcomes = [e.outcome for e in DynamoDbLedger(table).all_entries() if e.outcome is not None]
    assert any(o.status == "SUCCEEDED" and (o.execution_arn or "").endswith(":chain") for o in outcomes), outcomes


def test_a_handler_error_is_a_function_error_with_its_class_name(session: InvokeSession) -> None:
    # Given a state that is not a SyncState
    # When the built MatchOpportunity runs on it
    invoked = session.invoke("MatchOpportunityFunction", {"call": {"org_id": "acme"}})
    # Then the runtime reports a function error typed with the exception's class name
    assert invoked.failed
    assert invoked.document()["errorType"] == "ValidationError"


def callsync(*args: str) -> subprocess.CompletedProcess[str]:
    """The command itself, in its own process (one local stack per process: the session's is in this one)."""
    return subprocess.run(
        [sys.executable, "-m", "callsync_dev.cli", *args], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def test_callsync_invoke_prints_the_response_and_exits_0(session: InvokeSession, build_dir: Path) -> None:
    # Given the build (as sam build wrote it; the session made it runnable here)
    # When `callsync invoke` runs RecordOutcome on its sample event
    event = str(EVENTS / "record_outcome_succeeded.json")
    done = callsync("invoke", "RecordOutcomeFunction", "-e", event, "--build-dir", str(build_dir))
    # Then stdout is the function's response, and the exit code 0
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["status"] == "SUCCEEDED"


def test_callsync_invoke_prints_the_function_error_and_exits_1(
    session: InvokeSession, build_dir: Path, tmp_path: Path
) -> None:
    # Given an event RecordOutcome rejects
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"status": "MAYBE"}))
    # When `callsync invoke` runs it (the function named by its directory)
    done = callsync("invoke", "record_outcome", "-e", str(bad), "--build-dir", str(build_dir))
    # Then stdout is the runtime's error document, and the exit code 1
    assert done.returncode == 1, done.stderr[-3000:]
    assert json.loads(done.stdout)["errorType"] == "ValidationError"


def test_the_functions_run_the_built_code_on_a_layer_for_this_machine(session: InvokeSession, build_dir: Path) -> None:
    # Given the build as sam build wrote it, and the one the session runs
    built_layer, running_layer = build_dir / "CallsyncLayer" / "python", session.build_dir / "CallsyncLayer" / "python"
    # Then the running layer's compiled extensions are this machine's
    assert layer_architecture(running_layer) == machine_architecture()
    # And its callsync package and the functions' code are the built ones, byte for byte
    for built in [*built_layer.glob("callsync/**/*.py"), *build_dir.glob("*Function/app.py")]:
        assert (session.build_dir / built.relative_to(build_dir)).read_bytes() == built.read_bytes(), built
