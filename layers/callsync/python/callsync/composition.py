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

import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from callsync.config import Config, load_config
from callsync.models.api_budget import ApiUsage
from callsync.ports import (
    ApiUsageStore,
    Claims,
    DeferredCalls,
    DescribeSource,
    Leases,
    Ledger,
    OrgSlots,
    SalesforceApi,
    SettingsStore,
    TokenStore,
)

if TYPE_CHECKING:
    import requests

    from callsync.adapters.describe_cache import DescribeMemory
    from callsync.adapters.token_refresh import TokenRefresher
    from callsync.services.account_link_backfill import AccountLinkBackfill
    from callsync.services.api_budget import CheckApiBudget, ResumeDeferred
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
SLOT_WAIT_SECONDS = 10.0  # a Salesforce-bound invocation waits this long for one of its org's slots, then OrgBusy
SLOT_WAIT_RESERVE_SECONDS = 40.0  # never wait into the time the step's own work needs


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
    api_usage: ApiUsageStore | None = None  # each org's latest Sforce-Limit-Info reading; None: not kept
    deferred: DeferredCalls | None = None  # calls the budget guard holds
    org_slots: OrgSlots | None = None  # the per-org concurrency cap; None: no cap
    session: requests.Session | None = field(default=None, repr=False)
    refresher: TokenRefresher | None = field(default=None, repr=False)
    describe_table: Any = field(default=None, repr=False)
    describe_memory: DescribeMemory | None = field(default=None, repr=False)  # created on first describes()
    boto_session: Any = field(default=None, repr=False)
    salesforce_factory: Callable[[], tuple[requests.Session, TokenRefresher]] | None = field(default=None, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _usage_seen: dict[str, ApiUsage] = field(default_factory=dict, repr=False)  # latest reading per org, unsaved

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
            on_usage=lambda usage: self._saw_usage(org_id, usage),
        )

    def _saw_usage(self, org_id: str, usage: ApiUsage) -> None:
        with self._lock:
            seen = self._usage_seen.get(org_id)
            if seen is None or seen.read_at <= usage.read_at:
                self._usage_seen[org_id] = usage

    def save_api_usage(self, org_id: str) -> ApiUsage | None:
        """Store the latest reading this process saw for ``org_id`` (one write); the reading, if any."""
        with self._lock:
            usage = self._usage_seen.pop(org_id, None)
        if usage is not None and self.api_usage is not None:
            self.api_usage.record(org_id, usage)
        return usage

    @contextmanager
    def salesforce_bound(self, org_id: str, remaining_ms: RemainingMs | None = None) -> Iterator[None]:
        """One Salesforce-bound invocation of ``org_id``: holds one of the org's slots (the concurrency cap)
        while it runs, then stores the org's latest API usage reading and gives the slot back.

        Raises:
            OrgBusy: every slot of the org is held (the state machine retries the step).
        """
        slot = holder = None
        if self.org_slots is not None:
            holder = uuid.uuid4().hex
            slot = self._take_slot(self.org_slots, org_id, holder, remaining_ms)
        try:
            yield
        finally:
            try:
                self.save_api_usage(org_id)
            finally:
                if self.org_slots is not None and slot is not None and holder is not None:
                    self.org_slots.release(slot, holder)

    @staticmethod
    def _take_slot(slots: OrgSlots, org_id: str, holder: str, remaining_ms: RemainingMs | None) -> str:
        """A slot of the org, polled with jitter for up to ``SLOT_WAIT_SECONDS`` (less when time is short).

        Raises:
            OrgBusy: still no slot free; the state machine's retrier waits longer.
        """
        from callsync.errors import OrgBusy

        left = (remaining_ms() if remaining_ms is not None else 900_000) / 1000
        deadline = time.monotonic() + max(min(SLOT_WAIT_SECONDS, left - SLOT_WAIT_RESERVE_SECONDS), 0)
        while True:
            try:
                # Held for the rest of the invocation at most, plus a minute: a holder that dies frees it then.
                return slots.acquire(org_id, holder, ttl_seconds=int(left) + 60)
            except OrgBusy:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(random.uniform(0.05, 0.25))  # noqa: S311 - jitter, not security

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
        from callsync.adapters.salesforce_fields import SalesforceFieldStore
        from callsync.services import preview as p
        from callsync.services.sync_fields import SyncFields

        api = self.salesforce(org_id, remaining_ms)
        store = SalesforceFieldStore(api)
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
            self.ledger,
            SalesforceRecordReverter(api),
            leases=self.leases,
            settings=self.settings,
            shared_activities=lambda: self.describes(org_id, api).org_metadata().shared_activities,
            claims=self.claims,
            api_requests=lambda: api.api_requests,
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
            settings=self.settings,
            api_requests=lambda: api.api_requests,
        )

    # -- the API budget -----------------------------------------------------------------------------

    def check_api_budget_service(self, org_id: str, remaining_ms: RemainingMs | None = None) -> CheckApiBudget:
        """The guard over the stored usage; a fresh reading is one GET limits/ on a new client of ``org_id``."""
        from callsync.adapters.salesforce_api import SimpleSalesforceApi
        from callsync.services.api_budget import CheckApiBudget

        if self.api_usage is None or self.deferred is None:
            raise RuntimeError("these Dependencies keep no API usage: build them with build_dependencies")

        def read_usage() -> ApiUsage:
            with self.salesforce_bound(org_id, remaining_ms):  # a Salesforce request: under the org's cap
                api = self.salesforce(org_id, remaining_ms)
                assert isinstance(api, SimpleSalesforceApi)
                return api.read_usage()

        return CheckApiBudget(self.api_usage, self.deferred, self.ledger, read_usage)

    def resume_deferred_service(self, remaining_ms: RemainingMs | None = None) -> ResumeDeferred:
        """The resumer: orgs from the settings table, replays through the consumer's rules (``ReplayCall``);
        it starts no replay when ``remaining_ms`` (the invocation's time left) runs short."""
        from callsync.adapters.dynamodb_api_budget import settings_org_ids
        from callsync.services.api_budget import ResumeDeferred
        from callsync.services.replay import NothingToReplay, ReplayCall, ReplayRunning
        from callsync.services.start_sync import SqsDeadLetters, StartSync, StepFunctionsExecutions

        if self.api_usage is None or self.deferred is None:
            raise RuntimeError("these Dependencies keep no API usage: build them with build_dependencies")
        executions = StepFunctionsExecutions(self.stepfunctions(), self.config.state_machine_arn)
        consumer = StartSync(
            settings=self.settings,
            ledger=self.ledger,
            executions=executions,
            dead_letters=SqsDeadLetters(self.sqs(), self.config.dlq_url),
        )
        replays = ReplayCall(self.ledger, executions, consumer)

        def replay(org_id: str, call_id: str) -> bool:
            try:
                replays.run(org_id, call_id)
            except ReplayRunning:  # a run of it is still running: kept held, asked again at the next tick
                return False
            except NothingToReplay:  # replayed by hand meanwhile, or a newer revision ran
                pass
            return True

        settings_table = self._dynamodb_table(self.config.settings_table)
        return ResumeDeferred(
            orgs=lambda: settings_org_ids(settings_table),
            settings=self.settings,
            usage=self.api_usage,
            deferred=self.deferred,
            replay=replay,
            remaining_ms=remaining_ms,
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

    from callsync.adapters.dynamodb_api_budget import DynamoDbApiUsage, DynamoDbDeferredCalls, DynamoDbOrgSlots
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
        api_usage=DynamoDbApiUsage(dynamodb.Table(config.claims_table)),
        deferred=DynamoDbDeferredCalls(dynamodb.Table(config.claims_table)),
        org_slots=DynamoDbOrgSlots(dynamodb.Table(config.claims_table), cap=config.org_concurrency),
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
