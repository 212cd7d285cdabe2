"""Decide what a mapped field holds after this call: the field policies.

Pure functions. Input: the field's describe, its current value, the coerced
insight value (``value_coercion``), the mapping's policy and the call's date.
Output: a :class:`Decision` — whether to write, the value the field will hold,
the rule that decided, and notes for the ledger.

Rules:

- ``skip``: never written.
- An empty field (None, blank, no values) is always filled.
- ``default`` when the field has a value, by type: text (string, textarea,
  url, phone) → ``append``; picklist, combobox (one value, typed or picked
  from its suggestions), numbers and every other type → ``keep``;
  multipicklist → ``union``. An email field is text too, but Salesforce
  rejects anything but one address in it, so an appended email would be a
  value Salesforce rejects: it is never sent, the address is kept and the
  ledger says so. url and phone fields are filled with the plain value when
  empty (a link stays clickable) and get a dated entry after the old value
  otherwise; an entry that does not fit whole is dropped, never cut.
- ``append``: text gets this call's entry ``[YYYY-MM-DD #ref] text`` (the call's
  date and short reference, ``field_revisions.call_mark``) after the old text,
  separated by a blank line (``"\\n\\n"``; ``" | "`` in single-line fields).
  An empty field receives the entry alone. A multipicklist unions; other
  types keep.
- ``overwrite``: the new value replaces the old one.
- ``fill_empty``: only an empty field is written (with the plain value).
- ``union``: a multipicklist gets the new values added; other types keep.

Revisions (with ``mark``, ``prior`` and ``edit``, see ``field_revisions``): a later revision of the call
replaces its own entry in place, decides a value it wrote before again from the value before the call,
removes multi-select values only it had added, and keeps what a person changed since.

A person's edit of the record after the call started (``edit``, ``person_edits``) also keeps the values a
call that started before it would replace (:func:`replaces`: an ``overwrite`` of a field with a value); a
late call still fills empty fields, appends its dated entry and adds multi-select values.

Idempotency: appending checks whether this call's entry is already in the
field (also in its truncated form), so a retry or replay adds nothing; every
other rule reaches the same value again and a value equal to the current
one is not written.

Length: the rep's text is never cut. When the entry does not fit, it is cut to
the room left (ending in ``…``) if at least ``MIN_ENTRY_TEXT`` characters of
its text fit, otherwise this call's entry is dropped; both are noted. A plain
value longer than the field (a combobox too) is truncated the same way, except
url, email and phone values, which are dropped (a cut address is a wrong address).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from callsync.domain.field_revisions import INLINE, PARAGRAPH, PriorWrite, entry_header, entry_text, own_span, span_of
from callsync.domain.person_edits import PersonEdit
from callsync.domain.value_coercion import SINGLE_LINE_TEXT_TYPES, format_number, is_empty, split_multipicklist
from callsync.models.describe import NUMBER_TYPES, TEXT_TYPES, FieldDescribe

ELLIPSIS = "…"
MIN_ENTRY_TEXT = 20  # fewer characters of a call's text than this are not worth appending
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


def entry_for(text: str, call_date: date, mark: str | None = None, separator: str = PARAGRAPH) -> str:
    """This call's entry in an appended text field (marked with the call's reference when ``mark`` is given)."""
    if mark is None:
        return f"[{call_date.isoformat()}] {text}"
    return entry_header(call_date, mark) + entry_text(text, separator)


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


def decide(
    field: FieldDescribe,
    before: Any,
    new: Any,
    *,
    policy: str,
    call_date: date,
    mark: str | None = None,
    prior: PriorWrite | None = None,
    edit: PersonEdit | None = None,
) -> Decision:
    """The decision for one mapped field (``new`` is a coerced, non-empty value).

    ``mark`` is the call's reference in its text entries; ``prior`` what earlier revisions of this call
    wrote to the field (ledger); ``edit`` a person's edit of the record after the call started (only
    given when human edits are protected). With them, a revision replaces its own earlier contribution
    and keeps a value a person changed since (``field_revisions``).
    """
    if policy == "skip":
        return Decision(False, before, "skip", ("policy skip: never written",))
    if new is None:
        return Decision(False, before, "keep")
    rule = default_rule(field.type) if policy == "default" else policy
    by_entry = mark is not None and field.type in APPENDABLE_TYPES and rule in ("append", "union")
    if by_entry and field.type in SINGLE_VALUE_TEXT_TYPES:  # a url or phone filled plain is replaced as a value
        by_entry = not is_empty(before) and not (prior is not None and same_value(field, before, prior.last))
    if by_entry:
        revised = _revise_entry(field, before, str(new), call_date=call_date, mark=mark or "", prior=prior, edit=edit)
        return revised or _after_edit(
            before, _decide(field, before, new, rule=rule, call_date=call_date, mark=mark), edit
        )
    if prior is not None:
        return _revise_value(field, before, new, rule=rule, call_date=call_date, prior=prior, edit=edit)
    return _after_edit(before, _decide(field, before, new, rule=rule, call_date=call_date, mark=mark), edit)


def replaces(before: Any, decision: Decision) -> bool:
    """The decision writes over a value the field holds: an ``overwrite`` of a non-empty field.

    Filling an empty field, appending a dated entry and adding multi-select values leave what is there.
    """
    return decision.write and decision.policy == "overwrite" and not is_empty(before)


def _after_edit(before: Any, decision: Decision, edit: PersonEdit | None) -> Decision:
    """A call that started before a person's edit of the record does not replace the record's values.

    Salesforce tells who modified the record last, not which field: the person's edit of any field
    protects every value of the record from this older call's replacing policies (a newer call, which
    started after the edit, has no ``edit`` and applies them).
    """
    if edit is None or not replaces(before, decision):
        return decision
    return Decision(False, before, "keep", (edit.note,))


def _decide(field: FieldDescribe, before: Any, new: Any, *, rule: str, call_date: date, mark: str | None) -> Decision:
    if is_empty(before):
        return _fill(field, before, new, rule=rule, call_date=call_date, mark=mark)
    if rule in ("keep", "fill_empty"):
        return Decision(False, before, "keep", ("the field already has a value",))
    if rule == "overwrite":
        return _overwrite(field, before, new)
    if rule == "append" and field.type in APPENDABLE_TYPES:
        return _append(field, str(before), str(new), call_date=call_date, mark=mark)
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


def _revise_entry(
    field: FieldDescribe,
    before: Any,
    text: str,
    *,
    call_date: date,
    mark: str,
    prior: PriorWrite | None,
    edit: PersonEdit | None,
) -> Decision | None:
    """This call's entry replaces its earlier revision's entry in place; None when there is none to replace.

    The earlier entry is found by its marker, else (an entry written before entries were marked) as the
    exact text the ledger says the call appended. A person who changed or removed it since keeps it so.
    """
    sep = separator_for(field)
    current = "" if is_empty(before) else str(before)
    span = own_span(current, mark, sep)
    legacy = entry_for(text, call_date)
    earlier = prior.entry(mark, sep) if prior is not None else None
    if span is None and earlier is not None and not own_span(earlier, mark, sep):
        span = span_of(current, earlier, sep)
    if span is None:
        if earlier is not None and edit is not None:  # the call's entry was there; a person removed it
            return Decision(False, before, "keep", (f"{edit.note} (this call's entry was removed)",))
        return None
    old = current[span[0] : span[1]]
    entry = entry_for(text, call_date, mark, sep)
    if old in (entry, legacy) or _is_cut_form(old, entry) or _is_cut_form(old, legacy):
        return Decision(False, before, "append", ("this call's entry is already there",))
    if edit is not None and earlier is not None and old != earlier:
        return Decision(False, before, "keep", (f"{edit.note} (this call's entry was edited)",))
    limit = field.length or None
    room = None if limit is None else limit - (len(current) - len(old))
    fitted, notes = fit_entry(entry, room)
    if fitted is not None and fitted != entry and field.type in SINGLE_VALUE_TEXT_TYPES:
        fitted = None
    if fitted is None:
        return Decision(False, before, "append", ("this revision's entry does not fit; the earlier one was kept",))
    after = current[: span[0]] + fitted + current[span[1] :]
    return Decision(True, after, "append", (*notes, "replaced this call's earlier entry"))


def _is_cut_form(found: str, entry: str) -> bool:
    return found.endswith(ELLIPSIS) and len(found) > 1 and entry.startswith(found[:-1]) and found != entry


def _revise_value(
    field: FieldDescribe,
    before: Any,
    new: Any,
    *,
    rule: str,
    call_date: date,
    prior: PriorWrite,
    edit: PersonEdit | None,
) -> Decision:
    """A value this call wrote before: replaced as if the call were deciding it for the first time.

    When the field still holds what the call last wrote, the decision starts from the value the field
    had before the call (so its own fill or overwrite is replaced, and a multi-select loses the values
    only the earlier revision added). When it holds something else, a person's edit is kept; otherwise
    (another call wrote since) the policy applies to what is there.
    """
    ours = same_value(field, before, prior.last)
    if not ours:
        if edit is not None:
            return Decision(False, before, "keep", (edit.note,))
        return _decide(field, before, new, rule=rule, call_date=call_date, mark=None)
    if field.type == "multipicklist" and rule in ("append", "union"):
        return _union(before, new, drop=_added_by(prior))
    decision = _decide(field, prior.base, new, rule=rule, call_date=call_date, mark=None)
    if not decision.write or same_value(field, before, decision.after):
        return Decision(False, before, decision.policy, (*decision.notes, "already holds this call's value"))
    return Decision(True, decision.after, decision.policy, (*decision.notes, "replaced this call's earlier value"))


def _added_by(prior: PriorWrite) -> set[str]:
    base = {v.lower() for v in split_multipicklist(prior.base)}
    return {v.lower() for v in split_multipicklist(prior.last)} - base


def _fill(field: FieldDescribe, before: Any, new: Any, *, rule: str, call_date: date, mark: str | None) -> Decision:
    if field.type in APPENDABLE_TYPES and field.type not in SINGLE_VALUE_TEXT_TYPES and rule in ("append", "union"):
        entry, notes = fit_entry(entry_for(str(new), call_date, mark, separator_for(field)), field.length or None)
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


def _append(field: FieldDescribe, before: str, text: str, *, call_date: date, mark: str | None) -> Decision:
    entry = entry_for(text, call_date, mark, separator_for(field))
    unmarked = entry_for(text, call_date)
    if (
        contains_entry(before, entry)
        or contains_entry(before, unmarked)
        or (field.type in SINGLE_VALUE_TEXT_TYPES and text in before)
    ):
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


def _union(before: Any, new: list[str], *, drop: set[str] | None = None) -> Decision:
    """``new`` added to the values; ``drop``: values an earlier revision added that this call no longer says."""
    asserted = {v.lower() for v in new}
    current = split_multipicklist(before)
    removed = [v for v in current if drop and v.lower() in drop and v.lower() not in asserted]
    kept = [v for v in current if v not in removed]
    known = {v.lower() for v in kept}
    added = [v for v in new if v.lower() not in known]
    if not added and not removed:
        return Decision(False, before, "union", ("already holds these values",))
    why = "added by an earlier revision of this call, no longer in it"
    notes = (f"removed {', '.join(removed)}: {why}",) if removed else ()
    return Decision(True, ";".join([*kept, *added]) or None, "union", notes)


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
