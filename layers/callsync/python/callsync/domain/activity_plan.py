"""Pure rules for the logged call: who owns it, what it relates to, its Type, text and times.

Everything here works on plain data (the event, the match, picklist values);
the service decides what to write, the adapter how.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from callsync.domain.activity_kind import normalise_title
from callsync.domain.reference_text import restore
from callsync.models.describe import ObjectDescribe
from callsync.models.event import CallProcessed, InsightValue
from callsync.models.match import ContactsResult, MatchResult, Person

DESCRIPTION_MAX = 32_000
MAX_SHARED_CONTACTS = 50  # Shared Activities: up to 50 contacts per activity, WhoId included
CONTACT_KEY_PREFIX = "003"
KNOWN_COMPLETED = ("completed",)
COMPLETED_HINTS = ("complet", "done", "closed")
# A non-all-day Event lasts at most 14 days: longer is refused with FIELD_INTEGRITY_EXCEPTION
# (Salesforce Object Reference, Event: DurationInMinutes / EndDateTime).
EVENT_MAX_MINUTES = 14 * 24 * 60
# A calendar Event starts at its scheduled time, the recorder at the call's actual start: people join a few
# minutes late or early. Ten minutes covers that, and stays below the shortest usual gap to the next meeting
# slot (15 minutes), so a back-to-back meeting with the same people on the same deal is not taken for this one.
EVENT_START_TOLERANCE = timedelta(minutes=10)


def call_ref(call: CallProcessed, key: str | None = None) -> str:
    """The deterministic marker callsync leaves in the text it writes for a call.

    It names the call (not the revision): a re-synced revision finds what an
    earlier one wrote. ``key`` tells one follow-up from another.
    """
    return f"callsync-ref: {call.call_id}" + (f"/{key}" if key else "")


# ---------------------------------------------------------------- owner


@dataclass(frozen=True)
class OwnerChoice:
    user_id: str | None  # None: leave the default (the integration user)
    reason: str


def _internal_users(match: MatchResult) -> list[Person]:
    return [p for p in match.internal if p.object == "User" and p.id]


def host_user_id(call: CallProcessed, match: MatchResult) -> str | None:
    """The host's Salesforce User id, when the host is a User."""
    if match.host_user_id:
        return match.host_user_id
    host = call.host_email.strip().lower()
    return next((p.id for p in _internal_users(match) if p.email.lower() == host), None)


def choose_owner(call: CallProcessed, match: MatchResult) -> OwnerChoice:
    """Owner / Assigned To of the logged call.

    1. The matched Opportunity's owner, when that owner was on the call.
    2. The host, when the host is a User.
    3. Any internal participant who is a User (in call order).
    4. Nobody: the record keeps its default owner (the integration user).
    """
    on_call = [p.id for p in _internal_users(match) if p.id]
    opportunity = match.opportunity
    if opportunity is not None and opportunity.owner_id and opportunity.owner_id in on_call:
        return OwnerChoice(opportunity.owner_id, "the opportunity owner was on the call")
    host = host_user_id(call, match)
    if host:
        return OwnerChoice(host, "the call host")
    if on_call:
        return OwnerChoice(on_call[0], "an internal participant (the host is no Salesforce User)")
    return OwnerChoice(None, "no participant is a Salesforce User: default owner")


# ---------------------------------------------------------------- related records


@dataclass(frozen=True)
class Relations:
    """What the logged call is related to and whom it names."""

    what_id: str | None  # matched Opportunity, else Account
    what_object: str | None
    who_id: str | None  # primary Contact, else a Lead (only when there is no WhatId)
    who_object: str | None
    other_contact_ids: list[str] = field(default_factory=list)  # to attach with Shared Activities
    contact_emails: dict[str, str] = field(default_factory=dict)  # contact/lead id -> email
    unlinkable: list[str] = field(default_factory=list)  # emails that can never be linked (e.g. extra leads)

    @property
    def entity_ids(self) -> list[str]:
        """Every record id the call is related to (for the dedupe lookup)."""
        ids = [self.what_id, self.who_id, *self.other_contact_ids]
        return list(dict.fromkeys(i for i in ids if i))


def _people(match: MatchResult, contacts: ContactsResult | None, kind: str) -> list[Person]:
    pool: list[Person] = []
    if kind == "Contact" and match.primary_contact is not None:
        pool.append(match.primary_contact)
    pool += match.contacts if kind == "Contact" else match.leads
    if contacts is not None:
        pool += contacts.created + contacts.reused
    seen: dict[str, Person] = {}
    for person in pool:
        if person.object == kind and person.id and person.id not in seen:
            seen[person.id] = person
    return list(seen.values())


