"""``callsync`` — the project's command line (INTERFACES.md §4).

    callsync run EVENT.json [EVENT.json ...] [--org ORG.json] [--settings SETTINGS.json] [--out RESULT.json] [--dry-run]
                 [--sequential] [--state DIR]
    callsync demo [--out RESULT.json] [--dry-run]
    callsync emulator serve [--org ORG.json] [--port N]
    callsync backfill account-links --file COMPANIES.jsonl [--org-id ORG] [--state DIR] [--json]
    callsync --version

Exit codes: 0 when every run is SUCCEEDED, SKIPPED, DUPLICATE, DEFERRED or PREVIEWED; 1 when any is
FAILED or REJECTED; 2 on a usage error. The report goes to stdout; logs go to stderr (warnings only,
unless ``--verbose``). Any command: exit 2 with one line when AWS has no region or no credentials;
141 (quietly) when stdout's reader went away (``callsync ... | head``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_USAGE = 2

# Commands other modules add with ``register_cli(subparsers)`` (dispatch through ``args.handler(args)``).
_REGISTRARS = (
    "callsync_dev.emulator.cli",
    "callsync_dev.connect",
    "callsync_dev.doctor_cli",
    "callsync_dev.settings_cli",
    "callsync_dev.read_side_cli",
    "callsync_dev.replay_cli",
    "callsync_dev.status_cli",
    "callsync_dev.backfill_cli",
    "callsync_dev.revert_cli",
    "callsync_dev.reassociate_cli",
    "callsync_dev.invoke",
)


def _add_run_options(parser: argparse.ArgumentParser, *, with_inputs: bool) -> None:
    if with_inputs:
        parser.add_argument(
            "events",
            nargs="+",
            metavar="EVENT.json",
            help="call.processed v1 event files; each one becomes one SQS message, in order",
        )
        parser.add_argument("--org", metavar="ORG.json", help="org fixture for the emulator (default: the demo org)")
        parser.add_argument(
            "--settings",
            metavar="SETTINGS.json",
            help="org settings item, or a list of them (default: the demo settings)",
        )
        parser.add_argument(
            "--sequential",
            action="store_true",
            help="send one message at a time, each settled before the next (calls over time)",
        )
        parser.add_argument(
            "--state",
            metavar="DIR",
            help="keep the environment in DIR between runs: DIR/org.json (editable) and the "
            "AWS side; the first run seeds it from --org/--settings, later runs ignore "
            "--org and replace stored settings only when --settings is given",
        )
    parser.add_argument("--out", metavar="RESULT.json", help="write runs, org dump, api_requests, ledger and dlq")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="run against a throwaway copy of the org and report what would change; "
        "the org written to --out is the one before the run",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="INFO logs of every function on stderr")


EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a command whose reader went away


def package_version() -> str:
    """The installed callsync distribution's version (``pyproject.toml``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("callsync")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="callsync", description="Post-call CRM automation for Salesforce.")
    parser.add_argument("--version", action="version", version=f"callsync {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run events through the local stack (SQS -> Step Functions -> emulator)")
    _add_run_options(run, with_inputs=True)
    run.set_defaults(handler=_run_command)
    demo = commands.add_parser("demo", help="callsync run on the bundled demo event, org and settings")
    _add_run_options(demo, with_inputs=False)
    demo.set_defaults(handler=_demo_command)
    for module_name in _REGISTRARS:
        importlib.import_module(module_name).register_cli(commands)
    return parser


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time (it may be replaced, e.g. by test capture)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _quiet_function_logs(verbose: bool) -> None:
    """Function logs (Powertools JSON) go to stderr so stdout carries only the report."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO" if verbose else "WARNING")
    from callsync.observability import logger

    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    # moto's ASL interpreter logs every failed state at ERROR (with the whole cause); the report says it.
    logging.getLogger("moto").setLevel(logging.DEBUG if verbose else logging.CRITICAL)
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler.stream, _CurrentStderr):
            handler.stream = _CurrentStderr()


def _execute(events: Sequence[str], args: argparse.Namespace) -> int:
    from callsync_dev.report import render
    from callsync_dev.runner import UsageError, run

    _quiet_function_logs(args.verbose)
    try:
        result = run(
            events,
            org=getattr(args, "org", None),
            settings=getattr(args, "settings", None),
            dry_run=args.dry_run,
            sequential=getattr(args, "sequential", False),
            state=getattr(args, "state", None),
        )
    except UsageError as e:
        print(f"callsync: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(render(result))
    if args.out:
        Path(args.out).write_text(json.dumps(result.to_json(), indent=2, default=str) + "\n", encoding="utf-8")
        print(f"Result written to {args.out}")
    return result.exit_code


def _run_command(args: argparse.Namespace) -> int:
    return _execute(args.events, args)


def _demo_command(args: argparse.Namespace) -> int:
    from callsync_dev.runner import DEMO_EVENT, DEMO_ORG, DEMO_SETTINGS

    args.org, args.settings = str(DEMO_ORG), str(DEMO_SETTINGS)
    return _execute([str(DEMO_EVENT)], args)


def main(argv: Sequence[str] | None = None) -> int:
    """The console script. AWS set-up problems end in one line and exit 2; a reader that went away
    (``callsync ... | head``) ends the command quietly."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    # This process is never a Lambda function: functions it runs in-process (the local stack, possibly still
    # finishing an execution in moto's background thread) must not print EMF metrics into its report.
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    try:
        parser = build_parser()
        args = parser.parse_args(argv)  # exits 2 on a usage error
        handler: Any = args.handler
        code = int(handler(args))
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except NoRegionError:
        print(
            "callsync: no AWS region is set: export AWS_DEFAULT_REGION (e.g. eu-west-1) or set a region in "
            "your AWS profile; with --state DIR (or --local for settings) the command runs locally",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except NoCredentialsError:
        print(
            "callsync: no AWS credentials found: sign in (e.g. aws sso login) or export AWS_PROFILE; "
            "with --state DIR (or --local for settings) the command runs locally",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except (ClientError, BotoCoreError) as e:
        print(f"callsync: AWS refused: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # Nothing more can reach the reader; point stdout at /dev/null so the exit flush cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    raise SystemExit(main())
