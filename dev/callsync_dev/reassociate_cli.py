"""``callsync reassociate --call CALL_ID (--opportunity ID | --account ID) [--org-id ORG] [--state DIR] [--json]``.

Moves the call to the chosen Opportunity or Account and records the choice so later revisions keep it
(``callsync.services.reassociate``). With ``--state DIR`` it acts on the local environment of
``callsync run --state DIR`` and waits for the call's run again; without it, on the deployed stack (tables,
secrets, state machine and queues from the stack's outputs), where it starts that run and returns.

Exit codes: 0 when the call was moved and its run again succeeded (locally) or started (deployed); 1 when
something was left alone, the run did not succeed, or the call has no run; 2 on a usage error (an id that
is not an Opportunity/Account id, or a record that does not exist) and when the org is in preview mode
(``"preview": true``: refused, nothing written).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from typing import Any, Literal

from callsync.errors import CallsyncError
from callsync.services.reassociate import CannotReassociate, ReassociateResult
from callsync.services.revert import RefusedInPreview

from callsync_dev.control_plane import add_org_arguments, control_plane, org_of, pipeline_starter
from callsync_dev.localstack import LocalStack
from callsync_dev.replay_cli import SETTLE_SECONDS
from callsync_dev.revert_cli import render_changes
from callsync_dev.state_dir import StateError

ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")


def register_cli(commands: Any) -> None:
    parser = commands.add_parser("reassociate", help="move a call to another Opportunity or Account, and keep it there")
    parser.add_argument("--call", required=True, metavar="CALL_ID", help="the call's call_id")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--opportunity", metavar="ID", help="the Opportunity the call belongs to (006...)")
    target.add_argument("--account", metavar="ID", help="the Account the call belongs to (001...)")
    add_org_arguments(parser)
    parser.set_defaults(handler=main)


def _target(args: argparse.Namespace) -> tuple[Literal["Opportunity", "Account"], str]:
    obj: Literal["Opportunity", "Account"] = "Opportunity" if args.opportunity else "Account"
    value, prefix = (args.opportunity, "006") if args.opportunity else (args.account, "001")
    if not ID.match(value) or not value.startswith(prefix):
        raise ValueError(f"--{obj.lower()} {value!r} is not a Salesforce {obj} id ({prefix}..., 15 or 18 characters)")
    return obj, value


def main(args: argparse.Namespace) -> int:
    from callsync_dev.cli import _quiet_function_logs

    _quiet_function_logs(verbose=False)
    try:
        obj, target_id = _target(args)
    except ValueError as e:
        print(f"callsync reassociate: {e}", file=sys.stderr)
        return 2
    try:
        with control_plane(args.state) as (deps, settings_table, stack):
            executions, consumer = pipeline_starter(deps, settings_table, stack)
            org_id = org_of(settings_table, args.org_id)
            service = deps.reassociate_service(org_id, executions, consumer)
            result = service.run(org_id, args.call, obj, target_id)
            ended = (
                _settle(stack, result.execution_arn) if stack is not None and result.execution_arn else result.status
            )
    except (StateError, RefusedInPreview) as e:
        print(f"callsync reassociate: {e}", file=sys.stderr)
        return 2
    except CannotReassociate as e:
        print(f"callsync reassociate: {e}", file=sys.stderr)
        return 2 if "does not exist" in str(e) else 1
    except CallsyncError as e:
        print(f"callsync reassociate: {e}", file=sys.stderr)
        return 1
    _print(args, result, ended)
    kept = any(c.action == "kept" for c in result.changes)
    return 0 if ended in ("SUCCEEDED", "STARTED") and not kept else 1


def _settle(stack: LocalStack, execution_arn: str) -> str:
    """Wait for the local run again; how its execution ended."""
    sfn = stack.client("stepfunctions")
    deadline = time.monotonic() + SETTLE_SECONDS
    while (described := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
        if time.monotonic() > deadline:
            return "RUNNING"
        time.sleep(0.05)
    return str(described["status"])


def _print(args: argparse.Namespace, result: ReassociateResult, ended: str) -> None:
    body = {**result.model_dump(mode="json"), "ended": ended}
    if args.json:
        print(json.dumps(body, indent=2, default=str))
        return
    print(
        f"call {result.call_id} (org {result.org_id}, revision {result.revision}) moved to {result.target_object} "
        f"{result.target_id}: run again {result.status}" + (f" -> {ended}" if ended != result.status else "")
    )
    print("\n".join(render_changes(result.changes)))
    if result.execution_arn:
        print(f"execution {result.execution_arn}")
