"""An in-memory :class:`~.catalog.Catalog` built from plain dicts, for tests and the benchmark.

It implements the optional ``lookup`` index for the fields named in ``indexed``; its hits come back in
the order ``rows`` yields them, as the org store's do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from .catalog import ChildRelationship, FieldInfo, ObjectInfo


def object_info(name: str, fields: Iterable[FieldInfo], children: Iterable[ChildRelationship] = ()) -> ObjectInfo:
    """ObjectInfo from lists (keys lower-cased as the contract wants)."""
    return ObjectInfo(name, {f.name.lower(): f for f in fields}, {c.name.lower(): c for c in children})


class MemoryCatalog:
    """Objects and rows in dicts; ``indexed`` maps object name -> field names to index for ``lookup``."""

    def __init__(
        self,
        objects: Iterable[ObjectInfo],
        rows: Mapping[str, list[dict[str, Any]]],
        *,
        now: datetime | None = None,
        indexed: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self._objects = {o.name.lower(): o for o in objects}
        self._rows = {name.lower(): list(r) for name, r in rows.items()}
        self._live = {name: [r for r in records if not r.get("IsDeleted")] for name, records in self._rows.items()}
        self._now = now or datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
        self._by_id: dict[str, tuple[str, Mapping[str, Any]]] = {}
        for key, records in self._rows.items():
            name = self._objects[key].name if key in self._objects else key
            for row in records:
                self._by_id[str(row["Id"])] = (name, row)
        self._indexes: dict[tuple[str, str], dict[str, list[Mapping[str, Any]]]] = {}
        self._position = {id(row): n for records in self._rows.values() for n, row in enumerate(records)}
        for obj, fields in (indexed or {}).items():
            for field_name in fields:
                index: dict[str, list[Mapping[str, Any]]] = {}
                for row in self._rows.get(obj.lower(), []):
                    value = row.get(field_name)
                    if isinstance(value, str) and not row.get("IsDeleted"):
                        index.setdefault(value.lower(), []).append(row)
                self._indexes[(obj.lower(), field_name.lower())] = index
        self.lookups = 0  # how many times lookup answered (tests assert the index is used)

    def object_info(self, name: str) -> ObjectInfo | None:
        return self._objects.get(name.lower())

    def rows(self, object_name: str, *, include_deleted: bool = False) -> Iterable[Mapping[str, Any]]:
        return (self._rows if include_deleted else self._live).get(object_name.lower(), [])

    def by_id(self, record_id: str) -> tuple[str, Mapping[str, Any]] | None:
        return self._by_id.get(record_id)

    def now(self) -> datetime:
        return self._now

    def lookup(
        self, object_name: str, field_name: str, values_lowercased: list[str]
    ) -> Iterable[Mapping[str, Any]] | None:
        index = self._indexes.get((object_name.lower(), field_name.lower()))
        if index is None:
            return None
        self.lookups += 1
        out: list[Mapping[str, Any]] = []
        seen: set[int] = set()
        for value in values_lowercased:
            for row in index.get(value, ()):
                if id(row) not in seen:
                    seen.add(id(row))
                    out.append(row)
        out.sort(key=lambda row: self._position[id(row)])
        return out
