"""Helpers of the end-to-end tests: the bundled demo inputs as dicts, event files, the org after a run."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from callsync_dev.runner import DEMO_EVENT, RunResult


def load(path: Path) -> dict[str, Any]:
    """A JSON document (the demo org, settings or event) as a fresh dict."""
    return dict(json.loads(path.read_text()))


def write_event(tmp_path: Path, name: str, base: dict[str, Any] | None = None, **changes: Any) -> Path:
    """``base`` (the demo event by default) with top-level ``changes``, written to ``tmp_path/<name>.json``."""
    event = copy.deepcopy(base) if base is not None else load(DEMO_EVENT)
    event.update(copy.deepcopy(changes))
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(event))
    return path


def records(result: RunResult, object_name: str) -> list[dict[str, Any]]:
    """Every record of ``object_name`` in the org as the run left it (deleted ones included)."""
    return list(result.org["records"].get(object_name) or [])


def live(result: RunResult, object_name: str) -> list[dict[str, Any]]:
    """The records of ``object_name`` the run left undeleted."""
    return [r for r in records(result, object_name) if not r.get("IsDeleted")]


def state_org(state: Path) -> dict[str, Any]:
    """The org of a local environment (``callsync run --state DIR``) as its last command saved it."""
    return load(state / "org.json")


def live_records(org: dict[str, Any], object_name: str) -> list[dict[str, Any]]:
    """The undeleted records of ``object_name`` in an org document."""
    return [r for r in org["records"].get(object_name) or [] if not r.get("IsDeleted")]


def one_record(org: dict[str, Any], object_name: str, **match: Any) -> dict[str, Any]:
    """The one undeleted record of ``object_name`` whose fields equal ``match`` (fails unless exactly one)."""
    (found,) = [r for r in live_records(org, object_name) if all(r.get(k) == v for k, v in match.items())]
    return found
