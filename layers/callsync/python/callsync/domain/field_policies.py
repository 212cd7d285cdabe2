"""Decide what a mapped field holds after this call: the field policies.

Pure functions. Input: the field's describe, its current value, the coerced
insight value (``value_coercion``), the mapping's policy and the call's date.
Output: a :class:`Decision` — whether to write, the value the field will hold,
the rule that decided, and notes for the ledger.

Rules:

- ``skip``: never written.
- An empty field (None, blank, no values) is always filled.
- ``default`` when the field has a value, by type: text (string, textarea,
  url, phone) → ``append``; picklist, numbers and every other type → ``keep``;
  multipicklist → ``union``. An email field is text too, but Salesforce
  rejects anything but one address in it, so an appended email would be a
  value Salesforce rejects: it is never sent, the address is kept and the
  ledger says so. url and phone fields are filled with the plain value when
  empty (a link stays clickable) and get a dated entry after the old value
  otherwise; an entry that does not fit whole is dropped, never cut.
- ``append``: text gets this call's entry ``[YYYY-MM-DD] text`` (the call's
  date) after the old text, separated by a blank line (``"\\n\\n"``; ``" | "`` in
  single-line fields). An empty field receives the entry alone. A
  multipicklist unions; other types keep.
- ``overwrite``: the new value replaces the old one.
- ``fill_empty``: only an empty field is written (with the plain value).
- ``union``: a multipicklist gets the new values added; other types keep.

Idempotency: appending checks whether this call's entry is already in the
field (also in its truncated form), so a retry or replay adds nothing; every
other rule reaches the same value again and a value equal to the current
one is not written.

Length: the rep's text is never cut. When the entry does not fit, it is cut to
the room left (ending in ``…``) if at least ``MIN_ENTRY_TEXT`` characters of
its text fit, otherwise this call's entry is dropped; both are noted. A plain
value longer than the field is truncated the same way, except url, email and
phone values, which are dropped (a cut address is a wrong address).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from callsync.domain.value_coercion import SINGLE_LINE_TEXT_TYPES, format_number, is_empty, split_multipicklist
from callsync.models.describe import NUMBER_TYPES, TEXT_TYPES, FieldDescribe

ELLIPSIS = "…"
MIN_ENTRY_TEXT = 20  # fewer characters of a call's text than this are not worth appending
PARAGRAPH = "\n\n"
INLINE = " | "
APPENDABLE_TYPES = frozenset({"string", "textarea", "url", "phone"})
SINGLE_VALUE_TEXT_TYPES = frozenset({"url", "email", "phone"})  # filled plain; never cut


@dataclass(frozen=True)
class Decision:
    """``after`` is what the field holds after the call (``before`` when nothing is written)."""

    write: bool
    after: Any
    policy: str  # the rule that decided: fill, append, overwrite, union, keep, skip
    notes: tuple[str, ...] = ()


def default_rule(field_type: str) -> str:
    """What ``default`` means for a field that already has a value."""
    if field_type in APPENDABLE_TYPES or field_type == "email":
        return "append"
    if field_type == "multipicklist":
        return "union"
    return "keep"


def entry_for(text: str, call_date: date) -> str:
    """This call's entry in an appended text field."""
    return f"[{call_date.isoformat()}] {text}"


def separator_for(field: FieldDescribe) -> str:
    """A blank line between entries of a text area; ``" | "`` in a one-line text field."""
    return INLINE if field.type in SINGLE_LINE_TEXT_TYPES else PARAGRAPH


def contains_entry(current: str, entry: str) -> bool:
    """Whether ``current`` already holds ``entry``, whole or cut by :func:`fit_entry`."""
    if entry in current:
        return True
    head = entry[: entry.index("] ") + 2 + MIN_ENTRY_TEXT] if "] " in entry else entry
    start = current.find(head)
    while start != -1:
        shared = _common_prefix(current[start:], entry)
        if current.startswith(ELLIPSIS, start + shared):
            return True
        start = current.find(head, start + 1)
    return False


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def decide(field: FieldDescribe, before: Any, new: Any, *, policy: str, call_date: date) -> Decision:
    """The decision for one mapped field (``new`` is a coerced, non-empty value)."""
    if policy == "skip":
        return Decision(False, before, "skip", ("policy skip: never written",))
    if new is None:
        return Decision(False, before, "keep")
    rule = default_rule(field.type) if policy == "default" else policy
    if is_empty(before):
        return _fill(field, before, new, rule=rule, call_date=call_date)
    if rule in ("keep", "fill_empty"):
        return Decision(False, before, "keep", ("the field already has a value",))
    if rule == "overwrite":
        return _overwrite(field, before, new)
    if rule == "append" and field.type in APPENDABLE_TYPES:
        return _append(field, str(before), str(new), call_date=call_date)
    if rule == "append" and field.type == "email":
        return Decision(
            False,
            before,
            "keep",
            ("an email field holds one address (Salesforce rejects an appended one); the existing value was kept",),
        )
    if rule in ("append", "union") and field.type == "multipicklist":
        return _union(before, new)
    reason = (
        f"a {field.type} field holds one value"
        if field.type in SINGLE_VALUE_TEXT_TYPES
        else (f"{rule} does not apply to a {field.type} field")
    )
    return Decision(False, before, "keep", (f"{reason}; the existing value was kept",))


