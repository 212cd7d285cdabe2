"""A person's edit: the record's last change, made by someone other than the integration user after the call started.

One rule for SyncFields (mapped fields, ``field_policies``) and LogActivity (an activity's WhatId/WhoId,
``services.activity_planner``), both under ``protect_human_edits``:

- Salesforce tells who modified a **record** last (``LastModifiedById``, ``LastModifiedBy.Name``,
  ``LastModifiedDate``), not who changed each field. A record whose last change is a person's, later than
  the call's start, holds that person's edit; which fields it covers is the caller's rule (a value that
  differs from what callsync last wrote, or any value an older call would replace).
- The integration user is the user of the org's OAuth connection. When it is unknown (a secret stored
  without the token's identity URL), every modifier counts as a person: the careful side, keep. A caller
  compares with what callsync wrote before acting on an edit, so callsync's own last write is never
  mistaken for a person's change.
- Ids compare on their first 15 characters (the 18-character form adds a checksum).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callsync.domain.activity_plan import parse_sf_datetime
from callsync.models.fields import LastModified


@dataclass(frozen=True)
class PersonEdit:
    """The last change of a record, made by a person (not the integration user) after the call started."""

    by: str  # the person's name (their User id when the name was not read)
    at: datetime

    @property
    def note(self) -> str:
        return f"kept: changed by {self.by} on {self.at.date().isoformat()}"


def last_modified_of(row: dict[str, Any] | None) -> LastModified | None:
    """Who last modified a queried row: its ``LastModifiedById``, ``LastModifiedDate`` and ``LastModifiedBy.Name``.

    None when the row does not carry its modifier (the fields were not selected).
    """
    if not row or not row.get("LastModifiedById"):
        return None
    by = row.get("LastModifiedBy")
    name = by.get("Name") if isinstance(by, dict) else None
    return LastModified(
        by_id=str(row["LastModifiedById"]),
        by_name=str(name) if name else None,
        at=parse_sf_datetime(row.get("LastModifiedDate")),
    )


def person_edit(last: LastModified | None, *, integration_user_id: str | None, since: datetime) -> PersonEdit | None:
    """The record's last change when a person made it after ``since`` (the call's start), else None.

    A change by the integration user, at or before ``since``, or with no modifier or no aware time is not a
    person's edit. An unknown integration user counts every modifier as a person.
    """
    if last is None or not last.by_id or last.at is None or last.at.tzinfo is None or last.at <= since:
        return None
    if integration_user_id and same_user(last.by_id, integration_user_id):
        return None
    return PersonEdit(last.by_name or last.by_id, last.at)


def same_user(a: str, b: str) -> bool:
    """Two Salesforce User ids name the same User (15- and 18-character forms compare equal)."""
    return a[:15] == b[:15]
