"""Task Sync: each action item becomes an open follow-up Task (distinct from the logged call)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from callsync.domain.activity_kind import SUBJECT_MAX
from callsync.domain.activity_plan import DESCRIPTION_MAX, call_ref, cut_text, host_user_id, one_line
from callsync.models.event import ActionItem, CallProcessed
from callsync.models.match import MatchResult


@dataclass(frozen=True)
class FollowUp:
    key: str  # stable per (call, item text): the idempotency key
    subject: str
    description: str
    due_date: date | None
    owner_id: str | None  # None: default owner
    owner_reason: str

    @property
    def marker(self) -> str:
        return self.description.rsplit("\n", 1)[-1]


def item_key(item: ActionItem) -> str:
    """12 hex characters of the item's normalised text: the same item gets the same key."""
    normalised = one_line(item.text).casefold()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:12]


def subject_of(item: ActionItem) -> str:
    text = one_line(item.text)
    return text if len(text) <= SUBJECT_MAX else text[: SUBJECT_MAX - 1].rstrip() + "…"


def _owner(item: ActionItem, call: CallProcessed, match: MatchResult) -> tuple[str | None, str]:
    if item.assignee_email:
        wanted = item.assignee_email.strip().lower()
        user = next((p.id for p in match.internal if p.object == "User" and p.id and p.email.lower() == wanted), None)
        if user:
            return user, "the assignee"
    host = host_user_id(call, match)
    if host:
        return host, "the call host" + (" (the assignee is no known User)" if item.assignee_email else "")
    return None, "default owner (neither assignee nor host is a User)"


def plan_follow_ups(call: CallProcessed, match: MatchResult) -> list[FollowUp]:
    """One FollowUp per distinct action item, in order (repeated items collapse into one)."""
    plans: dict[str, FollowUp] = {}
    for item in call.action_items:
        if not item.text.strip():
            continue
        key = item_key(item)
        if key in plans:
            continue
        tail = f"Call: {call.call_url}\n{call_ref(call, key)}"
        body = item.text.strip()
        if item.assignee_email:
            body += f"\n\nAssignee: {item.assignee_email}"
        description, _ = cut_text(body, tail, DESCRIPTION_MAX)
        owner, reason = _owner(item, call, match)
        plans[key] = FollowUp(key, subject_of(item), description, item.due_date, owner, reason)
    return list(plans.values())
