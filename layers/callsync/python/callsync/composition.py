"""The one composition root: builds the real adapters once per cold start.

Handlers do ``deps = deps or get_dependencies()``; tests pass their own
``Dependencies`` (with ``callsync.testing`` fakes or adapters built under moto)
instead of patching globals. Nothing here touches AWS at import time.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
import requests

from callsync.adapters.describe_cache import CachedDescribeSource, DescribeMemory
from callsync.adapters.dynamodb_claims import DynamoDbClaims
from callsync.adapters.dynamodb_ledger import DynamoDbLedger
from callsync.adapters.dynamodb_settings import DynamoDbSettingsStore
from callsync.adapters.salesforce_api import SimpleSalesforceApi, make_session
from callsync.adapters.secrets_tokens import SecretsManagerAppCredentials, SecretsManagerTokenStore
from callsync.adapters.token_refresh import TokenRefresher
from callsync.config import Config, load_config
from callsync.ports import Claims, DescribeSource, Ledger, SalesforceApi, SettingsStore, TokenStore


@dataclass
class Dependencies:
    """Everything a handler's service needs, built once per process.

    ``salesforce(org_id)`` gives a fresh client per invocation (its ``api_requests``
    starts at 0) sharing the HTTP session, the token cache and the refresher.
    """

    config: Config
    settings: SettingsStore
    ledger: Ledger
    tokens: TokenStore
    claims: Claims
    session: requests.Session | None = field(default=None, repr=False)
    refresher: TokenRefresher | None = field(default=None, repr=False)
    describe_table: Any = field(default=None, repr=False)
    describe_memory: DescribeMemory = field(default_factory=DescribeMemory, repr=False)
    boto_session: Any = field(default=None, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def salesforce(self, org_id: str) -> SalesforceApi:
        """A new counting Salesforce client for ``org_id`` (one per invocation)."""
        if self.session is None or self.refresher is None:
            raise RuntimeError("these Dependencies have no Salesforce session: build them with build_dependencies")
        return SimpleSalesforceApi(
            org_id,
            tokens=self.tokens,  # type: ignore[arg-type]
            refresher=self.refresher,
            session=self.session,
            api_version=self.config.salesforce_api_version,
        )

    def describes(self, org_id: str, api: SalesforceApi) -> DescribeSource:
        """Describes of ``org_id`` through ``api`` (its requests count on ``api``)."""
        if self.describe_table is None:
            raise RuntimeError("these Dependencies have no describe cache table: build them with build_dependencies")
        return CachedDescribeSource(
            org_id,
            api,
            self.describe_table,
            ttl_seconds=self.config.describe_ttl_seconds,
            memory=self.describe_memory,
        )

    def _client(self, name: str) -> Any:
        with self._lock:
            if name not in self._clients:
                self._clients[name] = (self.boto_session or boto3.session.Session()).client(name)
            return self._clients[name]

    def sqs(self) -> Any:
        """boto3 SQS client (created on first use)."""
        return self._client("sqs")

    def stepfunctions(self) -> Any:
        """boto3 Step Functions client (created on first use)."""
        return self._client("stepfunctions")


def build_dependencies(config: Config | None = None, *, boto_session: Any = None) -> Dependencies:
    """The real adapters: DynamoDB tables, Secrets Manager, one HTTP session."""
    config = config or load_config()
    aws = boto_session or boto3.session.Session()
    dynamodb = aws.resource("dynamodb")
    secrets = aws.client("secretsmanager")
    tokens = SecretsManagerTokenStore(secrets, prefix=config.secret_prefix, cache_seconds=config.secret_cache_seconds)
    session = make_session(config.salesforce_ca_bundle)
    refresher = TokenRefresher(tokens, SecretsManagerAppCredentials(secrets, config.app_secret_name), session)
    return Dependencies(
        config=config,
        settings=DynamoDbSettingsStore(dynamodb.Table(config.settings_table)),
        ledger=DynamoDbLedger(dynamodb.Table(config.ledger_table)),
        tokens=tokens,
        claims=DynamoDbClaims(dynamodb.Table(config.claims_table)),
        session=session,
        refresher=refresher,
        describe_table=dynamodb.Table(config.describe_cache_table),
        boto_session=aws,
        _clients={"secretsmanager": secrets},
    )


_built: Dependencies | None = None
_built_lock = threading.Lock()


def get_dependencies() -> Dependencies:
    """The process-wide Dependencies, built on first call (once per cold start)."""
    global _built
    with _built_lock:
        if _built is None:
            _built = build_dependencies()
        return _built
