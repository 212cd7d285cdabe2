"""WatchClosedDeals: one ``deal.closed`` event per close of an Opportunity, exactly once.

Per org with ``win_loss.enabled`` (docs/read-side.md, "Closed deals"):

1. Read the Opportunities modified in the window (``domain.closed_deals.scan_window``),
   oldest first, every page (one request per 2,000 rows).
2. For each, ``judge`` it against what we remember (``WatchState.deal``).
3. A new close is *claimed* (``ports.Claims``, key ``deal-closed#org#opp#generation``,
   lease ``LEASE_SECONDS``) before publishing. A claim held by another run that already
   published (the claim carries a value) is a duplicate; one still in flight is left for
   the next cycle (the watermark stays at its stamp).
4. One composite reads the calls callsync logged on the new closes (Task/Event whose
   Subject starts with ``subject_prefix``; call ids from the ``callsync-ref:`` marker).
5. Publish (EventBridge, ≤10 per PutEvents), then resolve each claim with the event's
   ``close_id`` and remember the generation; finally advance the watermark. An entry the bus
   refuses, or a PutEvents that fails, gives its claims back (``Claims.release``) and keeps the
   watermark before it: the next cycle publishes it.

Fan-out (``DispatchOrgWatches``): the scheduled dispatcher starts one asynchronous per-org watch
(``run([org_id])``) per org, so one org's slow Salesforce never holds the others. Both check the
invocation's remaining time: the dispatcher starts no invoke, and a run starts no org, with less than
``DISPATCH_RESERVE_MS`` / ``ORG_RESERVE_MS`` left; what is left over is the next cycle's (DEFERRED).

Exactly once: a retried or overlapping run finds either the remembered generation or the
claim. Only a crash between a successful PutEvents and the claim's resolve can publish a
close twice (after the lease expires); the event's ``close_id`` lets consumers drop it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from callsync.domain.closed_deals import (
    DealState,
    OpportunityChange,
    Verdict,
    claim_key,
    close_id,
    judge,
    next_watermark,
    scan_window,
    stale_before,
)
from callsync.domain.permissions import Feature, check_field, check_object
from callsync.errors import CallsyncError, MissingPermission
from callsync.models.ledger import record_url
from callsync.models.read_side import DealClosed, LoggedCall, OrgCycle, RecordRef, WatchDispatch, WatchResult
from callsync.ports import Claims, DescribeSource, SettingsStore
from callsync.ports.closed_deals import ChangeQuery

LEASE_SECONDS = 20 * 60  # longer than the function's timeout: a claim outlives the run that took it
PUBLISH_BATCH = 10  # PutEvents takes at most 10 entries
ORG_RESERVE_MS = 30_000  # an org's cycle needs at least this much of the invocation to be worth starting
DISPATCH_RESERVE_MS = 5_000  # time the dispatcher keeps to return its report


class ClosedDealReader(Protocol):
    def changes(self, query: ChangeQuery) -> list[OpportunityChange]:
        """Opportunities with ``window.start < SystemModstamp <= window.end``, every page, oldest first.

        Raises:
            RetryableError / PermanentError: from the Salesforce gateway.
        """

    def logged_calls(
        self, opportunity_ids: Sequence[str], subject_prefix: str, objects: Sequence[str]
    ) -> dict[str, list[LoggedCall]]:
        """Tasks/Events (``objects``) on these Opportunities whose Subject starts with ``subject_prefix``."""


class WatchState(Protocol):
    """Watermarks and per-Opportunity close generations (DynamoDB)."""

    def watermark(self, org_id: str) -> datetime | None: ...

    def advance_watermark(self, org_id: str, value: datetime, *, baseline: datetime | None = None) -> None:
        """Move the org's watermark to ``value`` unless it is already later (never backwards);
        ``baseline`` (the first window's start) is stored once and never changed."""

    def baseline(self, org_id: str) -> datetime | None:
        """Start of the org's first window (None before its first cycle)."""

    def deal(self, org_id: str, opportunity_id: str) -> DealState | None: ...

    def remember(self, org_id: str, opportunity_id: str, state: DealState) -> None: ...


class EventPublisher(Protocol):
    def publish(self, events: Sequence[DealClosed]) -> list[str]:
        """Put ``deal.closed`` events (≤10); returns the ``close_id`` of every entry the bus refused
        (the others were delivered).

        Raises:
            RetryableError: the request itself failed (nothing was delivered).
        """


class OrgDirectory(Protocol):
    def win_loss_orgs(self) -> list[str]:
        """Org ids whose settings have ``win_loss.enabled``."""


class OrgWatchInvoker(Protocol):
    def start(self, org_id: str) -> None:
        """Start one org's watch cycle asynchronously (it runs in its own invocation).

        Raises:
            RetryableError / PermanentError: the watch could not be started.
        """


@dataclass
class DispatchOrgWatches:
    """The scheduled fan-out: one asynchronous per-org watch per org with win/loss on."""

    directory: OrgDirectory
    invoker: OrgWatchInvoker

    def run(
        self, org_ids: Iterable[str] | None = None, *, remaining_ms: Callable[[], int] | None = None
    ) -> WatchDispatch:
        """Start a watch per org (default: every win/loss org); an org whose start fails is reported
        FAILED and does not stop the others; with too little time left the rest is DEFERRED."""
        orgs = list(org_ids) if org_ids is not None else self.directory.win_loss_orgs()
        result = WatchDispatch()
        for index, org_id in enumerate(orgs):
            if remaining_ms is not None and remaining_ms() < DISPATCH_RESERVE_MS:
                result.deferred = orgs[index:]
                break
            try:
                self.invoker.start(org_id)
            except CallsyncError as e:
                result.failed.append(OrgCycle(org_id=org_id, status="FAILED", error=f"{type(e).__name__}: {e}"))
                continue
            result.dispatched.append(org_id)
        return result


@dataclass
class OrgSalesforce:
    """What one org's cycle needs from Salesforce (built per org, per invocation)."""

    reader: ClosedDealReader
    describes: DescribeSource
    instance_url: Callable[[], str]
    api_requests: Callable[[], int] = lambda: 0


@dataclass
class _Pending:
    change: OpportunityChange
    verdict: Verdict
    key: str


@dataclass
class WatchClosedDeals:
    settings: SettingsStore
    state: WatchState
    claims: Claims
    publisher: EventPublisher
    connect: Callable[[str], OrgSalesforce]
    directory: OrgDirectory | None = None
    remaining_ms: Callable[[], int] | None = None  # the invocation's time left (None: no limit)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    run_id: str = field(default_factory=lambda: f"watch-{uuid.uuid4().hex[:12]}-{int(time.time())}")

    def run(self, org_ids: Iterable[str] | None = None) -> WatchResult:
        """One cycle for ``org_ids`` (default: every org with win/loss enabled); an org's failure
        is reported in its ``OrgCycle`` and does not stop the others. An org reached with less than
        ``ORG_RESERVE_MS`` left in the invocation is not started (DEFERRED: the next cycle reads it;
        its watermark has not moved)."""
        if org_ids is None:
            if self.directory is None:
                raise ValueError("no org ids and no OrgDirectory to list them")
            org_ids = self.directory.win_loss_orgs()
        result = WatchResult()
        for org_id in org_ids:
            if self.remaining_ms is not None and self.remaining_ms() < ORG_RESERVE_MS:
                result.orgs.append(
                    OrgCycle(
                        org_id=org_id,
                        status="DEFERRED",
                        warnings=["not started: too little time left in this invocation"],
                    )
                )
                continue
            try:
                result.orgs.append(self.cycle(org_id))
            except CallsyncError as e:
                result.orgs.append(OrgCycle(org_id=org_id, status="FAILED", error=f"{type(e).__name__}: {e}"))
        return result

    def cycle(self, org_id: str) -> OrgCycle:
        """One watch cycle of one org (see module doc)."""
        settings = self.settings.get(org_id)
        if not settings.win_loss.enabled:
            return OrgCycle(org_id=org_id, status="SKIPPED", warnings=["win_loss.enabled is false"])
        sf = self.connect(org_id)
        query_fields, warnings = self._fields(settings.win_loss.loss_reason_field, sf.describes)
        current = self.state.watermark(org_id)
        window = scan_window(self.clock(), current, settings.win_loss.lookback_days)
        stale = stale_before(window.start if window.first_run else self.state.baseline(org_id))
        cycle = OrgCycle(org_id=org_id, status="OK", window_start=window.start, window_end=window.end)
        cycle.warnings += warnings
        changes = sf.reader.changes(
            ChangeQuery(window=window, only_closed=window.first_run, **query_fields)  # type: ignore[arg-type]
        )
        changes.sort(key=lambda c: (c.system_modstamp, c.id))
        cycle.seen = len(changes)
        pending: list[_Pending] = []
        blocked_at: datetime | None = None
        for change in changes:
            verdict = judge(change, self.state.deal(org_id, change.id), stale)
            if verdict.action == "ignore":
                continue
            if verdict.action == "stale":
                cycle.stale += 1
                continue
            if verdict.action == "duplicate":
                cycle.duplicates += 1
                continue
            if verdict.action == "reopen":
                assert verdict.state_after is not None
                self.state.remember(org_id, change.id, verdict.state_after)
                cycle.reopened += 1
                continue
            key = claim_key(org_id, change.id, verdict.generation)
            if self.claims.claim(key, self.run_id, ttl_seconds=LEASE_SECONDS) != self.run_id:
                held = self.claims.get(key) or {}
                if held.get("value"):  # another run published it; it may not have remembered it yet
                    assert verdict.state_after is not None
                    self.state.remember(org_id, change.id, verdict.state_after)
                    cycle.duplicates += 1
                else:  # in flight elsewhere (or died before publishing): read it again next cycle
                    cycle.deferred += 1
                    blocked_at = blocked_at or change.system_modstamp
                continue
            pending.append(_Pending(change, verdict, key))
        if pending:
            calls, call_warnings = self._logged_calls(sf, [p.change.id for p in pending], settings.subject_prefix)
            cycle.warnings += call_warnings
            events = [self._event(org_id, p, sf, settings.win_loss.loss_reason_field, query_fields, calls)
                      for p in pending]  # fmt: skip
            for event in events:
                event.warnings = list(cycle.warnings)
            refused_stamps: list[datetime] = []
            for start in range(0, len(events), PUBLISH_BATCH):
                batch = list(zip(pending[start : start + PUBLISH_BATCH], events[start : start + PUBLISH_BATCH],
                                 strict=True))  # fmt: skip
                try:
                    refused = set(self.publisher.publish([e for _, e in batch]))
                except CallsyncError:
                    for item in pending[start:]:  # never published: give the claims back for the next cycle
                        self.claims.release(item.key, self.run_id)
                    raise
                for item, event in batch:
                    if event.close_id in refused:
                        self.claims.release(item.key, self.run_id)
                        refused_stamps.append(item.change.system_modstamp)
                        continue
                    self.claims.resolve(item.key, event.close_id)
                    assert item.verdict.state_after is not None
                    self.state.remember(org_id, item.change.id, item.verdict.state_after)
                    cycle.published.append(event)
            if refused_stamps:
                cycle.refused = len(refused_stamps)
                cycle.warnings.append(f"EventBridge refused {len(refused_stamps)} deal.closed event(s): "
                                      "they are published by the next cycle")  # fmt: skip
                first = min(refused_stamps)
                blocked_at = first if blocked_at is None else min(blocked_at, first)
        cycle.watermark = next_watermark(window, current, blocked_at)
        self.state.advance_watermark(org_id, cycle.watermark, baseline=window.start if window.first_run else None)
        if cycle.deferred or cycle.refused:
            cycle.status = "PARTIAL"
        cycle.api_requests = sf.api_requests()
        return cycle

    # -- helpers ---------------------------------------------------------------------------------

    def _fields(self, loss_reason_field: str | None, describes: DescribeSource) -> tuple[dict[str, object], list[str]]:
        """Which optional fields the reader may select; a hidden one is left out with a warning."""
        found = describes.describe(["Opportunity", "Account", "Task", "Event"])  # one composite when cold
        opportunity = found.get("Opportunity")
        readable = check_object(Feature.WIN_LOSS, "Opportunity", opportunity, "read")
        if not readable.ok or opportunity is None:
            raise MissingPermission(readable.message, code="INSUFFICIENT_ACCESS")
        warnings: list[str] = []
        fields: dict[str, object] = {"with_amount": True, "with_account_name": True, "loss_reason_field": None}
        amount = check_field(Feature.WIN_LOSS, "Opportunity", opportunity, "Amount", "read", blocking=False,
                             consequence="the events carry no amount")  # fmt: skip
        if not amount.ok:
            fields["with_amount"] = False
            warnings.append(amount.message)
        account = check_object(Feature.WIN_LOSS, "Account", found.get("Account"), "read", blocking=False)
        if not account.ok:
            fields["with_account_name"] = False
            warnings.append(account.message)
        if loss_reason_field:
            check = check_field(Feature.WIN_LOSS, "Opportunity", opportunity, loss_reason_field, "read",
                                blocking=False, consequence="the events carry no loss reason")  # fmt: skip
            if check.ok:
                info = opportunity.field(loss_reason_field)
                fields["loss_reason_field"] = info.name if info else loss_reason_field
            else:
                warnings.append(check.message)
        return fields, warnings

    def _logged_calls(
        self, sf: OrgSalesforce, opportunity_ids: list[str], prefix: str
    ) -> tuple[dict[str, list[LoggedCall]], list[str]]:
        found = sf.describes.describe(["Task", "Event"])
        objects: list[str] = []
        warnings: list[str] = []
        for name in ("Task", "Event"):
            check = check_object(Feature.WIN_LOSS, name, found.get(name), "read", blocking=False)
            if check.ok:
                objects.append(name)
            else:
                warnings.append(f"{check.message} (calls logged as {name} are not listed)")
        if not objects or not prefix.strip():
            if not prefix.strip():
                warnings.append("subject_prefix is empty: the calls callsync logged cannot be told apart")
            return {}, warnings
        return sf.reader.logged_calls(opportunity_ids, prefix.strip(), objects), warnings

    def _event(
        self,
        org_id: str,
        pending: _Pending,
        sf: OrgSalesforce,
        configured_loss_field: str | None,
        query_fields: dict[str, object],
        calls: dict[str, list[LoggedCall]],
    ) -> DealClosed:
        change, generation = pending.change, pending.verdict.generation
        base = sf.instance_url()
        logged = calls.get(change.id, [])
        loss_field = query_fields.get("loss_reason_field")
        return DealClosed(
            close_id=close_id(org_id, change.id, generation),
            org_id=org_id,
            opportunity=RecordRef(id=change.id, name=change.name, url=record_url(base, "Opportunity", change.id)),
            account=RecordRef(id=change.account_id, name=change.account_name,
                              url=record_url(base, "Account", change.account_id)) if change.account_id else None,
            is_won=change.is_won,
            stage_name=change.stage_name,
            close_date=change.close_date,
            amount=change.amount,
            loss_reason_field=str(loss_field) if loss_field else configured_loss_field,
            loss_reason=change.loss_reason if loss_field else None,
            generation=generation,
            system_modstamp=change.system_modstamp,
            call_ids=list(dict.fromkeys(c.call_id for c in logged if c.call_id)),
            activity_ids=[c.activity_id for c in logged],
        )  # fmt: skip
