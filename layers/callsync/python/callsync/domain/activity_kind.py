"""Which activity object logs a call, and the Subject it gets.

Shared by MatchOpportunity (which reads ahead the candidate activities for the
dedupe lookup) and LogActivity (which writes it), so both agree exactly.
"""

from __future__ import annotations

from typing import Literal

from callsync.models.event import CallProcessed
from callsync.models.settings import OrgSettings

ActivityKind = Literal["Task", "Event"]
SUBJECT_MAX = 255


def activity_kind(settings: OrgSettings, call: CallProcessed) -> ActivityKind | None:
    """Task or Event by the activity mode; None when Call Activity Sync is off.

    ``smart``: telephony calls are Tasks; video meetings and uploads are Events.
    """
    if not settings.activity_sync.enabled:
        return None
    mode = settings.activity_sync.mode
    if mode == "tasks":
        return "Task"
    if mode == "events":
        return "Event"
    return "Task" if call.medium == "telephony" else "Event"


def activity_subject(settings: OrgSettings, call: CallProcessed) -> str:
    """``subject_prefix`` + a space + the title, cut to Salesforce's 255 characters."""
    prefix = settings.subject_prefix.strip()
    title = " ".join(call.title.split())
    subject = f"{prefix} {title}" if prefix else title
    return subject[:SUBJECT_MAX]


def candidate_subjects(settings: OrgSettings, call: CallProcessed) -> list[str]:
    """Subjects an existing activity for this call may carry: with or without our prefix.

    Salesforce compares strings case-insensitively, so ``Subject IN (...)`` with
    these finds both the calendar's own event and our earlier attempt.
    """
    subjects = [activity_subject(settings, call), " ".join(call.title.split())[:SUBJECT_MAX]]
    return list(dict.fromkeys(s for s in subjects if s))
