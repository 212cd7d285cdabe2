"""The org's daily API allocation as callsync sees it, and the budget guard's decision."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ApiUsage(BaseModel):
    """One reading of ``Sforce-Limit-Info: api-usage=USED/LIMIT`` (Salesforce's rolling 24-hour count).

    ``read_at`` is when it was read (epoch seconds). The latest reading is authoritative: Salesforce
    counts every client of the org, so nothing is added to it locally.
    """

    used: int = Field(ge=0)
    limit: int = Field(gt=0)
    read_at: float


class Reservation(BaseModel):
    """Requests an admitted call may still spend, counted until ``until`` (epoch seconds) or a newer reading."""

    requests: int
    until: float


class UsageState(BaseModel):
    """The org's reading plus the reservations of calls admitted since (``version`` guards updates)."""

    usage: ApiUsage | None = None
    pending: dict[str, Reservation] = Field(default_factory=dict)
    version: int = 0

    def reserved(self, now: float) -> int:
        return sum(r.requests for r in self.pending.values() if r.until > now)

    def expired(self, now: float) -> list[str]:
        return [key for key, r in self.pending.items() if r.until <= now]


class BudgetCheck(BaseModel):
    """The guard's decision for one execution (``$.budget`` in the state machine).

    ``deferred``: the call is held (the run ends ``DEFERRED`` with ``reason``). ``allowed`` is
    ``floor(max_share * limit)``; ``share_used`` is ``used / allowed``.
    """

    deferred: bool
    reason: str | None = None
    used: int | None = None
    reserved: int = 0  # requests reserved by calls admitted since the reading (in flight)
    limit: int | None = None
    allowed: int | None = None
    estimate: int
    share_used: float | None = None
    read_at: float | None = None
    api_requests: int = 0  # what the check itself cost (a GET limits/ when no fresh reading was stored)
