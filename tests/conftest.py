"""Shared test set-up: never talk to real AWS, and name the bundled inputs once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The shared fixtures (aws, emulator_for, deps_for, lambda_context): see tests/support/stack.py.
pytest_plugins = ["tests.support.stack"]

# Any boto3 client a test builds outside moto must fail rather than reach a real account.
for _key, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    # Functions run in-process; a test that reads EMF turns metrics on itself (test_record_outcome_metrics).
    "POWERTOOLS_METRICS_DISABLED": "true",
}.items():
    os.environ.setdefault(_key, _value)

REPO_ROOT = Path(__file__).resolve().parents[1]
EVENTS_DIR = REPO_ROOT / "events"


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def events_dir() -> Path:
    return EVENTS_DIR
