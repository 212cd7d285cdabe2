"""Validation errors that name the field, for people reading a DLQ or a CLI error."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from callsync.errors import InvalidEvent, InvalidSettings, PermanentError
from callsync.models.event import CallProcessed
from callsync.models.settings import OrgSettings

M = TypeVar("M", bound=BaseModel)


def explain(error: ValidationError, *, limit: int = 5) -> str:
    """``participants[0].email: Field required; started_at: Input should have timezone info``."""
    parts = []
    for item in error.errors()[:limit]:
        path = ""
        for loc in item["loc"]:
            path += f"[{loc}]" if isinstance(loc, int) else (f".{loc}" if path else str(loc))
        parts.append(f"{path or '(message)'}: {item['msg']}")
    more = len(error.errors()) - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def parse_json(model: type[M], raw: str | bytes, *, what: str, error: type[PermanentError]) -> M:
    """Parse JSON text into ``model``; raise ``error`` with a message naming what is wrong."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as e:
        if any(item["type"] == "json_invalid" for item in e.errors()):
            raise error(f"{what} is not valid JSON: {e.errors()[0]['msg']}") from e
        raise error(f"invalid {what}: {explain(e)}") from e


def parse_event(raw: str | bytes) -> CallProcessed:
    """A ``call.processed`` v1 message body: the one parser (the consumer's, the CLI's, the tests').

    Raises:
        InvalidEvent: not JSON, not a JSON object, or not a valid v1 event (the message names the field).
    """
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as e:
        raise InvalidEvent(f"body is not JSON: {e.msg} at line {e.lineno} column {e.colno}") from e
    if not isinstance(body, dict):
        raise InvalidEvent(f"body is not a JSON object (got {type(body).__name__})")
    try:
        return CallProcessed.model_validate(body)
    except ValidationError as e:
        raise InvalidEvent(f"not a valid call.processed v1 event: {explain(e)}") from e


def parse_settings(data: dict[str, object], org_id: str) -> OrgSettings:
    """Raises InvalidSettings naming the org and the field."""
    try:
        return OrgSettings.model_validate(data)
    except ValidationError as e:
        raise InvalidSettings(f"settings of org {org_id} are invalid: {explain(e)}") from e
