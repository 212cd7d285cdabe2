"""Shaping result rows as Salesforce query JSON: attributes, nested parents, child result sets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from .fields import BoundField, Resolver, Row

_PLAIN = (str, int, float, bool, type(None))


def json_value(value: Any) -> Any:
    """Dates as 2026-11-20, datetimes as 2026-11-20T15:00:00.000+0000 (UTC), the rest unchanged."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass
class Shape:
    """The output layout of one object level: ordered keys, each a field, a parent or a child set."""

    fields: dict[str, tuple[str, bool]] = field(default_factory=dict)  # key -> (field name, is sObject type)
    order: list[tuple[str, str]] = field(default_factory=list)  # (kind, key) in SELECT order
    parents: dict[str, tuple[str, Shape]] = field(default_factory=dict)  # key -> (reference field, shape)
    children: set[str] = field(default_factory=set)

    def add_field(self, bound: BoundField) -> None:
        shape = self
        for relationship, hop in zip(bound.path[:-1], bound.hops, strict=True):
            if relationship not in shape.parents:
                shape.parents[relationship] = (hop, Shape())
                shape.order.append(("parent", relationship))
            shape = shape.parents[relationship][1]
        shape.fields[bound.path[-1]] = (bound.info.name, bound.type_of_parent)
        shape.order.append(("field", bound.path[-1]))

    def add_child(self, key: str) -> None:
        self.children.add(key)
        self.order.append(("child", key))


def record_builder(
    shape: Shape, resolver: Resolver, api_version: str
) -> Callable[[str, Row, dict[str, Any]], dict[str, Any]]:
    """A function (object name, row, child result sets by key) -> Salesforce record dict."""
    base = f"/services/data/v{api_version}/sobjects/"

    def build(object_name: str, row: Row, shape: Shape, children: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {"attributes": {"type": object_name, "url": f"{base}{object_name}/{row.get('Id')}"}}
        fields = shape.fields
        for kind, key in shape.order:
            if kind == "field":
                name, is_type = fields[key]
                record[key] = object_name if is_type else json_value(row.get(name))
            elif kind == "parent":
                hop, sub = shape.parents[key]
                ref = row.get(hop)
                hit = resolver.fetch(ref) if ref is not None else None
                record[key] = build(hit[0], hit[1], sub, {}) if hit else None
            else:
                record[key] = children.get(key)
        return record

    return lambda object_name, row, children: build(object_name, row, shape, children)