def relations(match: MatchResult, contacts: ContactsResult | None) -> Relations:
    """Related to: the Opportunity, else the Account. Name: the primary Contact, else a Lead.

    Salesforce refuses a Lead as WhoId next to a WhatId, so a Lead is only named
    when nothing else is related; other Leads cannot be attached (Shared
    Activities takes contacts or one lead).
    """
    what_id, what_object = None, None
    if match.opportunity is not None:
        what_id, what_object = match.opportunity.id, "Opportunity"
    elif match.account is not None:
        what_id, what_object = match.account.id, "Account"
    contact_people = _people(match, contacts, "Contact")
    lead_people = _people(match, contacts, "Lead")
    emails = {p.id: p.email for p in contact_people + lead_people if p.id}
    if contact_people:
        primary = contact_people[0]
        others = [p.id for p in contact_people[1:] if p.id]
        return Relations(what_id, what_object, primary.id, "Contact", others, emails, [p.email for p in lead_people])
    if lead_people and what_id is None:
        return Relations(None, None, lead_people[0].id, "Lead", [], emails, [p.email for p in lead_people[1:]])
    return Relations(what_id, what_object, None, None, [], emails, [p.email for p in lead_people])


def split_shared_contacts(
    rel: Relations,
    *,
    shared_activities: bool,
    limit: int = MAX_SHARED_CONTACTS,
    already: Iterable[str] = (),
) -> tuple[list[str], list[str]]:
    """(the call's other contacts the activity carries, emails left unlinked).

    Without Shared Activities only WhoId links a contact; with it, up to
    ``limit`` contacts per activity, WhoId included. ``already``: the contacts
    an existing activity holds (its WhoId and relations, whoever they are);
    they count against the limit, and those of the call stay linked. The
    others fill the room that is left, in call order.
    """
    if not shared_activities:
        return [], [rel.contact_emails.get(i, i) for i in rel.other_contact_ids]
    held = set(already) | ({rel.who_id} if rel.who_object == "Contact" and rel.who_id else set())
    room = max(0, limit - len(held))
    attach: list[str] = []
    left: list[str] = []
    for contact_id in rel.other_contact_ids:
        if contact_id in held:
            attach.append(contact_id)
        elif room > 0:
            attach.append(contact_id)
            room -= 1
        else:
            left.append(contact_id)
    return attach, [rel.contact_emails.get(i, i) for i in left]


# ---------------------------------------------------------------- picklists


def picklist_match(value: str | None, allowed: Iterable[str]) -> str | None:
    """The org's spelling of ``value`` when the picklist has it (case-insensitive), else None."""
    if not value or not value.strip():
        return None
    wanted = value.strip().casefold()
    return next((v for v in allowed if v.strip().casefold() == wanted), None)


def completed_status(values: Sequence[str]) -> str | None:
    """A closed Task Status valid in the org: "Completed" if present, else one that reads as done."""
    for known in KNOWN_COMPLETED:
        hit = next((v for v in values if v.casefold() == known), None)
        if hit:
            return hit
    return next((v for v in values if any(h in v.casefold() for h in COMPLETED_HINTS)), None)


# ---------------------------------------------------------------- text


def visible_select(wanted: Sequence[str], describe: ObjectDescribe | None) -> list[str]:
    """The fields of ``wanted`` a SELECT may name: those the describe shows (``Id`` always).

    A field hidden from the integration user (field-level security) is absent from its
    describe and makes the whole query fail with INVALID_FIELD; it is left out instead, and
    whatever reads the rows finds it missing. Without a describe, ``wanted`` is kept as is.
    """
    if describe is None:
        return list(wanted)
    return [name for name in wanted if name == "Id" or describe.field(name) is not None]


def one_line(text: str) -> str:
    """Whitespace folded, and text callsync stored defused read as the call had it (``domain.reference_text``)."""
    return " ".join(restore(text).split())


