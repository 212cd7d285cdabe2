"""JSON ⇄ DynamoDB item values (the resource API wants Decimal, not float, and gives Decimal back)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def to_item(value: Any) -> Any:
    """A JSON-compatible value as DynamoDB accepts it (floats become Decimal)."""
    return json.loads(json.dumps(value), parse_float=Decimal)


def from_item(value: Any) -> Any:
    """A DynamoDB value back as plain JSON types (Decimal → int or float, sets → sorted lists)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_item(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_item(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(from_item(v) for v in value)
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return value


def conditional_failed(error: Exception) -> bool:
    """A ``ClientError`` of a conditional write whose condition did not hold."""
    response = getattr(error, "response", None) or {}
    return bool(response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")
