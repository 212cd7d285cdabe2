"""What may ride in an execution's state between two steps.

Step Functions refuses a state over 256 KiB (``States.DataLimitExceeded``, which a ``Catch`` of
``States.ALL`` does not catch): a deal whose text fields grow with every call would, sooner or later,
fail every call on it. Steps pass ids and short summaries; reports (with before → after) go to the
ledger only. The match step's read-ahead is a saving, not a need: values and activity candidates over
these budgets are left out of the state, and the step that needs them reads them itself (one request).
"""

from __future__ import annotations

import json
from typing import Any

VALUE_BYTES = 2 * 1024  # one field value read ahead: larger ones are read by SyncFields itself
VALUES_BYTES = 12 * 1024  # every value read ahead, together
MODIFIERS_BYTES = 3 * 1024  # who last modified each record read ahead (three short values per record)
CANDIDATES_BYTES = 12 * 1024  # the activity candidates (their Descriptions): over it, LogActivity looks them up


def _size(value: Any) -> int:
    return len(json.dumps(value, default=str, ensure_ascii=False).encode())


def bounded_values(values: dict[str, dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], int]:
    """The read-ahead values that fit the budget, and how many were left out (read again when needed)."""
    kept: dict[str, dict[str, Any]] = {}
    left_out = 0
    total = 0
    for record_id, fields in values.items():
        for name, value in fields.items():
            size = _size(value) + len(name) + 6
            if size > VALUE_BYTES or total + size > VALUES_BYTES:
                left_out += 1
                continue
            kept.setdefault(record_id, {})[name] = value
            total += size
    return kept, left_out


def bounded_modifiers(
    values: dict[str, dict[str, Any]], modifiers: dict[str, Any]
) -> tuple[dict[str, dict[str, Any]], dict[str, Any], int]:
    """Who last modified each record whose values are read ahead, within the budget.

    A record whose modifier does not fit loses its values too, so SyncFields reads the two together (one
    read); returns the values and modifiers kept, and how many records were left out. A record read without
    its modifier keeps its values (SyncFields reads the modifier when it protects people's edits).
    """
    kept_values: dict[str, dict[str, Any]] = {}
    kept: dict[str, Any] = {}
    left_out = 0
    total = 0
    for record_id, fields in values.items():
        modifier = modifiers.get(record_id)
        if modifier is None:
            kept_values[record_id] = fields
            continue
        size = _size(modifier) + len(record_id) + 6
        if total + size > MODIFIERS_BYTES:
            left_out += 1
            continue
        kept_values[record_id], kept[record_id] = fields, modifier
        total += size
    return kept_values, kept, left_out


def bounded_candidates(candidates: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """The activity candidates when they fit the budget; None (not read: LogActivity looks them up) otherwise."""
    if candidates is None or _size(candidates) <= CANDIDATES_BYTES:
        return candidates
    return None
