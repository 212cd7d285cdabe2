"""Turn an insight value into a value a Salesforce field accepts, or drop it.

Pure functions over ``FieldDescribe``. A value Salesforce would reject is never
passed on: what cannot be coerced is dropped and every drop is explained in
``Coerced.notes`` (the ledger records them). Length limits are applied later by
the policies (``field_policies``), because an appended entry's length depends on
what the field already holds.

Rules by describe type:

- text (string, textarea, url, email, phone, combobox): strings as is (trimmed),
  numbers formatted, lists joined with ``"; "``; single-line types (all but
  textarea) collapse line breaks to spaces; an email must look like one. A
  combobox takes any text; a value that is one of its suggested values but for
  case is sent in the field's spelling.
- picklist: the value (a number becomes text) matched case-insensitively to the
  field's *active* values; the field's spelling is sent. A list takes its first
  matching item.
- multipicklist: a list, or a string split on ``;`` (then ``,``); each item
  matched like a picklist value; unmatched items are dropped one by one.
- int, double, currency, percent: numbers, or numeric strings (``"50,000"``,
  ``"$50k"``, ``"1.2M"``, ``"12.5%"``); an int field needs a whole number. NaN and
  Infinity are dropped (Salesforce's JSON has no such numbers). With the describe's
  precision and scale, a value is dropped when its integer part has more digits than
  ``precision - scale`` allows (an int field: ``digits``, else ``precision``); extra
  decimals are left to Salesforce, which rounds them to the scale. Dropped, never
  clamped: the largest value the field holds would be a number nobody said.
- NaN and Infinity are dropped for every field type (as text they would write "nan").
- boolean: booleans, 1/0, and true/false/yes/no/y/n/on/off.
- date: ``YYYY-MM-DD`` or an RFC 3339 datetime (its own date); datetime: RFC 3339
  (a naive one is taken as UTC; a date means midnight UTC), sent as UTC ``...Z``.
- anything else (reference, id, base64, ...): dropped; insights do not hold ids.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from callsync.models.describe import NUMBER_TYPES, TEXT_TYPES, FieldDescribe

SINGLE_LINE_TEXT_TYPES = frozenset({"string", "url", "email", "phone", "combobox"})
LIST_SEPARATOR = "; "
NO_VALUE = "no value in this call"  # the note of a mapped field the call gives nothing for
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NUMBER = re.compile(r"^(?P<sign>[-+]?)\s*[$€£¥]?\s*(?P<digits>\d[\d,_ ]*(?:\.\d+)?|\.\d+)\s*(?P<suffix>[kKmMbB%])?$")
_SCALE = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
_TRUE = frozenset({"true", "yes", "y", "on", "1"})
_FALSE = frozenset({"false", "no", "n", "off", "0"})
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Coerced:
    """The value to offer the policies (None: nothing valid remains) and why anything was dropped."""

    value: Any
    notes: tuple[str, ...] = ()


def is_empty(value: Any) -> bool:
    """A field value that counts as empty: None, blank text, an empty list."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | set):
        return len(value) == 0
    return False


def coerce_value(raw: Any, field: FieldDescribe) -> Coerced:
    """The insight value ``raw`` as a valid value of ``field`` (see the module docstring)."""
    if is_empty(raw):
        return Coerced(None, (NO_VALUE,))
    if _non_finite(raw):
        return Coerced(None, (f"dropped {_as_text(raw)!r}: not a finite number",))
    kind = field.type
    if kind in TEXT_TYPES:
        return _text(raw, field)
    if kind == "picklist":
        return _picklist(raw, field)
    if kind == "multipicklist":
        return _multipicklist(raw, field)
    if kind in NUMBER_TYPES:
        return _number(raw, field)
    if kind == "boolean":
        return _boolean(raw)
    if kind == "date":
        return _date(raw)
    if kind == "datetime":
        return _datetime(raw)
    return Coerced(None, (f"dropped: insights cannot be written to a {kind} field",))


def _non_finite(raw: Any) -> bool:
    """NaN or Infinity, alone or in a list (Python's json reads them; JSON has no such numbers)."""
    items = raw if isinstance(raw, list | tuple) else [raw]
    return any(isinstance(item, float) and not math.isfinite(item) for item in items)


