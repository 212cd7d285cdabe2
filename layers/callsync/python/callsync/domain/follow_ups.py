"""Task Sync: each action item becomes an open follow-up Task (distinct from the logged call).

Owner of a follow-up: the ``assignee_email`` when an active Salesforce User has it, whether or not
they were on the call; else the call host (when a User), saying why; else the default owner.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from callsync.domain.activity_kind import SUBJECT_MAX
from callsync.domain.activity_plan import DESCRIPTION_MAX, call_ref, cut_text, host_user_id, one_line
from callsync.domain.participants import normalize_email
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


def assignee_emails(call: CallProcessed) -> list[str]:
    """The action items' assignees (normalized, distinct, in order); malformed ones are left out."""
    found = (normalize_email(item.assignee_email) for item in call.action_items if item.assignee_email)
    return list(dict.fromkeys(e for e in found if e))


def _owner(item: ActionItem, call: CallProcessed, match: MatchResult) -> tuple[str | None, str]:
    """The assignee when an active User has that email (on the call or not), else the host, else default."""
    wanted = normalize_email(item.assignee_email) if item.assignee_email else None
    if wanted:
        on_call = next(
            (p.id for p in match.internal if p.object == "User" and p.id and p.email.lower() == wanted), None
        )
        if on_call:
            return on_call, "the assignee"
        elsewhere = next((p.id for p in match.assignees if p.object == "User" and p.id and p.email == wanted), None)
        if elsewhere:
            return elsewhere, "the assignee (a Salesforce User who was not on the call)"
    host = host_user_id(call, match)
    why = f"the assignee {item.assignee_email.strip()} is no active Salesforce User" if item.assignee_email else ""
    if host:
        return host, "the call host" + (f" ({why})" if why else "")
    return None, "default owner (neither assignee nor host is a User)" + (f"; {why}" if why else "")


def owner_fallbacks(call: CallProcessed, match: MatchResult) -> list[str]:
    """One line per follow-up whose named assignee could not own it, saying who does and why."""
    lines = []
    for plan, item in _planned(call, match):
        if item.assignee_email and not plan.owner_reason.startswith("the assignee"):
            lines.append(
                f"follow-up {plan.subject!r}: owned by {plan.owner_reason}; give that person an "
                "active Salesforce User with this email to make them the owner"
            )
    return lines


def plan_follow_ups(call: CallProcessed, match: MatchResult) -> list[FollowUp]:
    """One FollowUp per distinct action item, in order (repeated items collapse into one)."""
    return [plan for plan, _ in _planned(call, match)]


def _planned(call: CallProcessed, match: MatchResult) -> list[tuple[FollowUp, ActionItem]]:
    plans: dict[str, tuple[FollowUp, ActionItem]] = {}
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
        plans[key] = (FollowUp(key, subject_of(item), description, item.due_date, owner, reason), item)
    return list(plans.values())
