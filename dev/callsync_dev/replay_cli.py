"""``callsync replay --call CALL_ID [--org-id ORG] [--state DIR] [--json]`` (INTERFACES.md §4).

Runs a call whose latest run ended ``FAILED`` or ``DEFERRED`` again from its stored input
(``callsync.services.replay``). With ``--state DIR`` it acts on the local environment of
``callsync run --state DIR`` and waits for the replay to finish; without it, on the deployed stack
(tables, state machine and queues from the stack's outputs), where it starts the replay and returns.

Exit codes: 0 when the replay succeeded (locally), started (deployed) or was held again by the API budget
(``DEFERRED``, as ``callsync run``); 1 when there was nothing to replay, a run of the call is still running
(``a replay is running``: one call never runs twice at once) or the replay did not succeed; 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from callsync.adapters.dynamodb_ledger import DynamoDbLedger
from callsync.errors import PermanentError
from callsync.services.replay import NothingToReplay, ReplayCall, ReplayResult, ReplayRunning

from callsync_dev.control_plane import add_call_arguments, local_environment, org_of, starter
from callsync_dev.localstack import LocalStack
from callsync_dev.state_dir import StateError

SETTLE_SECONDS = 300


def register_cli(commands: Any) -> None:
    parser = commands.add_parser("replay", help="run a FAILED or DEFERRED call again from its stored input")
    add_call_arguments(parser)
    parser.set_defaults(handler=main)


def replay_call(
    ledger_table: Any,
    settings_table: Any,
    sfn: Any,
    state_machine_arn: str,
    sqs: Any,
    dlq_url: str,
    call_id: str,
    org_id: str | None,
) -> ReplayResult:
    """The replay over boto3 resources: the same adapters the consumer function uses."""
    ledger = DynamoDbLedger(ledger_table)
    executions, consumer = starter(settings_table, ledger, sfn, state_machine_arn, sqs, dlq_url)
    return ReplayCall(ledger, executions, consumer).run(org_of(settings_table, org_id), call_id)


def replay_local(stack: LocalStack, call_id: str, org_id: str | None) -> ReplayResult:
    """``replay_call`` over a running local stack's tables, state machine and queues."""
    return replay_call(
        stack.table("LedgerTable"),
        stack.table("SettingsTable"),
        stack.client("stepfunctions"),
        stack.state_machines["PostCallSyncStateMachine"],
        stack.client("sqs"),
        stack.dlq_url,
        call_id,
        org_id,
    )


def _settle(stack: LocalStack, result: ReplayResult) -> str:
    """Wait for the replayed execution; how it ended (the ledger's outcome, else the execution's status)."""
    if result.execution_arn is None:
        return result.status
    sfn = stack.client("stepfunctions")
    deadline = time.monotonic() + SETTLE_SECONDS
    while (described := sfn.describe_execution(executionArn=result.execution_arn))["status"] == "RUNNING":
        if time.monotonic() > deadline:
            return "RUNNING"
        time.sleep(0.05)
    outcome = DynamoDbLedger(stack.table("LedgerTable")).history(result.org_id, result.call_id)
    held = any(
        e.outcome is not None and e.outcome.status == "DEFERRED" and e.outcome.execution_arn == result.execution_arn
        for e in outcome.entries
    )
    return "DEFERRED" if held else str(described["status"])


def main(args: argparse.Namespace) -> int:
    from callsync_dev.cli import _quiet_function_logs

    _quiet_function_logs(verbose=False)
    try:
        if args.state:
            with local_environment(args.state) as stack:
                result = replay_local(stack, args.call, args.org_id)
                ended = _settle(stack, result)
        else:
            from callsync_dev.admin_aws import deployed_replay_resources

            resources = deployed_replay_resources()
            result = replay_call(**resources, call_id=args.call, org_id=args.org_id)
            ended = result.status
    except StateError as e:
        print(f"callsync replay: {e}", file=sys.stderr)
        return 2
    except ReplayRunning as e:  # one call never runs twice at once: asked again once that run has ended
        _print(args, {"status": "REPLAY_RUNNING", "reason": str(e)})
        return 1
    except NothingToReplay as e:
        _print(args, {"status": "NOTHING_TO_REPLAY", "reason": str(e)})
        return 1
    except PermanentError as e:
        print(f"callsync replay: {e}", file=sys.stderr)
        return 2
    _print(args, {**result.model_dump(mode="json"), "ended": ended})
    return 0 if ended in ("SUCCEEDED", "STARTED", "DEFERRED") else 1


def _print(args: argparse.Namespace, body: dict[str, Any]) -> None:
    if args.json:
        print(json.dumps(body, indent=2))
        return
    if body.get("status") == "REPLAY_RUNNING":
        print(body["reason"])
        return
    if body.get("status") == "NOTHING_TO_REPLAY":
        print(f"nothing to replay: {body['reason']}")
        return
    print(
        f"call {body['call_id']} revision {body['revision']} ({body['replayed_status']}): replay "
        f"#{body['attempt']} {body['status']}"
        + (f" -> {body['ended']}" if body["ended"] != body["status"] else "")
        + (f" ({body['reason']})" if body.get("reason") else "")
    )
    if body.get("execution_arn"):
        print(f"execution {body['execution_arn']}")
