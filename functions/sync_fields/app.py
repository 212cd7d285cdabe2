"""Placeholder handler: passes data through until its step's issue lands (owned by that step's engineer)."""

from __future__ import annotations

from typing import Any

from callsync.models.fields import FieldSyncResult
from callsync.models.state import SyncState


def handler(event: dict[str, Any], context: Any, deps: Any = None) -> dict[str, Any]:
    SyncState.model_validate(event)
    return FieldSyncResult().model_dump(mode="json")
