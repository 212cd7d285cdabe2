"""Fixtures of the LogActivity integration tests: emulator, moto tables, wired Dependencies."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from activity_stack import ORG, TABLES, org_fixture
from callsync.composition import Dependencies, build_dependencies
from callsync.config import Config
from callsync_dev.emulator import Emulator
from moto import mock_aws


@pytest.fixture
def emulator() -> Iterator[Callable[..., Emulator]]:
    started: list[Emulator] = []

    def start(fixture: dict[str, Any] | None = None) -> Emulator:
        emu = Emulator.from_fixture(fixture or org_fixture()).start()
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        client = session.client("dynamodb")
        for name, keys in TABLES.items():
            client.create_table(
                TableName=name, KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
                AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
                BillingMode="PAY_PER_REQUEST")
        yield session


@pytest.fixture
def connect(aws: Any) -> Callable[[Emulator], Dependencies]:
    """Stores the emulator's tokens like `callsync connect` would; returns Dependencies built on them."""

    def wire(emu: Emulator) -> Dependencies:
        conn = emu.connection
        config = Config(salesforce_ca_bundle=conn["ca_file"])
        secrets = aws.client("secretsmanager")
        secrets.create_secret(Name=config.app_secret_name, SecretString=json.dumps(
            {"client_id": conn["client_id"], "client_secret": conn["client_secret"]}))
        secrets.create_secret(Name=config.secret_prefix + ORG, SecretString=json.dumps(
            {"instance_url": conn["instance_url"], "access_token": conn["access_token"],
             "refresh_token": conn["refresh_token"], "issued_at": "0", "id": "x"}))
        return build_dependencies(config, boto_session=aws)

    return wire


@dataclass
class LambdaContext:
    """What Powertools' inject_lambda_context reads from a Lambda context."""

    function_name: str = "callsync-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:callsync-test"
    aws_request_id: str = "req-1"


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()
