"""Operator commands racing calls in one local environment: each command in its own thread while the calls
are delivered together (``runner.deliver``), and the faults such races are also run under."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from callsync_dev.control_plane import local_environment
from callsync_dev.localstack import LocalStack
from callsync_dev.runner import EventInput, RunResult, deliver

from tests.support.demo import state_org


def while_delivering(
    state: Path, calls: Sequence[EventInput], commands: Sequence[Callable[[LocalStack], None]]
) -> RunResult:
    """Run each of ``commands`` in a thread of its own on the environment ``state`` while ``calls`` are
    delivered to it; return once the calls' executions and every command have ended (the environment saved)."""
    with local_environment(state) as stack:
        threads = [threading.Thread(target=command, args=(stack,)) for command in commands]
        for thread in threads:
            thread.start()
        delivered = deliver(stack, list(calls))
        for thread in threads:
            thread.join()
    return delivered


def inject_faults(state: Path) -> None:
    """From now on Salesforce refuses writes for a while: row locks on updates, an outage on creates and
    failed composite requests (the control plane's reads and writes among them)."""
    org = state_org(state)
    org["faults"] = [
        {"method": "PATCH", "path": "composite/sobjects", "skip": 1, "times": 4, "status": 400,
         "errorCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access to this record"},
        {"method": "POST", "path": "composite/sobjects", "skip": 0, "times": 3, "status": 503,
         "errorCode": "SERVER_UNAVAILABLE", "message": "try later"},
        {"method": "POST", "path": "composite$", "skip": 2, "times": 5, "status": 503,
         "errorCode": "SERVER_UNAVAILABLE", "message": "try later"},
    ]  # fmt: skip
    (state / "org.json").write_text(json.dumps(org))
