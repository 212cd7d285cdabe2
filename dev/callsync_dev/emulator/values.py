"""Field values: JSON input -> stored Python values -> JSON output (API and fixture shapes)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

from callsync_dev.emulator.errors import ApiError
from callsync_dev.emulator.schema import FieldDef

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_date(value: str) -> date:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        raise ValueError(value)
    return date.fromisoformat(value)


def parse_datetime(value: str) -> datetime:
    """RFC 3339 / Salesforce datetime text -> aware UTC datetime (naive text is taken as UTC)."""
    match = _DATETIME_RE.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(value)
    day, clock, zone = match.groups()
    if len(clock) == 5:
        clock += ":00"
    if zone is None or zone == "Z":
        zone = "+00:00"
    elif ":" not in zone:
        zone = zone[:3] + ":" + zone[3:]
    parsed = datetime.fromisoformat(f"{day}T{clock}{zone}").astimezone(UTC)
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


def api_datetime(value: datetime) -> str:
    """Salesforce's REST datetime format: ``2026-11-20T15:00:00.000+0000``."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def fixture_datetime(value: datetime) -> str:
    """RFC 3339 for fixtures and dumps: ``2026-11-20T15:00:00Z`` (milliseconds only when set)."""
    value = value.astimezone(UTC)
    millis = value.microsecond // 1000
    return value.strftime("%Y-%m-%dT%H:%M:%S") + (f".{millis:03d}" if millis else "") + "Z"


def to_api(value: Any) -> Any:
    if isinstance(value, datetime):
        return api_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_fixture(value: Any) -> Any:
    if isinstance(value, datetime):
        return fixture_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return to_api(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, default=_json_default, separators=(",", ":")).encode()


def _deserialize_error(value: Any, type_name: str) -> ApiError:
    kind = "VALUE_STRING" if isinstance(value, str) else "VALUE_" + type(value).__name__.upper()
    return ApiError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {type_name} from {kind} value {value} "
        "or request may be missing a required field",
    )


def coerce(fdef: FieldDef, value: Any) -> Any:
    """Validate one input value against its field type; return the stored form."""
    if value is None:
        return None
    t = fdef.type
    if t in (
        "string",
        "textarea",
        "url",
        "phone",
        "picklist",
        "multipicklist",
        "combobox",
        "email",
        "encryptedstring",
        "base64",
        "id",
        "reference",
    ):
        if isinstance(value, bool | int | float) and t not in ("id", "reference", "base64"):
            value = str(value).lower() if isinstance(value, bool) else str(value)
        if not isinstance(value, str):
            raise _deserialize_error(value, "string")
        if t == "email" and value and not _EMAIL_RE.match(value):
            raise ApiError(400, "INVALID_EMAIL_ADDRESS", f"{fdef.label}: invalid email address: {value}", [fdef.name])
        return value if value != "" else None
    if t == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _deserialize_error(value, "boolean")
    if t == "int":
        if isinstance(value, bool):
            raise _deserialize_error(value, "int")
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise _deserialize_error(value, "int")
    if t in ("double", "currency", "percent"):
        if isinstance(value, bool):
            raise _deserialize_error(value, "double")
        if isinstance(value, int | float):
            return float(value)  # Salesforce answers doubles: 50000 comes back as 50000.0
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _deserialize_error(value, "double") from None
    if t == "date":
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        try:
            return parse_date(value)
        except ValueError:
            raise _deserialize_error(value, "date") from None
    if t == "datetime":
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        try:
            return parse_datetime(value)
        except ValueError:
            raise _deserialize_error(value, "datetime") from None
    return value
