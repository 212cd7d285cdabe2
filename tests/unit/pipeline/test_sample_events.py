"""The sample events (sam local invoke -e, tests, README) say what their names say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from callsync.errors import InvalidEvent
from callsync.models.settings import OrgSettings
from callsync.models.state import SyncState
from callsync.models.validation import parse_event

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "events"


def test_the_sample_demo_event_is_the_bundled_demo_event() -> None:
    bundled = ROOT / "dev/callsync_dev/demo/demo_event.json"
    assert json.loads((EVENTS / "demo_event.json").read_text()) == json.loads(bundled.read_text())


@pytest.mark.parametrize(
    "name", ["demo_event.json", "demo_event_revision2.json", "autosync_off_event.json", "unknown_org_event.json"]
)
def test_valid_samples_parse_as_v1_events(name: str) -> None:
    parse_event((EVENTS / name).read_text())


@pytest.mark.parametrize("name", ["malformed_event.json", "not_json.txt"])
def test_invalid_samples_are_rejected(name: str) -> None:
    with pytest.raises(InvalidEvent):
        parse_event((EVENTS / name).read_text())


def test_sqs_sample_wraps_the_demo_event_like_the_event_source_mapping() -> None:
    (record,) = json.loads((EVENTS / "sqs_demo_event.json").read_text())["Records"]
    assert record["eventSource"] == "aws:sqs" and record["messageId"]
    assert json.loads(record["body"]) == json.loads((EVENTS / "demo_event.json").read_text())


def test_state_sample_is_the_state_machine_input() -> None:
    state = SyncState.model_validate_json((EVENTS / "sync_state_demo.json").read_text())
    assert state.call.call_key == "acme#zoom-8841-2026-06-03#1" and state.match is None


def test_settings_samples_validate_and_one_org_has_autosync_off() -> None:
    raw = json.loads((EVENTS / "settings_acme_and_umbrella.json").read_text())
    items = [OrgSettings.model_validate(i) for i in raw]
    assert {(s.org_id, s.autosync) for s in items} == {("acme", True), ("umbrella", False)}
    OrgSettings.model_validate_json((ROOT / "dev/callsync_dev/demo/demo_settings.json").read_text())


def test_the_budget_guard_sample_is_the_state_machine_input_with_the_execution_name() -> None:
    from callsync.services.api_budget import BudgetInput

    data = BudgetInput.model_validate(json.loads((EVENTS / "check_api_budget_demo.json").read_text()))
    assert data.call.org_id == "acme" and data.execution_name.startswith("acme-")
