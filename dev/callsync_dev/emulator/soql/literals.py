"""Decoding SOQL literals: string escapes, LIKE patterns, dates, datetimes, relative date ranges."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta, timezone

from .errors import MALFORMED_QUERY, SoqlError

_SIMPLE_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
_WILDCARDS = {"%": ".*", "_": "."}


def _decode(body: str, *, like: bool) -> list[tuple[str, bool]]:
    """Characters of a quoted literal's body as (char, is_wildcard) pairs."""
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append((ch, like and ch in _WILDCARDS))
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt in _SIMPLE_ESCAPES:
            out.append((_SIMPLE_ESCAPES[nxt], False))
            i += 2
        elif like and nxt in _WILDCARDS:
            out.append((nxt, False))
            i += 2
        elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
            out.append((chr(int(body[i + 2 : i + 6], 16)), False))
            i += 6
        else:
            raise SoqlError(
                MALFORMED_QUERY,
                f"Invalid string literal '{body}'. Illegal character sequence '\\{nxt}' in string literal.",
            )
    return out


def decode_string(token: str) -> str:
    """``'O\\'Brien'`` -> ``O'Brien``."""
    return "".join(ch for ch, _ in _decode(token[1:-1], like=False))


def like_regex(token: str) -> str:
    """A LIKE pattern as a regex source for ``re.fullmatch`` (compile with IGNORECASE | DOTALL)."""
    return "".join(_WILDCARDS[ch] if wild else re.escape(ch) for ch, wild in _decode(token[1:-1], like=True))


def parse_date(token: str) -> date:
    try:
        return date.fromisoformat(token)
    except ValueError:
        raise SoqlError(MALFORMED_QUERY, f"Invalid date literal '{token}'") from None


_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):?(\d{2}))", re.I
)


def parse_datetime(token: str) -> datetime:
    match = _DATETIME.fullmatch(token)
    if match is None:  # the grammar only lets matching tokens through
        raise SoqlError(MALFORMED_QUERY, f"Invalid datetime literal '{token}'")
    year, month, day, hour, minute, second, frac, zulu, sign, off_h, off_m = match.groups()
    if zulu:
        tz = UTC
    else:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        tz = timezone(-offset if sign == "-" else offset)
    micros = int((frac or "0")[:6].ljust(6, "0"))
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tz)
    except ValueError:
        raise SoqlError(MALFORMED_QUERY, f"Invalid datetime literal '{token}'") from None


def _week_start(day: date) -> date:
    """Weeks start on Sunday (the en_US locale of a default org)."""
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _month_range(start: date, months: int) -> tuple[date, date]:
    return start, _add_months(start, months) - timedelta(days=1)


def date_range(name: str, n: int | None, today: date) -> tuple[date, date]:
    """The inclusive [first, last] days a relative date literal covers, given the org's today."""
    name = name.upper()
    one = timedelta(days=1)
    month_start = today.replace(day=1)
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    year_start = date(today.year, 1, 1)
    week_start = _week_start(today)
    fixed: dict[str, tuple[date, date]] = {
        "TODAY": (today, today),
        "YESTERDAY": (today - one, today - one),
        "TOMORROW": (today + one, today + one),
        "THIS_WEEK": (week_start, week_start + 6 * one),
        "LAST_WEEK": (week_start - 7 * one, week_start - one),
        "NEXT_WEEK": (week_start + 7 * one, week_start + 13 * one),
        "THIS_MONTH": _month_range(month_start, 1),
        "LAST_MONTH": _month_range(_add_months(month_start, -1), 1),
        "NEXT_MONTH": _month_range(_add_months(month_start, 1), 1),
        "THIS_QUARTER": _month_range(quarter_start, 3),
        "LAST_QUARTER": _month_range(_add_months(quarter_start, -3), 3),
        "NEXT_QUARTER": _month_range(_add_months(quarter_start, 3), 3),
        "THIS_YEAR": _month_range(year_start, 12),
        "LAST_YEAR": _month_range(_add_months(year_start, -12), 12),
        "NEXT_YEAR": _month_range(_add_months(year_start, 12), 12),
        "LAST_90_DAYS": (today - 90 * one, today),
        "NEXT_90_DAYS": (today + one, today + 90 * one),
    }
    if name in fixed:
        return fixed[name]
    assert n is not None
    if name == "LAST_N_DAYS":  # today and the n days before it
        return today - n * one, today
    if name == "NEXT_N_DAYS":  # the n days after today
        return today + one, today + n * one
    if name == "N_DAYS_AGO":
        return today - n * one, today - n * one
    if name == "LAST_N_WEEKS":
        return week_start - 7 * n * one, week_start - one
    if name == "NEXT_N_WEEKS":
        return week_start + 7 * one, week_start + 7 * (n + 1) * one - one
    if name == "N_WEEKS_AGO":
        return week_start - 7 * n * one, week_start - 7 * (n - 1) * one - one
    unit_name = name.split("_")[1] if name.startswith("N_") else name.rsplit("_", 1)[-1]
    unit = {"MONTHS": 1, "QUARTERS": 3, "YEARS": 12}[unit_name]
    base = {1: month_start, 3: quarter_start, 12: year_start}[unit]
    if name.startswith("LAST_N_"):
        return _add_months(base, -unit * n), base - one
    if name.startswith("NEXT_N_"):
        return _add_months(base, unit), _add_months(base, unit * (n + 1)) - one
    # N_<unit>_AGO
    return _month_range(_add_months(base, -unit * n), unit)
