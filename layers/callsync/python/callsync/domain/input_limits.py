"""What a ``call.processed`` message may weigh, and what happens when it weighs more.

Pure rules over the message body and the event's JSON form; the consumer calls them before it
starts an execution, so an oversized call is trimmed (with a note) or refused at the door instead
of failing half-way with ``States.DataLimitExceeded``.

Outcomes, checked in this order:

1. **The body** is over 262,144 bytes (256 KiB, the queue's maximum message size, SQS's default):
   REJECTED. Nothing is read from it.
2. **Identifiers** that cannot be cut without becoming another call's: ``org_id`` or ``call_id``
   over 255 characters, ``host_email`` over 320, ``call_url`` over 2,048: REJECTED, naming the field.
3. **Participants**: more than 200 (after removing repeats of the same email) → the first 200 are
   kept, the host always among them; a participant whose email is over 320 characters is left out.
   A note says how many were left out.
4. **Texts** are trimmed, with a note naming the field and its length: ``title``, ``call_type``,
   ``source``, participant ``name``/``company`` to 255 characters (Salesforce's Subject and Name
   lengths); ``summary``, ``notes``, each key point, each action item and each text insight to
   32,000 (the longest text callsync writes into a standard field: Task/Event ``Description``).
   A trimmed text ends with ``TRIM_MARK``.
5. **The state**: the execution's input (the event, the org's settings and the message id) must
   leave room for what the steps add to the state, whose limit is 262,144 bytes. Above
   ``INPUT_BUDGET_BYTES``, the longest of the texts above is cut further, one at a time, down to
   ``TEXT_FLOOR_CHARS`` each; if the input still does not fit, REJECTED with the heaviest fields
   named.

Every trim is deterministic: the same message always becomes the same input (a redelivery still
finds its execution by name and input).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from callsync.errors import InvalidEvent

MAX_MESSAGE_BYTES = 262_144  # SQS: a message body is at most 256 KiB (the queue's default maximum)
STATE_LIMIT_BYTES = 262_144  # Step Functions: a state's input/output is at most 256 KiB (UTF-8 bytes)
INPUT_BUDGET_BYTES = 131_072  # the execution input; the other half is left to the steps' results
MAX_ID_CHARS = 255
MAX_EMAIL_CHARS = 320
MAX_URL_CHARS = 2_048
MAX_PARTICIPANTS = 200
MAX_SHORT_TEXT_CHARS = 255
MAX_LONG_TEXT_CHARS = 32_000
TEXT_FLOOR_CHARS = 1_000  # the state budget never cuts a text shorter than this
TRIM_MARK = " [… trimmed by callsync]"


class InputTooLarge(InvalidEvent):
    """The message cannot be admitted: it names the field(s) and the limit (REJECTED, permanent)."""


@dataclass(frozen=True)
class Admission:
    """The event as it enters the state machine, and what was trimmed on the way."""

    call: dict[str, Any]  # the event's JSON form, trimmed
    notes: tuple[str, ...] = ()


def json_bytes(value: Any) -> int:
    """Bytes of ``value`` serialised the way the execution input is (compact JSON, UTF-8)."""
    return len(json.dumps(value, separators=(",", ":")).encode())


def check_message(body: str) -> None:
    """Refuse a body over the SQS message limit before parsing it.

    Raises:
        InputTooLarge: the body is over ``MAX_MESSAGE_BYTES``.
    """
    size = len(body.encode())
    if size > MAX_MESSAGE_BYTES:
        raise InputTooLarge(
            f"the message body is {size:,} bytes; a call.processed message is at most "
            f"{MAX_MESSAGE_BYTES:,} bytes (256 KiB, the SQS message limit)"
        )


def trim_text(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending with ``TRIM_MARK`` (unchanged when it fits)."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(TRIM_MARK), 1)].rstrip() + TRIM_MARK


def admit(call: dict[str, Any], *, settings: dict[str, Any], message_id: str) -> Admission:
    """The event's JSON form within every limit (see the module docstring), and the notes.

    ``call`` is not changed; ``settings`` and ``message_id`` count towards the execution input.

    Raises:
        InputTooLarge: an identifier over its limit, or an input that does not fit even trimmed.
    """
    event = json.loads(json.dumps(call))  # a deep copy of plain JSON
    _check_identifiers(event)
    notes = [*_limit_participants(event), *_trim_texts(event)]
    fixed = json_bytes({"call": {}, "settings": settings, "message_id": message_id})
    notes += _fit_budget(event, INPUT_BUDGET_BYTES - fixed)
    return Admission(call=event, notes=tuple(notes))


def _check_identifiers(event: dict[str, Any]) -> None:
    for name, limit in (
        ("org_id", MAX_ID_CHARS),
        ("call_id", MAX_ID_CHARS),
        ("host_email", MAX_EMAIL_CHARS),
        ("call_url", MAX_URL_CHARS),
    ):
        value = event.get(name)
        if isinstance(value, str) and len(value) > limit:
            raise InputTooLarge(
                f"{name} is {len(value):,} characters; at most {limit:,} (an identifier "
                "cannot be trimmed without becoming another one)"
            )


def _limit_participants(event: dict[str, Any]) -> list[str]:
    participants = event.get("participants") or []
    notes: list[str] = []
    usable = [p for p in participants if len(str(p.get("email") or "")) <= MAX_EMAIL_CHARS]
    if len(usable) < len(participants):
        notes.append(
            f"participants: {len(participants) - len(usable)} email address(es) over "
            f"{MAX_EMAIL_CHARS} characters left out"
        )
    seen: set[str] = set()
    unique = []
    for person in usable:
        key = str(person.get("email") or "").strip().lower()
        if key not in seen:
            seen.add(key)
            unique.append(person)
    if len(unique) > MAX_PARTICIPANTS:
        host = str(event.get("host_email") or "").strip().lower()
        kept = unique[:MAX_PARTICIPANTS]
        if host and all(str(p.get("email") or "").strip().lower() != host for p in kept):
            host_entry = next((p for p in unique if str(p.get("email") or "").strip().lower() == host), None)
            if host_entry is not None:
                kept = [*kept[: MAX_PARTICIPANTS - 1], host_entry]
        notes.append(
            f"participants: {len(unique):,} on the call, only the first {MAX_PARTICIPANTS} (the host "
            f"included) are matched and linked; {len(unique) - MAX_PARTICIPANTS:,} left out"
        )
        unique = kept
    if notes:
        event["participants"] = unique
    return notes


# Where the texts are: (label, getter of the container, key) — the container is a dict or a list.
_Slot = tuple[str, Any, Any]


def _long_texts(event: dict[str, Any]) -> Iterator[_Slot]:
    """Every text the long-text limit and the state budget apply to, in a fixed order."""
    for key in ("summary", "notes"):
        if isinstance(event.get(key), str):
            yield key, event, key
    for i, point in enumerate(event.get("key_points") or []):
        if isinstance(point, str):
            yield f"key_points[{i}]", event["key_points"], i
    for name, value in (event.get("insights") or {}).items():
        if isinstance(value, str):
            yield f"insights.{name}", event["insights"], name
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, str):
                    yield f"insights.{name}[{i}]", value, i
    for i, item in enumerate(event.get("action_items") or []):
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            yield f"action_items[{i}].text", item, "text"


def _short_texts(event: dict[str, Any]) -> Iterator[_Slot]:
    for key in ("title", "call_type", "source"):
        if isinstance(event.get(key), str):
            yield key, event, key
    for i, person in enumerate(event.get("participants") or []):
        for key in ("name", "company"):
            if isinstance(person.get(key), str):
                yield f"participants[{i}].{key}", person, key


def _trim_texts(event: dict[str, Any]) -> list[str]:
    notes: list[str] = []
    for slots, limit in ((_short_texts, MAX_SHORT_TEXT_CHARS), (_long_texts, MAX_LONG_TEXT_CHARS)):
        for label, container, key in list(slots(event)):
            text = container[key]
            if len(text) > limit:
                container[key] = trim_text(text, limit)
                notes.append(f"{label}: {len(text):,} characters, trimmed to {limit:,}")
    return notes


def _fit_budget(event: dict[str, Any], budget: int) -> list[str]:
    """Cut the longest text until the event fits ``budget`` bytes; one note per text cut."""
    cut: dict[str, int] = {}  # label -> original length
    for _ in range(1_000):  # each round shortens one text by at least the excess: few rounds
        excess = json_bytes(event) - budget
        if excess <= 0:
            break
        slots = [s for s in _long_texts(event) if len(s[1][s[2]]) > TEXT_FLOOR_CHARS]
        if not slots:
            break
        label, container, key = max(slots, key=lambda s: len(s[1][s[2]]))
        text: str = container[key]
        cut.setdefault(label, len(text))
        target = max(len(text) - excess - len(TRIM_MARK), TEXT_FLOOR_CHARS)
        container[key] = trim_text(text, target)
    size = json_bytes(event)
    if size > budget:
        raise InputTooLarge(
            f"the call is {size:,} bytes once its texts are trimmed; at most {budget:,} fit in the execution "
            f"input (Step Functions holds at most {STATE_LIMIT_BYTES:,} bytes per state). Heaviest fields: "
            f"{_heaviest(event)}"
        )
    return [
        f"{label}: {length:,} characters, trimmed to {len(_value(event, label)):,} so the call fits in "
        "the state machine's 256 KiB"
        for label, length in cut.items()
    ]


def _value(event: dict[str, Any], label: str) -> str:
    return next(str(c[k]) for name, c, k in _long_texts(event) if name == label)


def _heaviest(event: dict[str, Any]) -> str:
    sizes = sorted(((json_bytes(v), k) for k, v in event.items()), reverse=True)[:3]
    return ", ".join(f"{k} ({n:,} bytes)" for n, k in sizes)
