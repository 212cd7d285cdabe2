"""What callsync changed in Salesforce, per call: the ledger's vocabulary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field

RecordAction = Literal["created", "updated", "unchanged", "reused", "skipped", "failed"]


class FieldChange(BaseModel):
    field: str
    before: Any = None
    after: Any = None
    policy: str | None = None  # the policy that decided (append, keep, union, ...)
    note: str | None = None  # truncated, dropped, hidden, read-only, ...


class RecordChange(BaseModel):
    action: RecordAction
    object: str
    id: str | None = None
    url: str | None = None  # {instance_url}/lightning/r/{Object}/{Id}/view
    label: str | None = None  # human name (Subject, Name, email)
    fields: list[FieldChange] = Field(default_factory=list)
    note: str | None = None


class StepReport(BaseModel):
    """One step's account of itself: what it wrote, what it skipped and why, what it cost."""

    step: str
    changes: list[RecordChange] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    api_requests: int = 0


class Outcome(BaseModel):
    status: Literal["SUCCEEDED", "FAILED"]
    error: str | None = None  # error class name
    cause: str | None = None  # its message
    execution_arn: str | None = None


def record_url(instance_url: str, object_name: str, record_id: str) -> str:
    return f"{instance_url.rstrip('/')}/lightning/r/{object_name}/{record_id}/view"


def record_url_or_none(instance_url: str | Callable[[], str], object_name: str, record_id: str) -> str | None:
    """``record_url`` from a URL or a getter of it; None when the instance URL is unknown (empty)."""
    base = instance_url() if callable(instance_url) else instance_url
    return record_url(base, object_name, record_id) if base else None