def _fill(field: FieldDescribe, before: Any, new: Any, *, rule: str, call_date: date) -> Decision:
    if field.type in APPENDABLE_TYPES and field.type not in SINGLE_VALUE_TEXT_TYPES and rule in ("append", "union"):
        entry, notes = fit_entry(entry_for(str(new), call_date), field.length or None)
        if entry is None:
            return Decision(False, before, "fill", notes)
        return Decision(True, entry, "fill", notes)
    value, notes = _plain(field, new)
    if value is None:
        return Decision(False, before, "fill", notes)
    return Decision(True, value, "fill", notes)


def _overwrite(field: FieldDescribe, before: Any, new: Any) -> Decision:
    value, notes = _plain(field, new)
    if value is None:
        return Decision(False, before, "overwrite", notes)
    if same_value(field, before, value):
        return Decision(False, before, "overwrite", (*notes, "already holds this value"))
    return Decision(True, value, "overwrite", notes)


def _append(field: FieldDescribe, before: str, text: str, *, call_date: date) -> Decision:
    entry = entry_for(text, call_date)
    if contains_entry(before, entry) or (field.type in SINGLE_VALUE_TEXT_TYPES and text in before):
        return Decision(False, before, "append", ("this call's entry is already there",))
    sep = separator_for(field)
    limit = field.length or None
    room = None if limit is None else limit - len(before) - len(sep)
    fitted, notes = fit_entry(entry, room)
    if fitted != entry and field.type in SINGLE_VALUE_TEXT_TYPES:
        fitted = None
    if fitted is None:
        full = f"the field holds {len(before)} of {limit} characters; the existing text was kept"
        return Decision(False, before, "append", (f"dropped this call's entry: {full}",))
    return Decision(True, before + sep + fitted, "append", notes)


def fit_entry(entry: str, room: int | None) -> tuple[str | None, tuple[str, ...]]:
    """``entry`` cut to ``room`` characters, or None when too little of its text would remain."""
    if room is None or len(entry) <= room:
        return entry, ()
    header = entry.index("] ") + 2 if "] " in entry else 0
    if room - 1 - header < MIN_ENTRY_TEXT:
        return None, (f"dropped this call's entry: only {max(room, 0)} characters left in the field",)
    return entry[: room - 1] + ELLIPSIS, (f"truncated this call's entry from {len(entry)} to {room} characters",)


def _plain(field: FieldDescribe, new: Any) -> tuple[Any, tuple[str, ...]]:
    """The value as sent: multipicklists joined with ``;``, text cut to the field's length."""
    if field.type == "multipicklist":
        return ";".join(new), ()
    if field.type not in TEXT_TYPES:
        return new, ()
    text = str(new)
    limit = field.length or None
    if limit is None or len(text) <= limit:
        return text, ()
    if field.type in SINGLE_VALUE_TEXT_TYPES:
        return None, (f"dropped {text[:40]!r}…: longer than the field's {limit} characters",)
    return text[: limit - 1] + ELLIPSIS, (f"truncated from {len(text)} to {limit} characters",)


def _union(before: Any, new: list[str]) -> Decision:
    current = split_multipicklist(before)
    known = {v.lower() for v in current}
    added = [v for v in new if v.lower() not in known]
    if not added:
        return Decision(False, before, "union", ("already holds these values",))
    return Decision(True, ";".join([*current, *added]), "union", ())


def same_value(field: FieldDescribe, before: Any, after: Any) -> bool:
    """Whether two values of ``field`` are the same as Salesforce would store them."""
    if is_empty(before) and is_empty(after):
        return True
    if is_empty(before) or is_empty(after):
        return False
    if field.type in NUMBER_TYPES:
        try:
            return float(before) == float(after)
        except (TypeError, ValueError):
            return False
    if field.type == "multipicklist":
        return {v.lower() for v in split_multipicklist(before)} == {v.lower() for v in split_multipicklist(after)}
    if field.type == "picklist":
        return str(before).lower() == str(after).lower()
    if field.type == "datetime":
        return str(before)[:19] == str(after)[:19]
    if isinstance(before, int | float) and not isinstance(before, bool):
        before = format_number(before)
    return bool(before == after)
