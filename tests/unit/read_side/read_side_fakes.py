"""Fakes of the read-side ports (services.deal_context / services.watch_closed_deals) and describe builders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from callsync.domain.closed_deals import DealState, OpportunityChange
from callsync.errors import RetryableError
from callsync.models.read_side import DealClosed, LoggedCall
from callsync.ports.closed_deals import ChangeQuery


def describe(name: str, *fields: str | tuple[str, str, str], queryable: bool = True) -> dict[str, Any]:
    """Raw describe JSON: fields as names (string) or (name, type, label)."""
    out = []
    for f in fields:
        fname, ftype, label = (f, "string", f) if isinstance(f, str) else f
        out.append({"name": fname, "type": ftype, "label": label, "createable": True, "updateable": True})
    return {"name": name, "label": name, "queryable": queryable, "fields": out}


OPPORTUNITY = describe(
    "Opportunity",
    "Id",
    "Name",
    "AccountId",
    "StageName",
    ("Amount", "currency", "Amount"),
    ("IsClosed", "boolean", "Closed"),
    "Loss_Reason__c",
    ("NextStep", "string", "Next Step"),
)
ACCOUNT = describe("Account", "Id", "Name", ("Industry", "picklist", "Industry"))
TASK = describe("Task", "Id", "Subject", "WhatId")
EVENT = describe("Event", "Id", "Subject", "WhatId")


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)

    def epoch(self) -> float:
        return self.now.timestamp()


class FakeWatchState:
    def __init__(self) -> None:
        self.watermarks: dict[str, datetime] = {}
        self.baselines: dict[str, datetime] = {}
        self.deals: dict[tuple[str, str], DealState] = {}

    def watermark(self, org_id: str) -> datetime | None:
        return self.watermarks.get(org_id)

    def advance_watermark(self, org_id: str, value: datetime, *, baseline: datetime | None = None) -> None:
        if org_id not in self.watermarks or self.watermarks[org_id] < value:
            self.watermarks[org_id] = value
            self.baselines.setdefault(org_id, baseline or value)

    def baseline(self, org_id: str) -> datetime | None:
        return self.baselines.get(org_id)

    def deal(self, org_id: str, opportunity_id: str) -> DealState | None:
        return self.deals.get((org_id, opportunity_id))

    def remember(self, org_id: str, opportunity_id: str, state: DealState) -> None:
        self.deals[(org_id, opportunity_id)] = state


class FakeClosedDealReader:
    """An org's Opportunities; ``changes`` filters them by the window like the SOQL does."""

    def __init__(self) -> None:
        self.rows: dict[str, OpportunityChange] = {}
        self.calls: dict[str, list[LoggedCall]] = {}
        self.queries: list[ChangeQuery] = []
        self.logged_calls_asked: list[tuple[list[str], str, list[str]]] = []

    def put(self, row: OpportunityChange) -> None:
        self.rows[row.id] = row

    def changes(self, query: ChangeQuery) -> list[OpportunityChange]:
        self.queries.append(query)
        w = query.window
        out = [r for r in self.rows.values() if w.start < r.system_modstamp <= w.end]
        if query.only_closed:
            out = [r for r in out if r.is_closed]
        if not query.loss_reason_field:
            out = [OpportunityChange(**{**r.__dict__, "loss_reason": None}) for r in out]
        return sorted(out, key=lambda r: (r.system_modstamp, r.id), reverse=True)  # the service must sort

    def logged_calls(self, opportunity_ids: Sequence[str], subject_prefix: str,
                     objects: Sequence[str]) -> dict[str, list[LoggedCall]]:  # fmt: skip
        self.logged_calls_asked.append((list(opportunity_ids), subject_prefix, list(objects)))
        return {i: [c for c in self.calls.get(i, []) if c.object in objects] for i in opportunity_ids}


class FakePublisher:
    def __init__(self) -> None:
        self.events: list[DealClosed] = []
        self.batches: list[int] = []
        self.fail_next = 0  # whole PutEvents requests to fail
        self.refuse: set[str] = set()  # opportunity ids whose entries the bus refuses (once each)

    def publish(self, events: Sequence[DealClosed]) -> list[str]:
        assert len(events) <= 10
        if self.fail_next:
            self.fail_next -= 1
            raise RetryableError("EventBridge PutEvents failed: EndpointConnectionError")
        self.batches.append(len(events))
        refused = [e for e in events if e.opportunity.id in self.refuse]
        self.refuse -= {e.opportunity.id for e in refused}
        self.events.extend(e for e in events if e not in refused)
        return [e.close_id for e in refused]


class FakeOrgDirectory:
    def __init__(self, orgs: list[str]) -> None:
        self.orgs = orgs

    def win_loss_orgs(self) -> list[str]:
        return list(self.orgs)


def at(minutes: float, base: datetime = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)) -> datetime:
    return base + timedelta(minutes=minutes)


def opp(id_: str, minutes: float, *, closed: bool = True, won: bool = False, stage: str | None = None,
        reason: str | None = "Price", close_date: str = "2026-11-25") -> OpportunityChange:  # fmt: skip
    return OpportunityChange(
        id=id_, system_modstamp=at(minutes), is_closed=closed, is_won=won,
        stage_name=stage or ("Closed Won" if won else "Closed Lost" if closed else "Negotiation"),
        name=f"Deal {id_}", close_date=close_date, amount=1000.0, account_id="001A", account_name="Globex",
        loss_reason=reason,
    )  # fmt: skip
