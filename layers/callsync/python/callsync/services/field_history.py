"""SyncFields: what other revisions of the call wrote to the mapped fields, from the typed ledger (no request)."""

from __future__ import annotations

import re

from callsync.domain.field_revisions import PriorWrite
from callsync.models.ledger import CallHistory

STEP = "SyncFields"
_SHORTENED = re.compile(r"… \[\d+ characters\] …")  # ledger_value's form of a long text: not the value itself


def newer_revision_synced(history: CallHistory, revision: int) -> int | None:
    """The newest revision after ``revision`` whose SyncFields recorded itself (it has written, or tried to)."""
    newer = [r for r in history.revisions() if r > revision and history.step(r, STEP) is not None]
    return max(newer) if newer else None


def prior_writes(history: CallHistory, revision: int) -> dict[str, dict[str, PriorWrite]]:
    """Per target key, per field (lower-case API name): what this call wrote there, up to ``revision``.

    ``base`` is the value before the first revision that changed the field, ``last`` what the latest one
    wrote. Only records written (updated or created) count; a value the ledger kept shortened is unknown.
    """
    found: dict[str, dict[str, PriorWrite]] = {}
    for rev in history.revisions():
        report = history.step(rev, STEP) if rev <= revision else None
        if report is None:
            continue
        for change in report.changes:
            if change.role != "fields" or change.key is None or change.action not in ("updated", "created"):
                continue
            fields = found.setdefault(change.key, {})
            for fc in change.fields:
                if fc.after == fc.before:
                    continue
                name = fc.field.lower()
                if any(isinstance(v, str) and _SHORTENED.search(v) for v in (fc.before, fc.after)):
                    fields.pop(name, None)
                    continue
                earlier = fields.get(name)
                base = earlier.base if earlier is not None else fc.before
                fields[name] = PriorWrite(base=base, last=fc.after, revision=rev)
    return found
