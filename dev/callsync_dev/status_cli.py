"""``callsync status --call CALL_ID [--revision N] [--org-id ORG] [--state DIR] [--json]`` (INTERFACES.md §4).

How a call's sync ended and every Salesforce record related to it, from the ledger (one query, through the
same ``DynamoDbLedger`` and ``CallStatusService`` the ``call_status`` function uses). With ``--state DIR`` it
reads the local environment of ``callsync run --state DIR`` (nothing is written back); without it, the
deployed stack's ledger table (from the stack's outputs).

Exit codes: 0 when the run ended SUCCEEDED, PREVIEWED, SKIPPED, DUPLICATE or DEFERRED, or is still RUNNING;
1 when it ended FAILED or REJECTED, or the ledger holds no such call (NOT_FOUND); 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from callsync.adapters.dynamodb_ledger import DynamoDbLedger
from callsync.config import Config
from callsync.errors import PermanentError
from callsync.models.call_status import CallStatus
from callsync.services.call_status import CallStatusService

from callsync_dev.control_plane import add_call_arguments, org_of
from callsync_dev.state_dir import StateDir, StateError

OK_STATUSES = frozenset({"SUCCEEDED", "PREVIEWED", "SKIPPED", "DUPLICATE", "DEFERRED", "RUNNING"})
SYMBOL = {"created": "+", "would_create": "+", "updated": "~", "would_update": "~", "linked": "&", "reverted": "<"}
VERB = {"would_create": "would create", "would_update": "would update"}


def register_cli(commands: Any) -> None:
    parser = commands.add_parser("status", help="how a call's sync ended and every Salesforce record related to it")
    add_call_arguments(parser, json_help="print the status as JSON")
    parser.add_argument("--revision", type=int, metavar="N", help="the revision (default: the latest)")
    parser.set_defaults(handler=main)


@contextmanager
def local_tables(state: str) -> Iterator[tuple[Any, Any]]:
    """(ledger table, settings table) of ``state`` in an embedded AWS: read-only, nothing is saved back."""
    from callsync_dev.admin_aws import local_aws
    from callsync_dev.localstack import _typed_from_json

    state_dir = StateDir(state)
    if not state_dir.has_aws:
        raise StateError(f"{state_dir.path} holds no environment: run `callsync run ... --state {state}` first")
    config = Config()
    with local_aws(config) as session:
        client = session.client("dynamodb")
        for logical_id, name in (("LedgerTable", config.ledger_table), ("SettingsTable", config.settings_table)):
            path = state_dir.table_path(logical_id)
            items = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
            for item in items:
                client.put_item(TableName=name, Item=_typed_from_json(item))
        dynamodb = session.resource("dynamodb")
        yield dynamodb.Table(config.ledger_table), dynamodb.Table(config.settings_table)


def call_status(
    ledger_table: Any, settings_table: Any, call_id: str, org_id: str | None, revision: int | None
) -> CallStatus:
    """The status over boto3 tables: the adapter and service the ``call_status`` function uses."""
    return CallStatusService(DynamoDbLedger(ledger_table)).run(org_of(settings_table, org_id), call_id, revision)


def main(args: argparse.Namespace) -> int:
    if args.revision is not None and args.revision < 1:
        print("callsync status: --revision must be 1 or more", file=sys.stderr)
        return 2
    try:
        if args.state:
            with local_tables(args.state) as (ledger_table, settings_table):
                status = call_status(ledger_table, settings_table, args.call, args.org_id, args.revision)
        else:
            from callsync_dev.admin_aws import deployed_status_resources

            status = call_status(**deployed_status_resources(), call_id=args.call, org_id=args.org_id,
                                 revision=args.revision)  # fmt: skip
    except (StateError, PermanentError) as e:
        print(f"callsync status: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(status.model_dump(mode="json"), indent=2))
    else:
        sys.stdout.write(render(status))
    return 0 if status.status in OK_STATUSES else 1


def render(status: CallStatus) -> str:
    """The status as an operator reads it: the outcome, the warnings, then each record and its fields."""
    from callsync_dev.report import _transition

    revisions = f" (revisions: {', '.join(map(str, status.revisions))})" if len(status.revisions) > 1 else ""
    lines = [f"call {status.call_id} revision {status.revision} (org {status.org_id}): {status.status}{revisions}"]
    for label, value in (("reason", status.reason), ("error", status.error), ("execution", status.execution_arn)):
        if value:
            lines.append(f"  {label}: {value}")
    lines.append(f"  Salesforce API requests: {status.api_requests}")
    if status.warnings:
        lines.append("  warnings:")
        lines.extend(f"    - {w}" for w in status.warnings)
    for record in status.records:
        shown = f" {record.label!r}" if record.label else ""
        head = f"  {SYMBOL.get(record.action, '=')} {VERB.get(record.action, record.action)} {record.object}{shown}"
        head += f" {record.id}" if record.id else ""
        lines.append(head + (f"  ({record.note})" if record.note else ""))
        if record.url:
            lines.append(f"      {record.url}")
        for name, change in record.fields.items():
            policy = f"  [{change.policy}]" if change.policy else ""
            note = f"  ({change.note})" if change.note else ""
            lines.append(f"      {name}: {_transition(change.before, change.after, change.policy)}{policy}{note}")
    return "\n".join(lines) + "\n"
