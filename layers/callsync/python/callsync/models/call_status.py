"""How one call's sync ended and every Salesforce record related to it (``callsync status``, the
``call_status`` function). INTERFACES.md §4 is the contract: extend with optional fields, never rename."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# What callsync did (or, in preview, would do) to a record, as the status shows it.
StatusAction = Literal[
    "created", "updated", "reused", "linked", "unchanged", "would_create", "would_update", "reverted", "kept"
]
STATUS_ACTIONS: tuple[str, ...] = StatusAction.__args__  # type: ignore[attr-defined]

# SUCCEEDED | FAILED | PREVIEWED | DEFERRED: the run's recorded outcome. SKIPPED | REJECTED | DUPLICATE: the
# consumer's decision (no execution ran). RUNNING: an execution started and recorded no outcome yet (or it
# timed out / was stopped: `callsync replay` says which). NOT_FOUND: the ledger holds nothing for the call.
CallRunStatus = str


class CallStatusRequest(BaseModel):
    """What the upstream app sends to the ``call_status`` function (synchronous invoke)."""

    model_config = ConfigDict(extra="ignore")

    org_id: str = Field(min_length=1)
    call_id: str = Field(min_length=1)
    revision: int | None = Field(default=None, ge=1)  # default: the latest revision in the ledger


class FieldBeforeAfter(BaseModel):
    before: Any = None
    after: Any = None
    policy: str | None = None  # the policy that decided (append, fill, union, overwrite, keep, ...)
    note: str | None = None  # truncated, dropped, kept because a person changed it, ...


class StatusRecord(BaseModel):
    object: str
    id: str | None = None  # None for a record preview mode would create
    url: str | None = None  # the record's Lightning URL
    label: str | None = None
    action: StatusAction
    fields: dict[str, FieldBeforeAfter] = Field(default_factory=dict)
    note: str | None = None
    steps: list[str] = Field(default_factory=list)  # the steps that touched it, in pipeline order


class CallStatus(BaseModel):
    org_id: str
    call_id: str
    revision: int | None = None
    status: CallRunStatus
    reason: str | None = None  # why it was SKIPPED / DEFERRED / REJECTED / NOT_FOUND / RUNNING
    error: str | None = None  # FAILED: "<error class>: <cause>"
    warnings: list[str] = Field(default_factory=list)  # features that could not run, each with its fix
    api_requests: int = 0  # Salesforce API requests the run spent (as the daily allocation counts them)
    records: list[StatusRecord] = Field(default_factory=list)
    revisions: list[int] = Field(default_factory=list)  # every revision of the call in the ledger
    execution_arn: str | None = None
