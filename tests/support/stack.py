"""Shared building blocks of the integration tests: moto AWS, emulator orgs, Dependencies wired to both.

Registered for every test by ``pytest_plugins`` in ``tests/conftest.py``. The fixtures:

* ``aws``: an embedded AWS (``moto.mock_aws``) holding the four tables of ``template.yaml`` (same key
  schemas, under the names ``Config`` uses); yields a boto3 ``Session``.
* ``emulator_for(fixture=None, **org_settings)``: starts an emulator seeded with ``fixture`` (a copy of it;
  keyword arguments are merged in, e.g. ``session_expires_after=1``); every one is stopped after the test.
* ``deps_for(emulator, org="acme")``: ``Dependencies`` with the real adapters over moto and the emulator,
  after storing the app credentials and the org's tokens like ``callsync connect`` does. Each call is a
  new "Lambda process" (fresh in-memory caches); the secrets are seeded once per emulator and org.
* ``lambda_context``: a Lambda context object as Powertools reads it.

Plain helpers: ``put_secret`` (a JSON secret in Secrets Manager) and ``seed_org_secrets``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from callsync.composition import Dependencies, build_dependencies
from callsync.config import Config
from callsync_dev.admin_aws import REGION, create_tables
from callsync_dev.emulator import Emulator
from callsync_dev.localstack import LocalLambdaContext
from moto import mock_aws

from tests.support.lambdas import lambda_context

ORG_ID = "acme"
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}

StartEmulator = Callable[..., Emulator]
WireDependencies = Callable[..., Dependencies]


def put_secret(session: Any, name: str, value: dict[str, Any]) -> None:
    """Create a Secrets Manager secret holding ``value`` as JSON."""
    session.client("secretsmanager").create_secret(Name=name, SecretString=json.dumps(value))


def seed_org_secrets(session: Any, emulator: Emulator, org: str = ORG_ID) -> Config:
    """Store the emulator's app credentials and ``org``'s tokens as ``callsync connect`` would.

    Returns the ``Config`` that trusts the emulator's CA (the secret names are its defaults).
    """
    conn = emulator.connection
    config = Config(salesforce_ca_bundle=conn["ca_file"])
    put_secret(
        session, config.app_secret_name, {"client_id": conn["client_id"], "client_secret": conn["client_secret"]}
    )
    put_secret(
        session,
        config.secret_prefix + org,
        {
            "instance_url": conn["instance_url"],
            "access_token": conn["access_token"],
            "refresh_token": conn["refresh_token"],
            "issued_at": "0",
            "id": "x",
        },
    )
    return config


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Given an embedded AWS (moto) with the template's four tables; yields a boto3 Session."""
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        create_tables(session, Config())
        yield session


@pytest.fixture
def emulator_for() -> Iterator[StartEmulator]:
    """A factory: a running emulator seeded with a copy of a fixture (plus org settings); stopped after."""
    started: list[Emulator] = []

    def start(fixture: dict[str, Any] | None = None, **org_settings: Any) -> Emulator:
        emu = Emulator.from_fixture({**copy.deepcopy(fixture or {}), **org_settings}).start()
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()


@pytest.fixture
def deps_for(aws: Any) -> WireDependencies:
    """A factory: Dependencies (real adapters) over moto and an emulator; one call = one Lambda process."""
    configs: dict[tuple[int, str], Config] = {}

    def wire(emulator: Emulator, org: str = ORG_ID) -> Dependencies:
        key = (id(emulator), org)
        if key not in configs:
            configs[key] = seed_org_secrets(aws, emulator, org)
        return build_dependencies(configs[key], boto_session=aws)

    return wire


@pytest.fixture(name="lambda_context")
def lambda_context_fixture() -> LocalLambdaContext:
    """The Lambda context a handler is invoked with (see tests/support/lambdas.py)."""
    return lambda_context()
