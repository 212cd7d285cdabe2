"""``callsync emulator serve`` and the HTTPS server under concurrent load."""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from callsync_dev.emulator import Emulator
from callsync_dev.emulator.cli import main, register_cli, serve_command
from callsync_dev.emulator.testing import salesforce_client

from tests.emulator.orgs import SMALL_ORG


def test_serve_prints_connection_and_stops_on_sigterm(tmp_path: pathlib.Path) -> None:
    # Given an org file
    org = tmp_path / "org.json"
    org.write_text(json.dumps(SMALL_ORG))
    # When the command is started as a process
    process = subprocess.Popen(
        [sys.executable, "-m", "callsync_dev.emulator.cli", "serve", "--org", str(org)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        assert process.stdout is not None
        connection = json.loads(process.stdout.readline())
        # Then it prints exactly the connection keys and serves the org over HTTPS
        assert set(connection) == {
            "instance_url",
            "ca_file",
            "client_id",
            "client_secret",
            "access_token",
            "refresh_token",
        }
        sf = salesforce_client(connection)
        assert sf.query("SELECT Name FROM Account")["records"][0]["Name"] == "Globex"
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
    # And it exits cleanly when terminated
    assert code == 0


def test_register_cli_and_main() -> None:
    # Given the callsync CLI's parser with our command registered
    parser = argparse.ArgumentParser(prog="callsync")
    register_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["emulator", "serve", "--port", "0"])
    assert args.handler is serve_command and args.org is None
    # When serve runs with a stop event set after the line is printed
    stop = threading.Event()
    lines: list[str] = []

    def out(line: str) -> None:
        lines.append(line)
        stop.set()

    # Then it prints one JSON line and returns 0
    assert serve_command(args, stop=stop, out=out) == 0
    assert json.loads(lines[0])["instance_url"].startswith("https://127.0.0.1:")
    # And a missing org file is a usage error
    assert main(["serve", "--org", "/nonexistent/org.json"]) == 2
    assert main(["serve", "--bogus"]) == 2


def test_concurrent_requests_are_safe(emulator: Emulator) -> None:
    # Given 8 clients writing and reading at the same time
    def work(n: int) -> int:
        sf = salesforce_client(emulator.connection)
        for i in range(10):
            sf.Contact.create({"LastName": f"T{n}-{i}", "Email": f"t{n}.{i}@x.example"})
        return sf.query("SELECT COUNT() FROM Contact")["totalSize"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(work, range(8)))
    # Then every write landed and every request was counted
    assert len(emulator.records("Contact")) == 1 + 80
    assert max(counts) == 81
    assert emulator.api_requests == 88
    assert Emulator  # the public class is importable from the package