def _insight_text(value: InsightValue) -> str:
    if isinstance(value, list):
        return ", ".join(one_line(str(v)) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return one_line(str(value))


def cut_text(body: str, tail: str, limit: int) -> tuple[str, bool]:
    """``body`` + ``tail`` within ``limit`` characters; the tail always survives.

    A body too long is cut at a line or word boundary and says so.
    """
    full = f"{body}\n\n{tail}" if body else tail
    if len(full) <= limit:
        return full, False
    notice = "\n\n[… truncated by callsync: the full text is on the call page]"
    room = limit - len(tail) - len(notice) - 2
    if room <= 0:
        return tail[:limit], True
    cut = body[:room]
    boundary = max(cut.rfind("\n"), cut.rfind(" "))
    if boundary > room * 0.8:
        cut = cut[:boundary]
    return f"{cut.rstrip()}{notice}\n\n{tail}", True


def activity_parts(call: CallProcessed) -> tuple[str, str]:
    """(body, tail): summary, key points and insights; then the backlink and the marker (never cut)."""
    parts: list[str] = [call.summary.strip()]
    if call.key_points:
        parts.append("Key points:\n" + "\n".join(f"- {one_line(p)}" for p in call.key_points if p.strip()))
    if call.insights:
        parts.append("Insights:\n" + "\n".join(f"- {k}: {_insight_text(v)}" for k, v in call.insights.items()))
    body = "\n\n".join(p for p in parts if p)
    return body, f"Call: {call.call_url}\n{call_ref(call)}"


def activity_description(call: CallProcessed, limit: int = DESCRIPTION_MAX) -> tuple[str, bool]:
    """Summary, key points, insights, then the backlink and the marker; (text, truncated)."""
    body, tail = activity_parts(call)
    return cut_text(body, tail, limit)


# ---------------------------------------------------------------- dates and times


def call_date(call: CallProcessed) -> date:
    """The call's date as its own clock read it (the offset in ``started_at``)."""
    return call.started_at.date()


def call_dates(call: CallProcessed) -> set[date]:
    """Dates an activity for this call may carry: local and UTC (they differ near midnight)."""
    return {call_date(call), call.started_at_utc.date()}


def read_ahead_dates(started_at: datetime) -> list[date]:
    """``ActivityDate`` values an activity for a call starting at ``started_at`` may carry.

    A Task: the call's date in its own offset, or in UTC. An Event (``ActivityDate`` is its
    start's UTC date): also the dates of ``EVENT_START_TOLERANCE`` before and after the start.
    """
    utc = started_at.astimezone(UTC)
    around = (utc - EVENT_START_TOLERANCE, utc, utc + EVENT_START_TOLERANCE)
    return sorted({started_at.date(), *(moment.date() for moment in around)})


def duration_minutes(call: CallProcessed) -> int:
    """The call's length in whole minutes (rounded up)."""
    return math.ceil(call.duration_seconds / 60)


def event_minutes(call: CallProcessed) -> int:
    """The Event's ``DurationInMinutes``: the call's, at most Salesforce's 14 days."""
    return min(duration_minutes(call), EVENT_MAX_MINUTES)


def event_duration_warning(call: CallProcessed) -> str | None:
    """Why the Event is shorter than the call (``None`` when it is not)."""
    minutes = duration_minutes(call)
    if minutes <= EVENT_MAX_MINUTES:
        return None
    return (
        f"the call lasted {minutes:,} minutes ({minutes / 1440:.1f} days); Salesforce limits an Event to "
        f"14 days, so the Event ends after {EVENT_MAX_MINUTES:,} minutes"
    )


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def event_times(call: CallProcessed) -> dict[str, Any]:
    """StartDateTime, EndDateTime and DurationInMinutes, consistent with each other (≤ 14 days)."""
    start = call.started_at_utc.replace(microsecond=0)
    minutes = event_minutes(call)
    return {
        "StartDateTime": rfc3339(start),
        "EndDateTime": rfc3339(start + timedelta(minutes=minutes)),
        "DurationInMinutes": minutes,
    }


def parse_sf_datetime(value: Any) -> datetime | None:
    """Salesforce datetimes: ``2026-11-20T15:00:00.000+0000`` or RFC 3339."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    if len(text) >= 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def parse_sf_date(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def same_value(field_name: str, before: Any, after: Any) -> bool:
    """Whether a record's value read from Salesforce already is the value callsync would write.

    Empty is empty (None or ""); numbers compare as numbers; datetimes as
    instants (``…000+0000`` and ``…Z`` alike); ids (fields ending in ``Id``)
    in their 15-character form; text with its line ends normalised.
    """
    if before in (None, "") or after in (None, ""):
        return before in (None, "") and after in (None, "")
    if isinstance(after, bool) or isinstance(before, bool):
        return bool(before == after)
    if isinstance(after, int | float):
        try:
            return float(before) == float(after)
        except (TypeError, ValueError):
            return False
    old, new = str(before).replace("\r\n", "\n"), str(after).replace("\r\n", "\n")
    if old == new:
        return True
    if field_name.endswith("Id") and len(old) in (15, 18) and len(new) in (15, 18):
        return old[:15] == new[:15]
    if "T" in old and "T" in new:
        then, now = parse_sf_datetime(old), parse_sf_datetime(new)
        return (
            then is not None and now is not None and then.tzinfo is not None and now.tzinfo is not None and then == now
        )
    return False


# ---------------------------------------------------------------- dedupe


def _child_ids(record: dict[str, Any], relationship: str) -> list[str]:
    child = record.get(relationship)
    if not isinstance(child, dict):
        return []
    return [str(r["RelationId"]) for r in child.get("records") or [] if r.get("RelationId")]


def existing_relation_ids(record: dict[str, Any]) -> set[str]:
    """Who/what ids an existing Task or Event is already linked to (relations read with it included)."""
    ids = {str(record[k]) for k in ("WhoId", "WhatId") if record.get(k)}
    ids.update(_child_ids(record, "TaskRelations"))
    ids.update(_child_ids(record, "EventRelations"))
    return ids


def existing_contact_ids(record: dict[str, Any], call_contacts: Iterable[str]) -> set[str]:
    """The contacts an existing Task/Event holds: its WhoId and relations that are Contacts.

    A relation is a Contact when it is one of the call's contacts or carries the
    Contact key prefix (``003``); the WhatId, Users (invitees) and Leads are not.
    """
    known = {str(i) for i in call_contacts if i}
    return {
        i
        for i in existing_relation_ids(record) - {str(record.get("WhatId"))}
        if i in known or i.startswith(CONTACT_KEY_PREFIX)
    }


def record_kind(record: dict[str, Any]) -> str | None:
    kind = (record.get("attributes") or {}).get("type")
    if kind:
        return str(kind)
    record_id = str(record.get("Id") or "")
    return {"00T": "Task", "00U": "Event"}.get(record_id[:3])


def start_within_tolerance(start: datetime, call: CallProcessed) -> bool:
    """Whether an Event starting at ``start`` is at the call's time: at most ``EVENT_START_TOLERANCE`` apart."""
    return abs(start - call.started_at_utc) <= EVENT_START_TOLERANCE


def _record_date_matches(record: dict[str, Any], call: CallProcessed) -> bool:
    dates = call_dates(call)
    start = parse_sf_datetime(record.get("StartDateTime"))
    if start is not None and start.tzinfo is not None:
        return start_within_tolerance(start, call)
    if start is not None:
        return start.date() in dates
    day = parse_sf_date(record.get("ActivityDate"))
    if day is not None:
        return day in dates
    return "StartDateTime" not in record and "ActivityDate" not in record  # the query filtered on it


def _related_matches(record: dict[str, Any], related: set[str]) -> bool:
    if not related:
        return False
    if not any(k in record for k in ("WhoId", "WhatId", "AccountId", "TaskRelations", "EventRelations")):
        return True  # the query filtered on the relations and did not select them
    linked = existing_relation_ids(record) | ({str(record["AccountId"])} if record.get("AccountId") else set())
    return bool(linked & related)


def pick_existing_activity(
    candidates: Iterable[dict[str, Any]],
    call: CallProcessed,
    *,
    subjects: Sequence[str],
    related_ids: Iterable[str],
    prefer_kind: str | None,
    prefix: str = "",
) -> dict[str, Any] | None:
    """The existing Task/Event that already represents this call, if any.

    At the call's time (a Task: the call's date; an Event: a start at most
    ``EVENT_START_TOLERANCE`` from the call's), the same title (``normalise_title``:
    case, whitespace, dash and quote variants and the ``prefix`` ignored), and
    related to one of the call's Contacts, Account or Opportunity. A record
    carrying this call's marker is the call's whatever else changed. Best first:
    our marker, then our prefixed subject, then the kind we would create.
    """
    wanted = {normalise_title(s, prefix) for s in subjects}
    ours = one_line(subjects[0]).casefold() if subjects else None
    related = {str(i) for i in related_ids if i}
    marker = call_ref(call)
    best: tuple[int, dict[str, Any]] | None = None
    for record in candidates:
        if record_kind(record) not in ("Task", "Event"):
            continue
        description = str(record.get("Description") or "")
        has_marker = marker in description.splitlines()
        subject = one_line(str(record.get("Subject") or "")).casefold()
        if not has_marker:
            if normalise_title(subject, prefix) not in wanted or not _record_date_matches(record, call):
                continue
            if not _related_matches(record, related):
                continue
        score = 4 * has_marker + 2 * (subject == ours) + (record_kind(record) == prefer_kind)
        if best is None or score > best[0]:
            best = (score, record)
    return best[1] if best else None
