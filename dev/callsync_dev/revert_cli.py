"""``callsync revert --call CALL_ID [--org-id ORG] [--state DIR] [--json]`` (INTERFACES.md §4).

Undoes what callsync wrote for the call wherever nobody changed it since (``callsync.services.revert``):
field values back to their value before callsync, records it created deleted, links removed; what it leaves
alone is listed with the reason. With ``--state DIR`` it acts on the local environment of
``callsync run --state DIR``; without it, on the deployed stack (tables and secrets from its outputs).

Exit codes: 0 when everything was reverted; 1 when something was left alone (or the call has no run);
2 on a usage error, or when the org is in preview mode (``"preview": true``: refused, nothing written).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from callsync.errors import CallsyncError
from callsync.models.ledger import RecordChange
from callsync.services.revert import NothingToRevert, RefusedInPreview, RevertResult

from callsync_dev.control_plane import add_call_arguments, control_plane, org_of
from callsync_dev.state_dir import StateError


def register_cli(commands: Any) -> None:
    parser = commands.add_parser("revert", help="undo what callsync wrote for a call, where nobody changed it since")
    add_call_arguments(parser)
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from callsync_dev.cli import _quiet_function_logs

    _quiet_function_logs(verbose=False)
    try:
        with control_plane(args.state) as (deps, settings_table, _stack):
            org_id = org_of(settings_table, args.org_id)
            result = deps.revert_service(org_id).run(org_id, args.call)
    except (StateError, RefusedInPreview) as e:
        print(f"callsync revert: {e}", file=sys.stderr)
        return 2
    except NothingToRevert as e:
        _print(args, {"status": "NOTHING_TO_REVERT", "reason": str(e)})
        return 1
    except CallsyncError as e:
        print(f"callsync revert: {e}", file=sys.stderr)
        return 1
    _print(args, result.model_dump(mode="json"))
    return 0 if result.status == "REVERTED" else 1


def render_changes(changes: list[RecordChange]) -> list[str]:
    lines: list[str] = []
    for change in changes:
        symbol = {"reverted": "-", "kept": "=", "created": "+", "updated": "~"}.get(change.action, " ")
        head = f"  {symbol} {change.action} {change.object} {change.id}"
        if change.label:
            head += f" '{change.label}'"
        if change.note:
            head += f"  ({change.note})"
        lines.append(head)
        for f in change.fields:
            if change.action != "kept":
                lines.append(f"      {f.field}: {f.before!r} -> {f.after!r}" + (f"  ({f.note})" if f.note else ""))
            else:
                lines.append(f"      {f.field}: {f.before!r}  ({f.note})")
    return lines


def _print(args: argparse.Namespace, body: dict[str, Any]) -> None:
    if args.json:
        print(json.dumps(body, indent=2, default=str))
        return
    if body.get("status") == "NOTHING_TO_REVERT":
        print(f"nothing to revert: {body['reason']}")
        return
    result = RevertResult.model_validate(body)
    print(
        f"call {result.call_id} (org {result.org_id}, revision {result.revision}): {result.status}, "
        f"{result.writes} record(s) written, {result.api_requests} API request(s)"
    )
    print("\n".join(render_changes(result.changes)))
