"""Cold start: what importing a handler module loads (a fresh interpreter per check, as Lambda's init does).

The composition root imports boto3 and the adapters only when it builds them; StartSync and
RecordOutcome never load simple_salesforce; with tracing off, X-Ray's SDK is never imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from callsync.observability import tracing_disabled

ROOT = Path(__file__).resolve().parents[3]
LAYER = ROOT / "layers" / "callsync" / "python"
WRITE_SIDE = ("create_contacts", "log_activity", "match_opportunity", "record_outcome", "start_sync", "sync_fields")
WATCHED = ("boto3", "simple_salesforce", "requests", "aws_xray_sdk.core")


def modules_after(code: str, *, cwd: Path, env: dict[str, str]) -> dict[str, bool]:
    """Run ``code`` in a fresh interpreter; which of WATCHED (and a tracer provider name) it loaded."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "LAMBDA_", "AWS_SAM"))}
    probe = f"{code}\nimport sys, json\nprint(json.dumps({{m: m in sys.modules for m in {WATCHED!r}}}))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={**base, "PYTHONPATH": str(LAYER), "AWS_DEFAULT_REGION": "us-east-1", **env},
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("function", WRITE_SIDE)
def test_importing_a_handler_loads_neither_boto3_nor_xray_when_tracing_is_off(function: str) -> None:
    # Given tracing disabled / When the handler module is imported
    loaded = modules_after("import app", cwd=ROOT / "functions" / function, env={"POWERTOOLS_TRACE_DISABLED": "true"})
    # Then neither boto3 nor the X-Ray SDK was imported (boto3 comes with the first get_dependencies())
    assert not loaded["boto3"] and not loaded["aws_xray_sdk.core"]


@pytest.mark.parametrize("function", ["start_sync", "record_outcome"])
def test_steps_without_salesforce_never_load_simple_salesforce(function: str) -> None:
    # Given a handler that never talks to Salesforce
    # When it is imported and its real dependencies are built and used as the handler uses them
    code = (
        "import app\nfrom callsync.composition import build_dependencies\n"
        "deps = build_dependencies()\ndeps.sqs(); deps.stepfunctions()"
    )
    loaded = modules_after(code, cwd=ROOT / "functions" / function, env={"POWERTOOLS_TRACE_DISABLED": "1"})
    # Then boto3 is there, and neither simple_salesforce nor requests ever was
    assert loaded["boto3"] and not loaded["simple_salesforce"] and not loaded["requests"]


def test_a_salesforce_client_builds_its_session_on_first_use() -> None:
    # Given dependencies built for the match step
    code = (
        "import app\nfrom callsync.composition import build_dependencies\n"
        "deps = build_dependencies()\nassert deps.session is None and deps.refresher is None\n"
        "api = deps.salesforce('00Dxx'); deps.describes('00Dxx', api)\n"
        "assert deps.session is not None and deps.refresher is not None\n"
        "assert deps.salesforce('00Dxx') is not api"
    )
    # When a Salesforce client is asked for / Then the session and refresher exist, shared from then on
    loaded = modules_after(code, cwd=ROOT / "functions" / "match_opportunity", env={"POWERTOOLS_TRACE_DISABLED": "1"})
    assert loaded["simple_salesforce"] and loaded["requests"]


def test_with_tracing_on_the_tracer_is_x_rays() -> None:
    # Given a Lambda environment with tracing on
    code = (
        "from callsync.observability import tracer\n"
        "assert not tracer.disabled and 'aws_xray_sdk' in type(tracer.provider).__module__"
    )
    # When the observability module is imported / Then the Tracer uses the X-Ray recorder
    env = {"LAMBDA_TASK_ROOT": "/var/task", "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"}
    loaded = modules_after(code, cwd=ROOT, env=env)
    assert loaded["aws_xray_sdk.core"]


@pytest.mark.parametrize(
    ("env", "disabled"),
    [
        ({"LAMBDA_TASK_ROOT": "/var/task"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, True),
        ({}, True),  # outside Lambda
    ],
)
def test_tracing_is_off_by_powertools_rules(env: dict[str, str], disabled: bool) -> None:
    assert tracing_disabled(env) is disabled
