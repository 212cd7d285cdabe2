"""The readable report ``callsync run`` prints: per call, the match and its reason, every record
created or updated with its field changes (before → after), warnings, and the API requests used.

Sources: the runs, the ledger (the consumer's delivery entries, each step's ``StepReport``, the
outcome) and, for the match, the execution's output (``SyncState.match``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from callsync.domain.value_coercion import NO_VALUE

from callsync_dev.runner import FINAL_STATUSES, STEP_ORDER, RunResult

_SYMBOL = {"created": "+", "updated": "~", "unchanged": "=", "reused": "=", "skipped": "-", "failed": "!",
           "would_create": "+", "would_update": "~"}  # fmt: skip
_WOULD = {"created": "would create", "updated": "would update"}
MAX_VALUE = 90


def render(result: RunResult) -> str:
    lines: list[str] = []
    title = f"callsync run - {len(result.runs)} message(s)"
    lines.append(title)
    if result.dry_run:
        lines.append("DRY RUN: the emulated org was a throwaway copy; its writes were discarded (nothing saved).")
    if result.state_dir:
        saved = "not saved (dry run)" if result.dry_run else "saved"
        lines.append(f"State: {result.state_dir} (org.json and the AWS side, {saved})")
    lines.extend(f"note: {note}" for note in result.notes)
    lines.append("")
    entries_by_call: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in result.ledger:
        entries_by_call[entry["call_key"]].append(entry)

    reported: set[str] = set()
    for index, run in enumerate(result.runs, start=1):
        head = f"[{index}] {run['event_file']}  ->  {run['status']}"
        lines.append(head)
        if run["status"] == "DUPLICATE":
            lines.append(
                f"    {run['call_key']} was already accepted: nothing started (execution {run['execution_arn']})"
            )
            lines.append("")
            continue
        if run["status"] in ("REJECTED", "SKIPPED", "DEFERRED") or run.get("call_key") is None:
            reason = (
                run.get("error")
                or run.get("reason")
                or _delivery_reason(entries_by_call.get(run.get("call_key") or "", []), run["message_id"])
            )
            where = " - in the DLQ with this reason" if run["status"] == "REJECTED" else ""
            lines.append(f"    reason: {reason}{where}")
            lines.append("")
            continue
        if run["call_key"] in reported:
            lines.append("    (see above)")
            lines.append("")
            continue
        reported.add(run["call_key"])
        lines.extend(_call_section(run, entries_by_call.get(run["call_key"], []), result))
        lines.append("")

    counts: dict[str, int] = defaultdict(int)
    for run in result.runs:
        counts[run["status"]] += 1
    summary = ", ".join(f"{status} {counts[status]}" for status in FINAL_STATUSES if counts[status])
    lines.append(f"Runs: {summary}")
    lines.append(
        f"Salesforce API requests used: {result.api_requests} "
        "(counted as against the daily limit; OAuth token requests excluded)"
    )
    if result.dlq:
        lines.append(f"Dead-letter queue: {len(result.dlq)} message(s)")
    lines.append(f"Wall time: {result.wall_seconds:.1f} s")
    return "\n".join(lines) + "\n"


WRITE_ACTIONS = ("created", "updated")  # ledger record actions that changed Salesforce


def _written_before_failure(steps: dict[str, dict[str, Any]]) -> str:
    """What a FAILED run's report says about writes: the ledger above lists them, or there were none."""
    written = sum(
        1 for entry in steps.values() for change in entry.get("changes") or [] if change.get("action") in WRITE_ACTIONS
    )
    if written:
        return f"the ledger above lists the {written} record(s) written before the failure"
    return "nothing was written to Salesforce before the failure"


def _delivery_reason(entries: list[dict[str, Any]], message_id: str) -> str:
    for entry in entries:
        if entry.get("message_id") == message_id and entry.get("reason"):
            return str(entry["reason"])
    return "-"


def _call_section(run: dict[str, Any], entries: list[dict[str, Any]], result: RunResult) -> list[str]:
    lines = [f"    call {run['call_key']}"]
    if run.get("execution_arn"):
        lines.append(f"    execution {run['execution_arn']}")
    state = _execution_state(result, run.get("execution_arn"))
    steps = {str(e["step"]): e for e in entries if e.get("kind") == "step" and e.get("step") in STEP_ORDER}
    for delivery in entries:  # what the consumer trimmed at the door (domain.input_limits)
        if delivery.get("step") == f"delivery#{run.get('message_id')}":
            lines.extend(f"    trimmed at the door: {warning}" for warning in delivery.get("warnings") or [])
    match = state.get("match") if state else None
    lines.extend(_match_lines(match) if match else _match_from_ledger(steps.get("MatchOpportunity")))
    total = 0
    for name in STEP_ORDER:
        entry = steps.get(name)
        if entry is None:
            continue
        requests = int(entry.get("api_requests") or 0)
        total += requests
        lines.append(f"    {name}: {requests} API request(s)")
        no_value: list[str] = []
        for change in entry.get("changes") or []:
            if name == "MatchOpportunity" and change.get("action") == "unchanged":
                continue  # the match's read: the match lines above say what was found and why
            shown, empty = _split_no_value(change)
            no_value += [f"{change.get('object')}.{field}" for field in empty]
            if shown is not None:
                lines.extend(_change_lines(shown, result.dry_run))
        if no_value:
            lines.append(
                f"      no value in this call for {len(no_value)} mapped field(s): {', '.join(dict.fromkeys(no_value))}"
            )
        for warning in entry.get("warnings") or []:
            lines.append(f"      warning: {warning}")
    outcome = next((e for e in entries if e.get("kind") == "outcome"), None)
    if outcome and outcome.get("status") == "FAILED":
        lines.append(f"    FAILED: {outcome.get('error')}: {outcome.get('cause')}")
        lines.append(f"    ({_written_before_failure(steps)}; replay the message to finish - every step is idempotent)")
    elif run["status"] == "FAILED":
        lines.append(f"    FAILED: {run.get('error')}")
    lines.append(f"    API requests (steps' own count): {total}")
    return lines


