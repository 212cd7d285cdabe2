"""Pure rules of the deal context: which prep fields, which emails, how much of each body.

docs/read-side.md, "Deal context".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter

_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)
ELLIPSIS = "…"


@dataclass(frozen=True)
class PrepPath:
    """One ``prep_fields`` entry: ``Object.Field`` (canonical field name and label once described)."""

    path: str
    object: str
    field: str
    label: str = ""
    type: str = ""


def parse_prep_fields(paths: Iterable[str]) -> list[PrepPath]:
    """``["Account.Industry", ...]`` → PrepPaths, in order, without duplicates (case-insensitive).

    An entry without a dot keeps ``field=""`` (reported as unsupported by the service).
    """
    seen: set[str] = set()
    out: list[PrepPath] = []
    for raw in paths:
        path = raw.strip()
        obj, _, name = path.partition(".")
        key = path.lower()
        if not path or key in seen:
            continue
        seen.add(key)
        out.append(PrepPath(path=path, object=obj.strip(), field=name.strip()))
    return out


def _when(email: dict[str, Any]) -> datetime | None:
    value = email.get("MessageDate")
    if not value:
        return None
    parsed = value if isinstance(value, datetime) else _DATETIME.validate_python(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def newest_emails(
    tagged: Sequence[tuple[dict[str, Any], str]], *, since: datetime, limit: int
) -> list[tuple[dict[str, Any], str]]:
    """Distinct emails (by Id; the first relation listed wins: opportunity, account, contact) with
    ``MessageDate >= since``, newest first (ties by Id), at most ``limit``. Undated emails are left out."""
    by_id: dict[str, tuple[dict[str, Any], str, datetime]] = {}
    for email, relation in tagged:
        when = _when(email)
        if when is None or when < since or not email.get("Id") or email["Id"] in by_id:
            continue
        by_id[email["Id"]] = (email, relation, when)
    ordered = sorted(by_id.values(), key=lambda t: (-t[2].timestamp(), t[0]["Id"]))
    return [(email, relation) for email, relation, _ in ordered[:limit]]


def trim_body(text: str | None, limit: int) -> tuple[str | None, bool]:
    """The text body cut to ``limit`` characters (an ellipsis marks the cut); (text, truncated)."""
    if text is None:
        return None, False
    cleaned = text.strip()
    if len(cleaned) <= limit:
        return cleaned, False
    if limit <= 0:
        return "", True
    return cleaned[: max(0, limit - 1)].rstrip() + ELLIPSIS, True
