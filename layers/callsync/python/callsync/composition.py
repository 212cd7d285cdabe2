"""The one composition root: builds the real adapters once per cold start.

Handlers do ``deps = deps or get_dependencies()``; tests pass their own
``Dependencies`` (with ``tests.support.fakes`` fakes or adapters built under moto)
instead of patching globals. Nothing here touches AWS at import time.

Imports are lazy: importing this module loads neither boto3 nor any adapter, and
the Salesforce pieces (``simple_salesforce``, the HTTP session, the token refresher)
are built on the first ``salesforce()`` call, so handlers that never talk to
Salesforce (StartSync, RecordOutcome) never import them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from callsync.config import Config, load_config
from callsync.ports import Claims, DescribeSource, Leases, Ledger, SalesforceApi, SettingsStore, TokenStore

if TYPE_CHECKING:
    import requests

    from callsync.adapters.describe_cache import DescribeMemory
    from callsync.adapters.token_refresh import TokenRefresher
    from callsync.services.account_link_backfill import AccountLinkBackfill
    from callsync.services.call_status import CallStatusService
    from callsync.services.create_contacts import CreateContacts
    from callsync.services.deal_context import DealContextService
    from callsync.services.log_activity import LogActivity
    from callsync.services.match_opportunity import MatchOpportunity
    from callsync.services.reassociate import ReassociateCall
    from callsync.services.replay import ExecutionInputs
    from callsync.services.revert import RevertCall
    from callsync.services.start_sync import StartSync
    from callsync.services.sync_fields import SyncFields
    from callsync.services.watch_closed_deals import DispatchOrgWatches, WatchClosedDeals


RemainingMs = Callable[[], int]  # the Lambda context's get_remaining_time_in_millis


@dataclass
class Dependencies:
    """Everything a handler's service needs, built once per process.

    ``salesforce(org_id)`` gives a fresh client per invocation (its ``api_requests``
    starts at 0) sharing the HTTP session, the token cache and the refresher. Built by
    ``build_dependencies``, the session and the refresher come from ``salesforce_factory``
    on first use; built by hand (tests), pass ``session`` and ``refresher`` directly.
    """

    config: Config
    settings: SettingsStore
    ledger: Ledger
    tokens: TokenStore
    claims: Claims
    leases: Leases | None = None  # record and call leases (the claims table); None: no leasing
    session: requests.Session | None = field(default=None, repr=False)
    refresher: TokenRefresher | None = field(default=None, repr=False)
    describe_table: Any = field(default=None, repr=False)
    describe_memory: DescribeMemory | None = field(default=None, repr=False)  # created on first describes()
    boto_session: Any = field(default=None, repr=False)
    salesforce_factory: Callable[[], tuple[requests.Session, TokenRefresher]] | None = field(default=None, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def salesforce(self, org_id: str, remaining_ms: RemainingMs | None = None) -> SalesforceApi:
        """A new counting Salesforce client for ``org_id`` (one per invocation).

        ``remaining_ms`` (the Lambda context's ``get_remaining_time_in_millis``) gives every request a
        deadline inside the invocation (``salesforce_api.deadline_timeout``): a slow Salesforce ends in
        a retryable ``SalesforceUnavailable`` instead of a Lambda timeout.
        """
        from callsync.adapters.salesforce_api import DEFAULT_TIMEOUT, SimpleSalesforceApi, deadline_timeout

        session, refresher = self._salesforce_session()
        return SimpleSalesforceApi(
            org_id,
            tokens=self.tokens,  # type: ignore[arg-type]
            refresher=refresher,
            session=session,
            api_version=self.config.salesforce_api_version,
            timeout=deadline_timeout(remaining_ms) if remaining_ms is not None else DEFAULT_TIMEOUT,
        )

    def describes(self, org_id: str, api: SalesforceApi) -> DescribeSource:
        """Describes of ``org_id`` through ``api`` (its requests count on ``api``)."""
        if self.describe_table is None:
            raise RuntimeError("these Dependencies have no describe cache table: build them with build_dependencies")
        from callsync.adapters.describe_cache import CachedDescribeSource, DescribeMemory

        with self._lock:
            if self.describe_memory is None:
                self.describe_memory = DescribeMemory()
            memory = self.describe_memory
        return CachedDescribeSource(
            org_id,
            api,
            self.describe_table,
            ttl_seconds=self.config.describe_ttl_seconds,
            memory=memory,
        )

    def _salesforce_session(self) -> tuple[requests.Session, TokenRefresher]:
        with self._lock:
            if (self.session is None or self.refresher is None) and self.salesforce_factory is not None:
                self.session, self.refresher = self.salesforce_factory()
            if self.session is None or self.refresher is None:
                raise RuntimeError("these Dependencies have no Salesforce session: build them with build_dependencies")
            return self.session, self.refresher

    def _client(self, name: str) -> Any:
        with self._lock:
            if name not in self._clients:
                if self.boto_session is None:
                    import boto3

                    self.boto_session = boto3.session.Session()
                self._clients[name] = self.boto_session.client(name)
            return self._clients[name]

    def sqs(self) -> Any:
        """boto3 SQS client (created on first use)."""
        return self._client("sqs")

    def stepfunctions(self) -> Any:
        """boto3 Step Functions client (created on first use)."""
        return self._client("stepfunctions")

    def _dynamodb_table(self, name: str) -> Any:
        with self._lock:
            if self.boto_session is None:
                import boto3

                self.boto_session = boto3.session.Session()
            return self.boto_session.resource("dynamodb").Table(name)

    # -- the write-side steps: each gets a fresh counting Salesforce client of the call's org ----------

    def match_opportunity_service(self, org_id: str, remaining_ms: RemainingMs | None = None) -> MatchOpportunity:
        from callsync.adapters.salesforce_match import SalesforceMatchReader
        from callsync.services.match_opportunity import MatchOpportunity

        api = self.salesforce(org_id, remaining_ms)
        return MatchOpportunity(
            SalesforceMatchReader(api),
            self.ledger,
            describes=self.describes(org_id, api),
            instance_url=lambda: api.instance_url,
            api_requests=lambda: api.api_requests,
        )

    def create_contacts_service(
        self, org_id: str, remaining_ms: RemainingMs | None = None, *, preview: bool = False
    ) -> CreateContacts:
        """With ``preview``: reads as usual, no write (``services.preview``)."""
        from callsync.adapters.salesforce_people import SalesforcePeopleWriter
        from callsync.services import preview as p
        from callsync.services.create_contacts import CreateContacts

        api = self.salesforce(org_id, remaining_ms)
        if preview:
            return p.PreviewCreateContacts(
                p.PreviewPeopleWriter(SalesforcePeopleWriter(api)),
                p.PreviewClaims(self.claims),
                p.PreviewLedger(self.ledger),
                describes=self.describes(org_id, api),
                instance_url=lambda: api.instance_url,
                api_requests=lambda: api.api_requests,
            )
        return CreateContacts(
            SalesforcePeopleWriter(api),
            self.claims,
            self.ledger,
            describes=self.describes(org_id, api),
            instance_url=lambda: api.instance_url,
            api_requests=lambda: api.api_requests,
        )

    def sync_fields_service(
        self, org_id: str, remaining_ms: RemainingMs | None = None, *, preview: bool = False
    ) -> SyncFields:
        """With ``preview``: reads as usual, no write, no lease (``services.preview``)."""
        from callsync.adapters.salesforce_fields import SalesforceFieldStore, user_id_of
        from callsync.services import preview as p
        from callsync.services.sync_fields import SyncFields

        api = self.salesforce(org_id, remaining_ms)
        store = SalesforceFieldStore(api, integration_user=lambda: user_id_of(self.tokens.get(org_id)))
        if preview:
            return SyncFields(
                p.PreviewFieldStore(store), self.describes(org_id, api), p.PreviewLedger(self.ledger), None
            )
        return SyncFields(store, self.describes(org_id, api), self.ledger, self.leases)

    def log_activity_service(
        self, org_id: str, remaining_ms: RemainingMs | None = None, *, preview: bool = False
    ) -> LogActivity:
        """With ``preview``: reads as usual, no write, no lease (``services.preview``)."""
        from callsync.adapters.salesforce_activity import SalesforceActivityStore
        from callsync.services import preview as p
        from callsync.services.log_activity import LogActivity

        api = self.salesforce(org_id, remaining_ms)
        describes = self.describes(org_id, api)
        store = SalesforceActivityStore(api, describes=describes)
        if preview:
            return LogActivity(p.PreviewActivityStore(store), describes, p.PreviewLedger(self.ledger), None)
        return LogActivity(store, describes, self.ledger, self.leases)

    # -- operator tools ---------------------------------------------------------------------------

    def account_link_backfill_service(self, org_id: str, *, batch_size: int = 200) -> AccountLinkBackfill:
        """The account-link backfill of ``org_id``: a new counting Salesforce client, claims-table checkpoints."""
        from callsync.adapters.dynamodb_backfill_checkpoints import DynamoDbBackfillCheckpoints
        from callsync.adapters.salesforce_account_links import SalesforceAccountLinks, UsageReportingApi
        from callsync.services.account_link_backfill import AccountLinkBackfill

        api = cast(UsageReportingApi, self.salesforce(org_id))  # a SimpleSalesforceApi: it reads Sforce-Limit-Info
        return AccountLinkBackfill(
            SalesforceAccountLinks(api),
            DynamoDbBackfillCheckpoints(self._dynamodb_table(self.config.claims_table)),
            leases=self.leases,
            batch_size=batch_size,
        )

    # -- the control plane (operators' commands) --------------------------------------------------

    def revert_service(self, org_id: str) -> RevertCall:
        """``callsync revert``: the ledger and a fresh counting Salesforce client of ``org_id``."""
        from callsync.adapters.salesforce_records import SalesforceRecordReverter
        from callsync.services.revert import RevertCall

        api = self.salesforce(org_id)
        return RevertCall(
            self.ledger, SalesforceRecordReverter(api), leases=self.leases, api_requests=lambda: api.api_requests
        )

    def reassociate_service(self, org_id: str, inputs: ExecutionInputs, consumer: StartSync) -> ReassociateCall:
        """``callsync reassociate``: the ledger, a fresh Salesforce client of ``org_id``, and the consumer
        (with the executions' stored inputs) that runs the call again."""
        from datetime import UTC, datetime

        from callsync.adapters.salesforce_records import SalesforceRecordReverter
        from callsync.services.reassociate import ReassociateCall

        api = self.salesforce(org_id)
        return ReassociateCall(
            self.ledger,
            SalesforceRecordReverter(api),
            inputs,
            consumer,
            now=lambda: datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            leases=self.leases,
            api_requests=lambda: api.api_requests,
        )

    # -- the read side ----------------------------------------------------------------------------

    def deal_context_service(self, org_id: str, remaining_ms: RemainingMs | None = None) -> DealContextService:
        """The read side's deal context over a fresh counting Salesforce client of ``org_id``."""
        from callsync.adapters.salesforce_context import SalesforceContextReader
        from callsync.services.deal_context import DealContextService

        api = self.salesforce(org_id, remaining_ms)
        return DealContextService(
            settings=self.settings,
            reader=SalesforceContextReader(api),
            describes=self.describes(org_id, api),
            instance_url=lambda: api.instance_url,
            api_requests=lambda: api.api_requests,
        )

    def call_status_service(self) -> CallStatusService:
        """A call's status from the ledger (one query; no Salesforce request)."""
        from callsync.services.call_status import CallStatusService

        return CallStatusService(self.ledger)

    def watch_closed_deals_service(
        self, *, bus_name: str | None = None, remaining_ms: RemainingMs | None = None
    ) -> WatchClosedDeals:
        """The closed-deals watcher: claims table (watermarks, deal states), settings table, the deal bus.

        With ``remaining_ms`` it starts no org with too little time left, and its Salesforce requests
        end before the invocation does.
        """
        from callsync.adapters.dynamodb_watch_state import DynamoDbOrgDirectory, DynamoDbWatchState
        from callsync.adapters.eventbridge_publisher import EventBridgePublisher
        from callsync.adapters.salesforce_context import SalesforceClosedDealReader
        from callsync.services.watch_closed_deals import OrgSalesforce, WatchClosedDeals

        def connect(org_id: str) -> OrgSalesforce:
            api = self.salesforce(org_id, remaining_ms)
            return OrgSalesforce(
                reader=SalesforceClosedDealReader(api),
                describes=self.describes(org_id, api),
                instance_url=lambda: api.instance_url,
                api_requests=lambda: api.api_requests,
            )

        return WatchClosedDeals(
            settings=self.settings,
            state=DynamoDbWatchState(self._dynamodb_table(self.config.claims_table)),
            claims=self.claims,
            publisher=EventBridgePublisher(self._client("events"), bus_name or self.config.event_bus_name),
            connect=connect,
            directory=DynamoDbOrgDirectory(self._dynamodb_table(self.config.settings_table)),
            remaining_ms=remaining_ms,
        )

    def watch_dispatch_service(self) -> DispatchOrgWatches:
        """The closed-deals dispatcher: one asynchronous invoke of ``config.watch_org_function`` per org."""
        from callsync.adapters.dynamodb_watch_state import DynamoDbOrgDirectory
        from callsync.adapters.lambda_invoker import LambdaOrgWatchInvoker
        from callsync.services.watch_closed_deals import DispatchOrgWatches

        if not self.config.watch_org_function:
            raise RuntimeError("WATCH_ORG_FUNCTION is not set: there is no per-org watcher to dispatch to")
        return DispatchOrgWatches(
            directory=DynamoDbOrgDirectory(self._dynamodb_table(self.config.settings_table)),
            invoker=LambdaOrgWatchInvoker(self._client("lambda"), self.config.watch_org_function),
        )


def build_dependencies(config: Config | None = None, *, boto_session: Any = None) -> Dependencies:
    """The real adapters: DynamoDB tables, Secrets Manager; one HTTP session on first Salesforce use."""
    import boto3

    from callsync.adapters.dynamodb_claims import DynamoDbClaims
    from callsync.adapters.dynamodb_leases import DynamoDbLeases
    from callsync.adapters.dynamodb_ledger import DynamoDbLedger
    from callsync.adapters.dynamodb_settings import DynamoDbSettingsStore
    from callsync.adapters.secrets_tokens import SecretsManagerTokenStore

    config = config or load_config()
    aws = boto_session or boto3.session.Session()
    dynamodb = aws.resource("dynamodb")
    secrets = aws.client("secretsmanager")
    tokens = SecretsManagerTokenStore(secrets, prefix=config.secret_prefix, cache_seconds=config.secret_cache_seconds)

    def salesforce_session() -> tuple[requests.Session, TokenRefresher]:
        from callsync.adapters.salesforce_api import make_session
        from callsync.adapters.secrets_tokens import SecretsManagerAppCredentials
        from callsync.adapters.token_refresh import TokenRefresher

        session = make_session(config.salesforce_ca_bundle)
        return session, TokenRefresher(tokens, SecretsManagerAppCredentials(secrets, config.app_secret_name), session)

    return Dependencies(
        config=config,
        settings=DynamoDbSettingsStore(dynamodb.Table(config.settings_table)),
        ledger=DynamoDbLedger(dynamodb.Table(config.ledger_table)),
        tokens=tokens,
        claims=DynamoDbClaims(dynamodb.Table(config.claims_table)),
        leases=DynamoDbLeases(dynamodb.Table(config.claims_table)),
        describe_table=dynamodb.Table(config.describe_cache_table),
        boto_session=aws,
        salesforce_factory=salesforce_session,
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
