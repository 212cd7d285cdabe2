"""Lambda handlers as tests call them: a function's ``app.py`` loaded fresh, and the context object."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from callsync_dev.localstack import LocalLambdaContext

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def load_function(name: str) -> ModuleType:
    """``functions/<name>/app.py`` executed as a new module (its own module-level state), as Lambda loads it."""
    spec = importlib.util.spec_from_file_location(f"callsync_fn_{name}_under_test", FUNCTIONS / name / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lambda_context(function_name: str = "callsync-test", request_id: str = "req-1") -> LocalLambdaContext:
    """The context object a handler is invoked with (what Powertools' ``inject_lambda_context`` reads)."""
    return LocalLambdaContext(
        function_name=function_name,
        invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}",
        aws_request_id=request_id,
    )


def latest_report(ledger: Any, step: str) -> dict[str, Any]:
    """The step's most recently recorded report in the ledger, as JSON (handlers return no report: it is
    the ledger's, not the execution state's)."""
    entries = [e for e in ledger.all_entries() if e.step == step]
    assert entries, f"no {step} report in the ledger"
    return dict(max(entries, key=lambda e: e.recorded_at or "").as_json())
