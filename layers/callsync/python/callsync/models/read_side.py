"""The read side's contracts: deal context (request/response) and the ``deal.closed`` event.

Documented in docs/read-side.md. Extend with new optional fields; do not rename or drop.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from callsync.models.match import AccountInfo, OpportunityInfo, Person

DEFAULT_BODY_CHARS = 2000


class ContextParticipant(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: str
    name: str | None = None


class DealContextRequest(BaseModel):
    """What the upstream app sends (Lambda invoke, RequestResponse).

    ``at``: when the meeting happens (upcoming) or happened (processed call); the
    matching rules are evaluated at that time (default: now). ``opportunity_id`` /
    ``account_id`` skip the rules for that record.
    """

    model_config = ConfigDict(extra="ignore")

    org_id: str = Field(min_length=1)
    participants: list[ContextParticipant] = Field(default_factory=list)
    at: AwareDatetime | None = None
    opportunity_id: str | None = None
    account_id: str | None = None
    host_email: str | None = None
    body_chars: int = Field(default=DEFAULT_BODY_CHARS, ge=0, le=32_000)  # email text trimmed to this length


class PrepField(BaseModel):
    """One ``prep_fields`` entry's value on one record."""

    path: str  # as configured, e.g. "Account.Industry"
    object: str
    field: str  # canonical API name
    label: str
    type: str
    record_id: str
    value: Any = None


class ContextPerson(BaseModel):
    object: Literal["Contact", "Lead"]
    id: str
    email: str
    name: str | None = None
    account_id: str | None = None
    url: str | None = None
    is_primary: bool = False
    fields: list[PrepField] = Field(default_factory=list)  # Contact prep fields


class ContextEmail(BaseModel):
    id: str
    subject: str | None = None
    from_address: str | None = None
    from_name: str | None = None
    to_address: str | None = None
    cc_address: str | None = None
    message_date: datetime | None = None
    incoming: bool = False
    text_body: str | None = None
    truncated: bool = False
    related_to_id: str | None = None
    related_to: Literal["opportunity", "account", "contact"]


class MatchSummary(BaseModel):
    how: Literal["rules", "given"]  # evaluated at ``at`` or ids from the request
    link: Literal["primary", "role", "account"] | None = None
    tier: int | None = None
    candidates: int = 0
    reason: str = ""


class RecordRef(BaseModel):
    id: str
    name: str | None = None
    url: str | None = None


class DealContext(BaseModel):
    """The answer of the crm_context function."""

    org_id: str
    at: datetime
    opportunity: OpportunityInfo | None = None
    opportunity_url: str | None = None
    account: AccountInfo | None = None
    account_url: str | None = None
    match: MatchSummary
    contacts: list[ContextPerson] = Field(default_factory=list)
    leads: list[ContextPerson] = Field(default_factory=list)
    unknown_emails: list[str] = Field(default_factory=list)  # external, neither Contact nor Lead
    fields: list[PrepField] = Field(default_factory=list)  # Opportunity and Account prep fields
    emails: list[ContextEmail] = Field(default_factory=list)  # newest first, ≤ email_context.max
    warnings: list[str] = Field(default_factory=list)
    api_requests: int = 0


class LoggedCall(BaseModel):
    """A Task/Event callsync logged on the Opportunity (subject prefix + marker)."""

    activity_id: str
    object: Literal["Task", "Event"]
    call_id: str | None = None  # from the ``callsync-ref:`` marker; None when absent


class DealClosed(BaseModel):
    """Detail of the EventBridge event ``deal.closed`` (source ``callsync``)."""

    schema_version: Literal[1] = 1
    close_id: str  # org#opportunity#generation: stable across retries, for consumer-side dedupe
    org_id: str
    opportunity: RecordRef
    account: RecordRef | None = None
    is_won: bool
    stage_name: str | None = None
    close_date: str | None = None
    amount: float | None = None
    loss_reason_field: str | None = None
    loss_reason: Any = None
    generation: int  # 1 for the first close, +1 after each reopen (or change of outcome)
    system_modstamp: datetime
    call_ids: list[str] = Field(default_factory=list)
    activity_ids: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class OrgCycle(BaseModel):
    """One org's watch cycle, as the function reports it."""

    org_id: str
    status: Literal["OK", "PARTIAL", "FAILED", "SKIPPED", "DEFERRED"]  # DEFERRED: no time left, next cycle
    window_start: datetime | None = None
    window_end: datetime | None = None
    watermark: datetime | None = None
    seen: int = 0
    published: list[DealClosed] = Field(default_factory=list)
    duplicates: int = 0  # closes already published (retry, overlap, edit after close)
    reopened: int = 0
    stale: int = 0  # closed before the org's first cycle (history), edited now: not announced
    deferred: int = 0  # claimed by another run still in flight: left for the next cycle
    refused: int = 0  # refused by the bus: left for the next cycle
    warnings: list[str] = Field(default_factory=list)
    error: str | None = None
    api_requests: int = 0


class WatchResult(BaseModel):
    orgs: list[OrgCycle] = Field(default_factory=list)

    @property
    def events(self) -> list[DealClosed]:
        return [e for o in self.orgs for e in o.published]


class WatchDispatch(BaseModel):
    """What the closed-deals dispatcher did: one asynchronous per-org watch started per org."""

    dispatched: list[str] = Field(default_factory=list)  # org ids whose watch was started
    deferred: list[str] = Field(default_factory=list)  # not started (no time left): the next cycle
    failed: list[OrgCycle] = Field(default_factory=list)  # the invoke itself failed (status FAILED)


__all__ = [
    "AccountInfo",
    "ContextEmail",
    "ContextParticipant",
    "ContextPerson",
    "DealClosed",
    "DealContext",
    "DealContextRequest",
    "LoggedCall",
    "MatchSummary",
    "OpportunityInfo",
    "OrgCycle",
    "Person",
    "PrepField",
    "RecordRef",
    "WatchDispatch",
    "WatchResult",
]
