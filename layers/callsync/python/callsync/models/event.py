"""`call.processed` v1: the SQS message body (INTERFACES.md §1)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import (
    AnyUrl,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

InsightValue = str | int | float | list[str]


def call_key(org_id: str, call_id: str, revision: int) -> str:
    """The ledger key of one revision of a call: ``{org_id}#{call_id}#{revision}``."""
    return f"{org_id}#{call_id}#{revision}"


def split_call_key(key: str) -> tuple[str, int]:
    """``org#call#revision`` → (``org#call``, revision); a key without a revision (``rejected#<id>``) → (key, 0)."""
    head, _, tail = key.rpartition("#")
    if head and tail.isdigit():
        return head, int(tail)
    return key, 0


class _Model(BaseModel):
    # Unknown extra fields are ignored (forward compatible).
    model_config = ConfigDict(extra="ignore", frozen=True)


class Participant(_Model):
    email: str = Field(min_length=1)
    name: str | None = None
    company: str | None = None

    @property
    def email_key(self) -> str:
        """Emails compare case-insensitively everywhere."""
        return self.email.strip().lower()


class ActionItem(_Model):
    text: str = Field(min_length=1)
    assignee_email: str | None = None
    due_date: date | None = None


class Company(_Model):
    name: str | None = None
    domain: str | None = None
    url: AnyUrl | None = None


_SALESFORCE_ID = r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$"


class CrmOverrides(_Model):
    """A manual association chosen upstream: it wins over the automatic match."""

    opportunity_id: Annotated[str, Field(pattern=_SALESFORCE_ID)] | None = None
    account_id: Annotated[str, Field(pattern=_SALESFORCE_ID)] | None = None

    @model_validator(mode="after")
    def _prefixes(self) -> CrmOverrides:
        if self.opportunity_id and not self.opportunity_id.startswith("006"):
            raise ValueError(f"opportunity_id {self.opportunity_id!r} is not an Opportunity id (006...)")
        if self.account_id and not self.account_id.startswith("001"):
            raise ValueError(f"account_id {self.account_id!r} is not an Account id (001...)")
        return self


class CallProcessed(_Model):
    """One processed call. A missing required field or a wrong type rejects the message."""

    schema_version: Literal[1]
    org_id: str = Field(min_length=1)
    call_id: str = Field(min_length=1)
    revision: Annotated[StrictInt, Field(ge=1)] = 1
    title: str
    started_at: AwareDatetime
    duration_seconds: Annotated[StrictInt, Field(ge=0)]
    medium: Literal["telephony", "video", "upload"]
    source: str | None = None
    host_email: str = Field(min_length=1)
    participants: list[Participant]
    call_type: str | None = None
    summary: str
    key_points: list[str] = Field(default_factory=list)
    insights: dict[str, InsightValue] = Field(default_factory=dict)
    action_items: list[ActionItem] = Field(default_factory=list)
    notes: str | None = None
    call_url: AnyUrl
    company: Company | None = None
    private: StrictBool = False  # marked private upstream: excluded unless settings say otherwise
    crm_overrides: CrmOverrides | None = None

    @field_validator("insights")
    @classmethod
    def _finite_insights(cls, insights: dict[str, InsightValue]) -> dict[str, InsightValue]:
        """NaN and Infinity (Python's json reads them) are not JSON: the message is refused, naming the insight."""
        bad = [key for key, value in insights.items() if isinstance(value, float) and not math.isfinite(value)]
        if bad:
            raise ValueError(f"not a finite number (NaN and Infinity are not JSON): {', '.join(sorted(bad))}")
        return insights

    @property
    def started_at_utc(self) -> datetime:
        return self.started_at.astimezone(UTC)

    @property
    def call_key(self) -> str:
        """org/call/revision: the unit of idempotency."""
        return call_key(self.org_id, self.call_id, self.revision)
