"""moto AWS (tables and secrets like the template) and emulator factories for the admin commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from callsync_dev.emulator import Emulator
from moto import mock_aws

TABLES = {
    "callsync-settings": [("org_id", "HASH")],
    "callsync-ledger": [("call_key", "HASH"), ("sk", "RANGE")],
    "callsync-describe-cache": [("pk", "HASH")],
    "callsync-claims": [("pk", "HASH")],
}
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def create_tables(session: Any) -> None:
    client = session.client("dynamodb")
    for name, keys in TABLES.items():
        client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
            BillingMode="PAY_PER_REQUEST",
        )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Given an embedded AWS (moto) with the four tables; yields a boto3 Session."""
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        create_tables(session)
        yield session


@pytest.fixture
def emulator_for() -> Iterator[Callable[[dict[str, Any]], Emulator]]:
    """A factory: a running emulator seeded with a fixture; stopped after the test."""
    started: list[Emulator] = []

    def start(fixture: dict[str, Any]) -> Emulator:
        emu = Emulator.from_fixture(fixture, auto_approve=True).start()
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()
