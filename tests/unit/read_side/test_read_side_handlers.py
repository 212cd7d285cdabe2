"""The read-side handlers' own behaviour (the rest is exercised end to end against the emulator)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from callsync.errors import InvalidEvent

FUNCTIONS = Path(__file__).resolve().parents[3] / "functions"


@dataclass
class FakeLambdaContext:
    function_name: str = "crm-context"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:crm-context"
    aws_request_id: str = "req-1"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"read_side_{name}", FUNCTIONS / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("event", [{}, {"org_id": ""}, {"org_id": "acme", "at": "not a time"},
                                   {"org_id": "acme", "at": "2026-11-25T15:00:00"}])  # naive: no offset
def test_an_invalid_context_request_is_an_invalid_event_naming_the_field(event):
    # Given a malformed invoke payload / When the handler runs (no dependencies are built for it)
    with pytest.raises(InvalidEvent) as raised:
        load("crm_context").handler(event, FakeLambdaContext())
    # Then the error names what is wrong
    assert "invalid deal context request" in str(raised.value)
    assert ("org_id" in str(raised.value)) or ("at" in str(raised.value))
