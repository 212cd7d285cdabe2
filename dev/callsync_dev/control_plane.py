"""What the operator commands (status, replay, revert, reassociate, backfill) share: their common
arguments, the local environment of ``callsync run --state DIR``, the deployed stack's dependencies, and
which org a command means when ``--org-id`` is not given."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from callsync.adapters.dynamodb_settings import DynamoDbSettingsStore
from callsync.composition import Dependencies
from callsync.errors import PermanentError
from callsync.ports import Ledger
from callsync.services.start_sync import SqsDeadLetters, StartSync, StepFunctionsExecutions

from callsync_dev.localstack import LocalStack
from callsync_dev.state_dir import StateDir, StateError


def add_org_arguments(parser: argparse.ArgumentParser, *, json_help: str = "print the result as JSON") -> None:
    """``--org-id``, ``--state DIR`` and ``--json``, worded the same for every operator command."""
    parser.add_argument("--org-id", metavar="ORG", help="the org (default: the only org in the settings table)")
    parser.add_argument("--state", metavar="DIR", help="the local environment of `callsync run --state DIR`")
    parser.add_argument("--json", action="store_true", help=json_help)


def add_call_arguments(parser: argparse.ArgumentParser, *, json_help: str = "print the result as JSON") -> None:
    """``--call CALL_ID`` and the org arguments."""
    parser.add_argument("--call", required=True, metavar="CALL_ID", help="the call's call_id")
    add_org_arguments(parser, json_help=json_help)


@contextmanager
def local_environment(state: str | Path) -> Iterator[LocalStack]:
    """The local stack and emulator restored from ``state``, saved back when the block ends."""
    from callsync_dev.emulator import Emulator

    state_dir = StateDir(state)
    if not (state_dir.has_org and state_dir.has_aws):
        raise StateError(f"{state_dir.path} holds no environment: run `callsync run ... --state {state}` first")
    emulator = Emulator.from_fixture(state_dir.read_org())
    emulator.start()
    try:
        connection = {**emulator.connection, "issued_at": str(int(time.time() * 1000))}
        with LocalStack(extra_env={"SALESFORCE_CA_BUNDLE": connection["ca_file"]}) as stack:
            state_dir.restore(stack, connection)
            yield stack
            state_dir.save(stack)
        state_dir.write_org(emulator.dump())
    finally:
        emulator.stop()


@contextmanager
def control_plane(
    state: str | None, *, function: str = "MatchOpportunityFunction", boto_session: Any = None
) -> Iterator[tuple[Dependencies, Any, LocalStack | None]]:
    """(the pipeline's dependencies, the settings table, the local stack) of the local environment ``state``
    (``function``'s dependencies), else of the deployed stack (its outputs name the tables and the secrets;
    no local stack). ``boto_session`` replaces the default AWS session of the deployed stack."""
    if state:
        with local_environment(state) as stack:
            yield stack.function(function).dependencies(), stack.table("SettingsTable"), stack
        return
    import boto3
    from callsync.composition import build_dependencies

    from callsync_dev.admin_aws import deployed_config

    session = boto_session or boto3.session.Session()
    config = deployed_config(session=session)  # the stack's outputs name its tables (the claims table: leases)
    deps = build_dependencies(config, boto_session=session)
    yield deps, session.resource("dynamodb").Table(config.settings_table), None


def starter(
    settings_table: Any, ledger: Ledger, sfn: Any, state_machine_arn: str, sqs: Any, dlq_url: str
) -> tuple[StepFunctionsExecutions, StartSync]:
    """The state machine's executions and the consumer's start rules (``StartSync``) over these resources:
    what a command that runs a call again starts it with (the adapters the consumer function uses)."""
    executions = StepFunctionsExecutions(sfn, state_machine_arn)
    consumer = StartSync(
        settings=DynamoDbSettingsStore(settings_table),
        ledger=ledger,
        executions=executions,
        dead_letters=SqsDeadLetters(sqs, dlq_url),
    )
    return executions, consumer


def pipeline_starter(
    deps: Dependencies, settings_table: Any, stack: LocalStack | None
) -> tuple[StepFunctionsExecutions, StartSync]:
    """``starter`` over the local stack's resources, or the deployed stack's (its outputs name them)."""
    if stack is None:
        from callsync_dev.admin_aws import deployed_replay_resources

        resources = deployed_replay_resources()
        return starter(settings_table, deps.ledger, resources["sfn"], resources["state_machine_arn"],
                       resources["sqs"], resources["dlq_url"])  # fmt: skip
    return starter(settings_table, deps.ledger, stack.client("stepfunctions"),
                   stack.state_machines["PostCallSyncStateMachine"], stack.client("sqs"), stack.dlq_url)  # fmt: skip


def only_org(settings_table: Any) -> str:
    """The one org of the settings table; refused, naming them, when there are several (or none)."""
    orgs = [str(i["org_id"]) for i in settings_table.scan(ProjectionExpression="org_id").get("Items", [])]
    if len(orgs) != 1:
        raise PermanentError(f"--org-id is needed: the settings table holds {len(orgs)} orgs ({', '.join(orgs)})")
    return orgs[0]


def org_of(settings_table: Any, org_id: str | None) -> str:
    """``org_id`` when given, else the settings table's only org."""
    return org_id or only_org(settings_table)
