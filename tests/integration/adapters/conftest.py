"""moto AWS with the tables and secrets the template defines (same key schemas)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from callsync.config import Config
from moto import mock_aws

TABLES = {
    "callsync-settings": [("org_id", "HASH")],
    "callsync-ledger": [("call_key", "HASH"), ("sk", "RANGE")],
    "callsync-describe-cache": [("pk", "HASH")],
    "callsync-claims": [("pk", "HASH")],
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A moto AWS with the four tables (PAY_PER_REQUEST, TTL on expires_at); yields a boto3 Session."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        client = session.client("dynamodb")
        for name, keys in TABLES.items():
            client.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
                AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
                BillingMode="PAY_PER_REQUEST",
            )
            client.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
            )
        yield session


@pytest.fixture
def config() -> Config:
    return Config()


def put_secret(session: Any, name: str, value: dict[str, Any]) -> None:
    session.client("secretsmanager").create_secret(Name=name, SecretString=json.dumps(value))
