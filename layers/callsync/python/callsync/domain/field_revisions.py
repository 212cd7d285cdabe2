"""Revisions of one call in the mapped fields: its marked entry, what it wrote before, a person's edit since.

Pure functions and values; ``field_policies`` applies them.

- **The entry marker.** Each text entry a call appends starts with ``[YYYY-MM-DD #ref]``: the call's date
  and ``ref``, six hex digits derived from the call id (:func:`call_mark`), the same in every field and for
  every revision. A later revision finds its call's entry by the marker alone (no ledger needed) and
  replaces it in place. An entry runs from its marker to the next separator (``"\\n\\n"`` in a text area,
  ``" | "`` in a one-line field) or the end of the field; so the entry's own text never holds the separator
  (:func:`entry_text`: blank lines become one line break, ``" | "`` becomes ``" / "``).
- **What the call wrote before** (:class:`PriorWrite`, from the ledger): the value the field had before the
  call first changed it (``base``) and the value the call last wrote (``last``).
- **A person's edit** is ``domain.person_edits`` (one rule for fields and activities): a field whose value
  differs from what the call last wrote, on a record a person changed after the call started, is taken as
  that person's edit.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from callsync.domain.value_coercion import is_empty

MARK_DIGITS = 6
PARAGRAPH = "\n\n"  # between the entries of a text area
INLINE = " | "  # between the entries of a one-line text field


def call_mark(call_id: str) -> str:
    """The short reference of a call in its text entries (stable across revisions)."""
    return hashlib.sha256(call_id.encode("utf-8")).hexdigest()[:MARK_DIGITS]


def entry_header(call_date: date, mark: str | None) -> str:
    return f"[{call_date.isoformat()} #{mark}] " if mark else f"[{call_date.isoformat()}] "


def entry_text(text: str, separator: str) -> str:
    """The entry's text without the separator between entries, so the entry's end is always known."""
    if separator.strip() == "|":
        return text.replace(separator, " / ")
    return re.sub(r"\n(?:[ \t]*\n)+", "\n", text)


def own_span(current: str, mark: str, separator: str) -> tuple[int, int] | None:
    """Where the entry marked ``mark`` is in ``current`` (start, end), if it is there."""
    pattern = re.compile(r"\[\d{4}-\d{2}-\d{2} #" + re.escape(mark) + r"\] ")
    for found in pattern.finditer(current):
        start = found.start()
        if start == 0 or current[:start].endswith(separator):
            end = current.find(separator, found.end())
            return start, len(current) if end == -1 else end
    return None


def span_of(current: str, entry: str, separator: str) -> tuple[int, int] | None:
    """Where an exact earlier entry (an unmarked one, known from the ledger) is in ``current``."""
    start = current.find(entry)
    while start != -1:
        end = start + len(entry)
        starts = start == 0 or current[:start].endswith(separator)
        ends = end == len(current) or current[end:].startswith(separator)
        if starts and ends:
            return start, end
        start = current.find(entry, start + 1)
    return None


@dataclass(frozen=True)
class PriorWrite:
    """What earlier revisions (or attempts) of this call wrote to one field, from the ledger."""

    base: Any  # the field's value before this call first changed it
    last: Any  # the value this call last wrote
    revision: int

    def entry(self, mark: str, separator: str) -> str | None:
        """This call's entry as it last wrote it: marked, or the text it appended after ``base``."""
        if not isinstance(self.last, str):
            return None
        span = own_span(self.last, mark, separator)
        if span is not None:
            return self.last[span[0] : span[1]]
        base = "" if is_empty(self.base) else str(self.base)
        if base and self.last.startswith(base + separator):
            return self.last[len(base) + len(separator) :]
        return self.last if not base else None


def holds_entry(value: Any, mark: str) -> bool:
    """Whether ``value`` holds an entry marked ``mark`` (in a text area's or a one-line field's form)."""
    return isinstance(value, str) and any(own_span(value, mark, sep) is not None for sep in (PARAGRAPH, INLINE))


def without_own_entry(current: Any, base: Any, last: Any, mark: str) -> str | None:
    """``current`` with this call's entry taken out (with one separator next to it), the rest byte for byte.

    The entry is the one the call last wrote (``last``, written over ``base``: :meth:`PriorWrite.entry`),
    found in ``current`` by its marker, else as that exact text. None when ``current`` does not hold it as
    written: it is gone, or someone edited the entry itself (then it is theirs to keep). The separator is
    tried a text area's first, since a text area's entry may hold a one-line field's separator in its text.
    """
    if not isinstance(current, str):
        return None
    prior = PriorWrite(base=base, last=last, revision=0)
    for separator in (PARAGRAPH, INLINE):
        entry = prior.entry(mark, separator)
        if not entry:
            continue
        marked = own_span(entry, mark, separator) is not None
        span = own_span(current, mark, separator) if marked else span_of(current, entry, separator)
        if span is None or current[span[0] : span[1]] != entry:
            continue
        start, end = span
        if current.startswith(separator, end):
            return current[:start] + current[end + len(separator) :]
        if start >= len(separator) and current[:start].endswith(separator):
            return current[: start - len(separator)] + current[end:]
        return current[:start] + current[end:]
    return None
