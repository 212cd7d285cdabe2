"""What SyncFields hands on (later steps read it: add fields, do not rename).

Also the payloads of the SyncFields step's narrow Salesforce port
(``callsync.services.sync_fields.FieldStore``): what to read, what to write,
and what came back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from callsync.errors import CallsyncError
from callsync.models.ledger import StepReport


class FieldSyncResult(BaseModel):
    records_updated: int = 0
    records_created: int = 0
    records_failed: int = 0  # targets that could not be written (permissions, rejected record)
    fields_skipped: int = 0  # mapped fields not written for a reason worth reading (hidden, read-only, ...)
    # The step's report goes to the ledger, not into the execution's state (domain.state_budget).
    report: StepReport = Field(default_factory=lambda: StepReport(step="SyncFields"), exclude=True)


@dataclass(frozen=True)
class RecordRead:
    """One record to read: by id, or the newest record whose lookup ``via`` points at ``parent_id``."""

    key: str  # the caller's key for this read (the target key)
    object: str
    fields: tuple[str, ...]
    record_id: str | None = None
    via: str | None = None
    parent_id: str | None = None
    last_modified: bool = False  # also read who last modified the record, and when (same query)


class LastModified(BaseModel, frozen=True):
    """Who last modified a record, and when (``LastModifiedById``, ``LastModifiedBy.Name``, ``LastModifiedDate``).

    Salesforce keeps this per record, not per field. Also carried in the match step's read-ahead
    (``MatchResult.last_modified``), so its keys stay short.
    """

    by_id: str | None = None
    by_name: str | None = None
    at: datetime | None = None


@dataclass
class ReadOutcome:
    """``record`` is None when no record matched; ``error`` when the read itself failed.

    ``last_modified`` is given for a ``RecordRead`` that asked for it (``record`` holds the mapped fields only).
    """

    record: dict[str, Any] | None = None
    error: CallsyncError | None = None
    last_modified: LastModified | None = None


@dataclass(frozen=True)
class RecordWrite:
    """One update (``record_id`` set) or create (``record_id`` None) of ``values``."""

    key: str
    object: str
    values: dict[str, Any]
    record_id: str | None = None


@dataclass
class WriteOutcome:
    """The id written (the created id for a create) or the error Salesforce answered."""

    record_id: str | None = None
    error: CallsyncError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
