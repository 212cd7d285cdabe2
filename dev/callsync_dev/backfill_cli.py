"""``callsync backfill account-links --file COMPANIES.jsonl [--org-id ORG] [--state DIR] [--json]`` (INTERFACES.md §4).

Fills the Account link field (settings ``account_link_field``) of the Accounts the file names, where it is
empty (``callsync.services.account_link_backfill``). Each line is ``{"account_id": ..., "url": ...}`` or
``{"domain": ..., "url": ...}``. With ``--state DIR`` it acts on the local environment of
``callsync run --state DIR``; without it, on the deployed stack (tables and secrets from its outputs).

A progress bar (tqdm) on stderr when stderr is a terminal, one plain line per batch otherwise; the
summary on stdout (``--json``: as JSON). An interrupted or budget-stopped run resumes where it stopped
when run again with the same file (checkpoints by file content); ``--restart`` starts it over.

Exit codes: 0 when every line was settled and none was invalid or failed; 1 when some line was invalid
or failed, or the run stopped early (API budget, Salesforce or AWS error, interrupt); 2 on a usage error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from callsync.domain.account_links import parse_lines
from callsync.errors import OrgBusy, PermanentError
from callsync.models.backfill import BackfillCheckpoint, BackfillStatus, BackfillSummary, InvalidLine, LinkLine
from callsync.services.account_link_backfill import MAX_BATCH, Progress

from callsync_dev.control_plane import add_org_arguments, control_plane, org_of
from callsync_dev.state_dir import StateError

EXIT_USAGE = 2
EXIT_BUSY = 1  # the org's concurrency slots are all held: nothing was done, run it again later
EXIT_INTERRUPTED = 130
PROBLEMS_SHOWN = 20


class UsageError(Exception):
    """A file or option the backfill cannot use (exit 2)."""


def register_cli(commands: Any) -> None:
    parser = commands.add_parser("backfill", help="fill Salesforce fields from a file (account-links)")
    kinds = parser.add_subparsers(dest="backfill_kind", required=True)
    links = kinds.add_parser(
        "account-links",
        help="fill the Account link field of the Accounts a JSONL file names (by id or website domain)",
    )
    links.add_argument(
        "--file", required=True, metavar="COMPANIES.jsonl", help='lines {"account_id" or "domain": ..., "url": ...}'
    )
    add_org_arguments(links, json_help="print the summary as JSON")
    links.add_argument("--restart", action="store_true", help="ignore this file's checkpoint and start over")
    links.add_argument(
        "--batch-size", type=int, default=MAX_BATCH, metavar="N", help=f"lines per batch, 1..{MAX_BATCH}"
    )
    links.set_defaults(handler=main)


def read_companies(path: str) -> tuple[list[LinkLine | InvalidLine], str]:
    """The file's parsed lines and the sha256 of its content (the checkpoint's key).

    Raises:
        UsageError: unreadable, not UTF-8, or without any non-blank line.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from e
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UsageError(f"{path} is not UTF-8 text (byte {e.start})") from e
    entries = parse_lines(text.splitlines())
    if not entries:
        raise UsageError(f"{path} has no lines")
    return entries, hashlib.sha256(raw).hexdigest()


def _progress(total: int) -> tuple[Progress, Callable[[], None]]:
    """A tqdm bar when stderr is a terminal, else one plain line per batch on stderr."""
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=total, unit="line", file=sys.stderr, desc="account links", leave=True)
        shown = [0]

        def advance(settled: int, checkpoint: BackfillCheckpoint) -> None:
            bar.update(settled - shown[0])
            shown[0] = settled
            c = checkpoint.counts
            bar.set_postfix(filled=c.filled, already_set=c.already_set, no_match=c.no_match, refresh=False)

        return advance, bar.close

    def line(settled: int, checkpoint: BackfillCheckpoint) -> None:
        c = checkpoint.counts
        print(
            f"backfill: {settled}/{total} lines (filled {c.filled}, already set {c.already_set}, "
            f"no match {c.no_match}, invalid {c.invalid}, failed {c.failed})",
            file=sys.stderr,
            flush=True,
        )

    return line, lambda: None


