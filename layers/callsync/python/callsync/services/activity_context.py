"""LogActivity: what one attempt knows about the call while it plans and reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from callsync.domain.activity_plan import (
    Relations,
)
from callsync.domain.follow_ups import FollowUp
from callsync.models.describe import ObjectDescribe
from callsync.models.event import CallProcessed
from callsync.models.ledger import FieldChange, StepReport
from callsync.models.match import ContactsResult, MatchResult
from callsync.models.state import SyncState


@dataclass
class ActivityContext:
    call: CallProcessed
    state: SyncState
    match: MatchResult
    contacts: ContactsResult | None
    kind: str | None
    notes_on: bool
    follow_ups: list[FollowUp]
    rel: Relations
    report: StepReport
    describes: dict[str, ObjectDescribe | None] = field(default_factory=dict)
    shared: bool = False
    owner_reason: str = "unchanged"
    before: dict[str, Any] | None = None  # the existing activity as read (candidates/lookup): the report's before
    follow_up_rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # Task id -> looked-up follow-up
    integration_user_id: str | None = None  # who callsync writes as (a change by anyone else is a person's)
    activity_reused: bool = False  # the activity is not callsync's own (a calendar Event, a dialer Task)
    kept: list[FieldChange] = field(default_factory=list)  # a person's values kept on the activity
