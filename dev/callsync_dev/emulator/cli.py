"""``callsync emulator serve [--org ORG.json] [--port N]`` (INTERFACES.md §4)."""

from __future__ import annotations

import argparse
import json
import pathlib
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import callsync_dev
from callsync_dev.emulator import Emulator, FixtureError

DEMO_ORG = pathlib.Path(callsync_dev.__file__).parent / "demo" / "demo_org.json"


def register_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``emulator`` command (with ``serve``) to a parent parser's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "emulator", help="a local Salesforce org emulator over HTTPS"
    )
    commands = parser.add_subparsers(dest="emulator_command", required=True)
    serve = commands.add_parser("serve", help="serve an org until interrupted; prints one JSON line to connect")
    serve.add_argument("--org", metavar="ORG.json", help="org fixture (default: the bundled demo org)")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    serve.add_argument(
        "--manual-approve",
        action="store_true",
        help="show an approval page on /services/oauth2/authorize instead of redirecting at once",
    )
    serve.set_defaults(handler=serve_command)
    return parser


def serve_command(
    args: argparse.Namespace, *, stop: threading.Event | None = None, out: Callable[[str], None] | None = None
) -> int:
    """Start the emulator, print its connection as one JSON line, serve until interrupted (or ``stop``)."""
    try:
        org = args.org if args.org is not None else (DEMO_ORG if DEMO_ORG.is_file() else None)
        emulator = Emulator.from_fixture(org, auto_approve=not args.manual_approve)
    except (OSError, ValueError, FixtureError) as exc:
        print(f"callsync emulator: cannot load org: {exc}", file=sys.stderr)
        return 2
    stopping = stop or threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():  # before the line: a caller may stop us at once
        previous = signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        emulator.start(args.port)
        try:
            (out or (lambda text: print(text, flush=True)))(json.dumps(emulator.connection))
            while not stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            emulator.stop()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``python -m callsync_dev.emulator.cli serve ...`` and tests."""
    parser = argparse.ArgumentParser(prog="callsync")
    register_cli(parser.add_subparsers(dest="command", required=True))
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "emulator":
        argv = ["emulator", *argv]
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