def main(args: argparse.Namespace, *, boto_session: Any = None) -> int:
    """The command; ``boto_session`` replaces the default AWS session of the deployed mode (tests)."""
    from callsync_dev.cli import _quiet_function_logs

    _quiet_function_logs(verbose=False)
    try:
        if not 1 <= args.batch_size <= MAX_BATCH:
            raise UsageError(f"--batch-size is 1..{MAX_BATCH}, got {args.batch_size}")
        entries, file_hash = read_companies(args.file)
        plane = control_plane(args.state, function="SyncFieldsFunction", boto_session=boto_session)
        with plane as (deps, settings_table, _stack):
            org_id = org_of(settings_table, args.org_id)
            settings = deps.settings.get(org_id)
            service = deps.account_link_backfill_service(org_id, batch_size=args.batch_size)
            advance, close = _progress(len(entries))
            try:
                # Like a pipeline step: one of the org's concurrency slots while it runs, and the org's latest
                # API usage reading stored at the end, so the budget guard counts what the backfill spent.
                with deps.salesforce_bound(org_id):
                    summary = service.run(settings, entries, file_hash, restart=args.restart, progress=advance)
            except OrgBusy as e:
                close()
                print(f"callsync backfill: {e}; try again when the org's calls have settled", file=sys.stderr)
                return EXIT_BUSY
            except KeyboardInterrupt:
                close()
                print(
                    "callsync backfill: interrupted; every batch before the interrupt is saved: "
                    "run the same command again to resume",
                    file=sys.stderr,
                )
                return EXIT_INTERRUPTED
            close()
    except (UsageError, StateError, PermanentError) as e:
        print(f"callsync backfill: {e}", file=sys.stderr)
        return EXIT_USAGE
    print(
        json.dumps({"file": args.file, **summary.model_dump(mode="json")}, indent=2)
        if args.json
        else render(summary, args.file)
    )
    return exit_code(summary)


def exit_code(summary: BackfillSummary) -> int:
    clean = summary.counts.invalid == 0 and summary.counts.failed == 0
    finished = summary.status in (BackfillStatus.COMPLETED, BackfillStatus.ALREADY_DONE)
    return 0 if finished and clean else 1


def render(summary: BackfillSummary, file: str) -> str:
    c = summary.counts
    lines = [
        f"account-link backfill of org {summary.org_id} from {file} ({summary.lines} lines): {summary.status.value}"
    ]
    if summary.reason:
        lines.append(f"  {summary.reason}")
    if summary.resumed_from_line is not None:
        lines.append(f"  resumed at line {summary.resumed_from_line} (an earlier run's checkpoint)")
    for label, count in (
        ("filled", c.filled),
        ("already set", c.already_set),
        ("no match", c.no_match),
        ("invalid", c.invalid),
        ("failed", c.failed),
    ):
        lines.append(f"  {label:<12}{count:>7}")
    usage = f" (org usage {summary.api_usage[0]}/{summary.api_usage[1]} today)" if summary.api_usage else ""
    lines.append(f"  Salesforce API requests: {summary.api_requests}{usage}")
    for problem in summary.problems[:PROBLEMS_SHOWN]:
        lines.append(f"line {problem.line} {problem.status.value}: {problem.reason}")
    if len(summary.problems) > PROBLEMS_SHOWN:
        lines.append(f"... and {len(summary.problems) - PROBLEMS_SHOWN} more (--json lists every one)")
    if c.failed:
        lines.append("Failed lines are not retried on resume: fix their cause, then run with --restart "
                     "(filled Accounts are found already set).")  # fmt: skip
    return "\n".join(lines) + "\n"