def format_number(value: int | float) -> str:
    """Numbers as text without a needless ``.0`` (``1500.0`` → ``"1500"``; ``1e30`` stays ``"1e+30"``)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


def _as_text(raw: Any) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float):
        return format_number(raw)
    if isinstance(raw, list | tuple):
        return LIST_SEPARATOR.join(_as_text(item).strip() for item in raw if not is_empty(item))
    return str(raw).strip()


def _text(raw: Any, field: FieldDescribe) -> Coerced:
    text = _as_text(raw)
    if field.type in SINGLE_LINE_TEXT_TYPES:
        text = " ".join(text.split())
    if not text:
        return Coerced(None, (NO_VALUE,))
    if field.type == "email" and not _EMAIL.match(text):
        return Coerced(None, (f"dropped {text!r}: not an email address",))
    if field.type == "combobox":
        return Coerced(_match_picklist(text, field) or text)
    return Coerced(text)


def _match_picklist(candidate: str, field: FieldDescribe) -> str | None:
    wanted = candidate.strip().lower()
    return next((v for v in field.picklist_values if v.lower() == wanted), None)


def _picklist(raw: Any, field: FieldDescribe) -> Coerced:
    items = list(raw) if isinstance(raw, list | tuple) else [raw]
    notes: list[str] = []
    chosen: str | None = None
    for item in items:
        text = _as_text(item)
        if not text:
            continue
        matched = _match_picklist(text, field)
        if matched is not None and chosen is None:
            chosen = matched
        elif matched is None:
            notes.append(f"dropped {text!r}: not an active value of this picklist")
        else:
            notes.append(f"dropped {text!r}: a picklist holds one value")
    return Coerced(chosen, tuple(notes))


def split_multipicklist(value: Any) -> list[str]:
    """A multipicklist value (``"A;B"`` as Salesforce stores it, or a list) as its items."""
    if is_empty(value):
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(";") if part.strip()]


def _multipicklist(raw: Any, field: FieldDescribe) -> Coerced:
    if isinstance(raw, list | tuple):
        candidates = [_as_text(item) for item in raw]
    else:
        candidates = [part.strip() for part in _as_text(raw).split(";")]
    chosen: list[str] = []
    notes: list[str] = []
    for candidate in candidates:
        if not candidate:
            continue
        matched = _match_picklist(candidate, field)
        pieces = [(candidate, matched)]
        if matched is None and "," in candidate:
            pieces = [(p.strip(), _match_picklist(p, field)) for p in candidate.split(",") if p.strip()]
        for text, value in pieces:
            if value is None:
                notes.append(f"dropped {text!r}: not an active value of this picklist")
            elif value not in chosen:
                chosen.append(value)
    return Coerced(chosen or None, tuple(notes))


def parse_number(raw: Any) -> float | int | None:
    """A number from a number or a numeric string; None when it is neither."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return raw
    if not isinstance(raw, str):
        return None
    match = _NUMBER.match(raw.strip())
    if match is None:
        return None
    digits = re.sub(r"[,_ ]", "", match["digits"])
    number = float(digits) if "." in digits else int(digits)
    suffix = (match["suffix"] or "").lower()
    if suffix in _SCALE:
        number = number * _SCALE[suffix]
    if match["sign"] == "-":
        number = -number
    return number


def _number(raw: Any, field: FieldDescribe) -> Coerced:
    if isinstance(raw, list | tuple):
        if len(raw) != 1:
            return Coerced(None, (f"dropped {_as_text(raw)!r}: a number field holds one number",))
        raw = raw[0]
    number = parse_number(raw)
    if number is None:
        return Coerced(None, (f"dropped {_as_text(raw)!r}: not a number",))
    if not math.isfinite(number):
        return Coerced(None, (f"dropped {_as_text(raw)!r}: not a finite number",))
    if field.type == "int":
        if float(number) != int(number):
            return Coerced(None, (f"dropped {_as_text(raw)!r}: not a whole number",))
        return _in_range(int(number), raw, field.digits or field.precision, 0)
    value = int(number) if float(number).is_integer() else float(number)
    return _in_range(value, raw, field.precision, field.scale)


def _in_range(value: int | float, raw: Any, precision: int, scale: int) -> Coerced:
    """``value`` when its integer part fits ``precision - scale`` digits (or no precision is known)."""
    if precision <= 0:
        return Coerced(value)
    whole_digits = max(precision - scale, 0)
    if abs(value) >= 10**whole_digits:
        limit = f"{whole_digits} digit(s) before the decimal point"
        return Coerced(None, (f"dropped {_as_text(raw)!r}: out of range for this field ({limit})",))
    return Coerced(value)


def _boolean(raw: Any) -> Coerced:
    if isinstance(raw, bool):
        return Coerced(raw)
    if isinstance(raw, int | float) and raw in (0, 1):
        return Coerced(bool(raw))
    text = _as_text(raw).lower() if not isinstance(raw, list | tuple) else ""
    if text in _TRUE:
        return Coerced(True)
    if text in _FALSE:
        return Coerced(False)
    return Coerced(None, (f"dropped {_as_text(raw)!r}: not a yes/no value",))


def _date(raw: Any) -> Coerced:
    text = _as_text(raw) if isinstance(raw, str) else ""
    if _DATE.match(text):
        try:
            return Coerced(date.fromisoformat(text[:10]).isoformat())
        except ValueError:
            pass
    return Coerced(None, (f"dropped {_as_text(raw)!r}: not a date (YYYY-MM-DD)",))


def _datetime(raw: Any) -> Coerced:
    text = _as_text(raw) if isinstance(raw, str) else ""
    try:
        if len(text) == 10 and _DATE.match(text):
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return Coerced(None, (f"dropped {_as_text(raw)!r}: not an RFC 3339 datetime",))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return Coerced(parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
