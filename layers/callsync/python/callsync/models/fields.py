"""What SyncFields hands on (issue 5 owns it: add fields, do not rename)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from callsync.models.ledger import StepReport


class FieldSyncResult(BaseModel):
    records_updated: int = 0
    records_created: int = 0
    report: StepReport = Field(default_factory=lambda: StepReport(step="SyncFields"))
