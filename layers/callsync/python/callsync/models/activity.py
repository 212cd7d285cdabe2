"""What LogActivity hands on (later steps read it: add fields, do not rename)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from callsync.models.ledger import StepReport


class ActivityResult(BaseModel):
    kind: Literal["Task", "Event"] | None = None
    activity_id: str | None = None
    # created: new record; updated: an existing record (ours or a calendar/telephony one) got the summary;
    # unchanged: this revision was already fully logged; disabled: Call Activity Sync is off.
    action: Literal["created", "updated", "unchanged", "disabled", "skipped"] | None = None
    note_id: str | None = None
    follow_up_task_ids: list[str] = Field(default_factory=list)
    unlinked_contacts: list[str] = Field(default_factory=list)  # emails not linked (no Shared Activities)
    linked_contact_ids: list[str] = Field(default_factory=list)  # WhoId and Task/EventRelation contacts
    deduped_with: str | None = None  # how an existing activity was found: ledger | candidates | lookup
    # The step's report goes to the ledger, not into the execution's state (domain.state_budget).
    report: StepReport = Field(default_factory=lambda: StepReport(step="LogActivity"), exclude=True)
