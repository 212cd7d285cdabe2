"""What LogActivity hands on (issue 6 owns it: add fields, do not rename)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from callsync.models.ledger import StepReport


class ActivityResult(BaseModel):
    kind: Literal["Task", "Event"] | None = None
    activity_id: str | None = None
    action: Literal["created", "updated", "disabled"] | None = None
    note_id: str | None = None
    follow_up_task_ids: list[str] = Field(default_factory=list)
    unlinked_contacts: list[str] = Field(default_factory=list)  # emails not linked (no Shared Activities)
    report: StepReport = Field(default_factory=lambda: StepReport(step="LogActivity"))