def _execution_state(result: RunResult, arn: str | None) -> dict[str, Any] | None:
    described = result.executions.get(arn or "")
    if not described or not described.get("output"):
        return None
    try:
        state = json.loads(described["output"])
    except json.JSONDecodeError:
        return None
    return state if isinstance(state, dict) else None


def _match_from_ledger(entry: dict[str, Any] | None) -> list[str]:
    """The match as MatchOpportunity recorded it, for runs whose execution has no output (FAILED)."""
    for change in (entry or {}).get("changes") or []:
        note = str(change.get("note") or "")
        if change.get("object") != "Opportunity" or not note:
            continue
        if change.get("id"):
            head = f"Opportunity {change.get('label')!r} ({change.get('id')})"
            return [f"    match: {head}", f"    reason: {note.removeprefix('matched: ')}"]
        return ["    match: no Opportunity", f"    reason: {note}"]
    return ["    match: (not available: MatchOpportunity did not finish)"]


def _match_lines(match: dict[str, Any]) -> list[str]:
    opp = match.get("opportunity")
    account = match.get("account")
    if opp:
        text = f"Opportunity {opp.get('name')!r} ({opp.get('id')})"
        if opp.get("stage_name"):
            text += f", {opp['stage_name']}"
    elif account:
        text = f"no Opportunity; Account {account.get('name')!r} ({account.get('id')})"
    else:
        text = "no Opportunity or Account"
    lines = [f"    match: {text}"]
    if opp and account:
        lines.append(f"           on Account {account.get('name')!r} ({account.get('id')})")
    if match.get("reason"):
        lines.append(f"    reason: {match['reason']}")
    primary = match.get("primary_contact")
    if primary:
        lines.append(f"    primary contact: {primary.get('name') or ''} <{primary.get('email')}> ({primary.get('id')})")
    return lines


def _split_no_value(change: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """The change without the mapped fields the call gave no value for, and those fields' names.

    A record left unchanged whose every field had no value is not shown at all (None).
    """
    fields = change.get("fields") or []
    empty = [str(fc.get("field")) for fc in fields if fc.get("note") == NO_VALUE]
    if not empty:
        return change, []
    kept = [fc for fc in fields if fc.get("note") != NO_VALUE]
    if not kept and change.get("action") == "unchanged":
        return None, empty
    return {**change, "fields": kept}, empty


def _change_lines(change: dict[str, Any], dry_run: bool) -> list[str]:
    action = str(change.get("action"))
    verb = _WOULD.get(action, action) if dry_run else action
    label = change.get("label") or ""
    ident = change.get("id") or ""
    shown = f" {label!r}" if label else ""
    head = f"      {_SYMBOL.get(action, '*')} {verb} {change.get('object')}{shown} {ident}".rstrip()
    if change.get("note"):
        head += f"  ({change['note']})"
    lines = [head]
    if change.get("url"):
        lines.append(f"          {change['url']}")
    for fc in change.get("fields") or []:
        policy = f"  [{fc['policy']}]" if fc.get("policy") else ""
        note = f"  ({fc['note']})" if fc.get("note") else ""
        transition = _transition(fc.get("before"), fc.get("after"), fc.get("policy"))
        lines.append(f"          {fc.get('field')}: {transition}{policy}{note}")
    return lines


def _transition(before: Any, after: Any, policy: str | None = None) -> str:
    """``before -> after``; for appended text, the old value shortened and ``+ the added part``;
    an overwrite of a value says so (even when the new text starts with the old one)."""
    if policy == "overwrite" and before not in (None, "") and before != after:
        return f"{_short(before)} -> {_short(after)} (overwritten)"
    if isinstance(before, str) and isinstance(after, str) and before and after.startswith(before):
        added = after[len(before) :]
        if added.strip():
            return f"{_short(before, 40)} -> (kept) + {_short(added)}"
    return f"{_short(before)} -> {_short(after)}"


def _short(value: Any, limit: int = MAX_VALUE) -> str:
    if value is None or value == "":
        return "(empty)"
    text = value if isinstance(value, str) else json.dumps(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
