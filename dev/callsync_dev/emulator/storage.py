"""Records of every object: tables, ids, indexes, the undo journal; the SOQL ``Catalog`` reads.

No Salesforce rule lives here: ``validation`` decides what may be written, ``effects`` what a write
changes elsewhere, ``store.OrgStore`` puts them together.
"""

from __future__ import annotations

import base64
import itertools
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from callsync_dev.emulator.errors import ApiError, not_found
from callsync_dev.emulator.ids import IdFactory, is_id, to18
from callsync_dev.emulator.schema import ObjectDef, Schema
from callsync_dev.emulator.soql.catalog import ObjectInfo

INDEXABLE_TYPES = frozenset({"id", "reference", "email", "string", "phone", "url", "picklist", "combobox"})


def now_ms() -> datetime:
    current = datetime.now(UTC)
    return current.replace(microsecond=current.microsecond // 1000 * 1000)


class RecordStorage:
    """Rows by object and id under one re-entrant lock, with lazily built indexes and transactions.

    Also holds the org-level values the rules read: integration user, org id, stages, duplicate rules.
    """

    def __init__(self, schema: Schema, ids: IdFactory | None = None) -> None:
        self.schema = schema
        self.ids = ids or IdFactory()
        self.lock = threading.RLock()
        self.tables: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in schema.objects}
        self._by_id: dict[str, tuple[str, dict[str, Any]]] = {}
        self._indexes: dict[tuple[str, str], dict[str, set[str]]] = {}
        self._position: dict[str, int] = {}  # insertion rank of every id: index hits come back in scan order
        self._inserted = itertools.count()
        self._autonumber: dict[str, int] = {}
        self._journal: list[tuple[str, str, str, dict[str, Any] | None]] | None = None
        self.integration_user_id = ""
        self.org_id = "00D5g000004SyNcEAK"
        self.stage_info: dict[str, dict[str, Any]] = {}
        self.duplicate_rules: list[dict[str, Any]] = []  # [{"object", "fields", "name"?}] blocking rules
        self.api_version = "62.0"

    # ------------------------------------------------------------------ Catalog -------------------
    def object_info(self, name: str) -> ObjectInfo | None:
        return self.schema.object_info(name)

    def rows(self, object_name: str, *, include_deleted: bool = False) -> Iterable[Mapping[str, Any]]:
        od = self.schema.exists(object_name)
        if od is None:
            return []
        if od.name in ("TaskWhoRelation", "EventWhoRelation"):
            return self._who_relation_rows(od.name, include_deleted)
        table = self.tables[od.name].values()
        if od.name == "ContentNote":
            return [self._api_row(od, r) for r in table if include_deleted or not r["IsDeleted"]]
        if include_deleted:
            return table
        return (r for r in table if not r["IsDeleted"])

    def by_id(self, record_id: str) -> tuple[str, Mapping[str, Any]] | None:
        if not is_id(record_id):
            return None
        return self._by_id.get(to18(record_id))

    def now(self) -> datetime:
        return datetime.now(UTC)

    def lookup(
        self, object_name: str, field_name: str, values_lowercased: Iterable[str]
    ) -> list[Mapping[str, Any]] | None:
        """Rows whose ``field_name`` equals (case-insensitively) one of the values, via an index.

        Returns None when the field is not indexable (the engine then scans ``rows``). Deleted rows
        are excluded. Id-like values may be 15 or 18 characters. The rows come in the order ``rows``
        yields them, so a LIMIT without ORDER BY, and ties under ORDER BY, pick what a scan picks.
        """
        od = self.schema.exists(object_name)
        if od is None or od.name in ("TaskWhoRelation", "EventWhoRelation", "ContentNote"):
            return None
        fdef = od.field(field_name)
        if fdef is None or (fdef.type not in INDEXABLE_TYPES and fdef.name not in ("Username",)):
            return None
        index = self.ensure_index(od.name, fdef.name)
        table = self.tables[od.name]
        out: list[Mapping[str, Any]] = []
        seen: set[str] = set()
        for value in values_lowercased:
            key = value.lower()
            if fdef.type in ("id", "reference") and len(key) == 15:
                keys = {rid.lower() for rid in index if rid.startswith(key)}
            else:
                keys = {key}
            for k in keys:
                for rid in index.get(k, ()):
                    row = table.get(rid)
                    if row is not None and rid not in seen and not row["IsDeleted"]:
                        seen.add(rid)
                        out.append(row)
        if len(out) > 1:
            position = self._position
            out.sort(key=lambda row: position[row["Id"]])
        return out

    def ensure_index(self, obj: str, field_name: str) -> dict[str, set[str]]:
        key = (obj, field_name)
        index = self._indexes.get(key)
        if index is None:
            index = {}
            for rid, row in self.tables[obj].items():
                value = row.get(field_name)
                if isinstance(value, str):
                    index.setdefault(value.lower(), set()).add(rid)
            self._indexes[key] = index
        return index

    def _reindex(self, obj: str, row: Mapping[str, Any], add: bool) -> None:
        for (iobj, field_name), index in self._indexes.items():
            if iobj != obj:
                continue
            value = row.get(field_name)
            if not isinstance(value, str):
                continue
            if add:
                index.setdefault(value.lower(), set()).add(row["Id"])
            else:
                index.get(value.lower(), set()).discard(row["Id"])

    def _who_relation_rows(self, name: str, include_deleted: bool) -> list[dict[str, Any]]:
        source, parent = ("TaskRelation", "TaskId") if name == "TaskWhoRelation" else ("EventRelation", "EventId")
        out = []
        for row in self.tables[source].values():
            if row["IsWhat"] or (source == "EventRelation" and not row.get("IsParent")):
                continue
            if row["IsDeleted"] and not include_deleted:
                continue
            out.append(
                {
                    "Id": row["Id"],
                    "IsDeleted": row["IsDeleted"],
                    parent: row[parent],
                    "RelationId": row["RelationId"],
                    "Type": "Lead" if row["RelationId"].startswith("00Q") else "Contact",
                    "CreatedDate": row.get("CreatedDate"),
                    "CreatedById": row.get("CreatedById"),
                    "LastModifiedDate": row.get("LastModifiedDate"),
                    "LastModifiedById": row.get("LastModifiedById"),
                    "SystemModstamp": row["SystemModstamp"],
                }
            )
        return out

    # ------------------------------------------------------------------ transactions --------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-none: on an exception every write inside is undone."""
        with self.lock:
            outer = self._journal
            self._journal = []
            try:
                yield
            except BaseException:
                self._undo(self._journal)
                self._journal = outer
                raise
            if outer is not None:
                outer.extend(self._journal)
            self._journal = outer

    def _undo(self, journal: list[tuple[str, str, str, dict[str, Any] | None]]) -> None:
        for action, obj, rid, before in reversed(journal):
            table = self.tables[obj]
            current = table.get(rid)
            if current is not None:
                self._reindex(obj, current, add=False)
            if action == "insert":
                table.pop(rid, None)
                if self._by_id.get(rid, (None,))[0] == obj:
                    self._by_id.pop(rid, None)
            elif current is not None and before is not None:
                current.clear()
                current.update(before)
                self._reindex(obj, current, add=True)

    def _record_change(self, obj: str, row: dict[str, Any]) -> None:
        if self._journal is not None:
            self._journal.append(("update", obj, row["Id"], dict(row)))

    def set_fields(self, obj: str, row: dict[str, Any], changes: Mapping[str, Any]) -> None:
        self._record_change(obj, row)
        self._reindex(obj, row, add=False)
        row.update(changes)
        self._reindex(obj, row, add=True)

    def insert_row(self, obj: str, row: dict[str, Any]) -> None:
        rid = row["Id"]
        self.tables[obj][rid] = row
        self._position[rid] = next(self._inserted)
        if obj != "ContentNote":
            self._by_id[rid] = (obj, row)
        self._reindex(obj, row, add=True)
        if self._journal is not None:
            self._journal.append(("insert", obj, rid, None))

    # ------------------------------------------------------------------ reads ---------------------
    def find(self, obj: str, record_id: str, *, allow_deleted: bool = False) -> dict[str, Any]:
        """The stored row of ``obj`` with this id (15 or 18 chars) or a 404 ApiError."""
        if not is_id(record_id):
            raise ApiError(
                404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {record_id}"
            )
        row = self.tables[obj].get(to18(record_id))
        if row is None:
            raise not_found()
        if row["IsDeleted"] and not allow_deleted:
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return row

    def row_by_id(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        """(object, stored row) of an 18-character id, deleted rows included; None when unknown."""
        return self._by_id.get(record_id)

    def next_autonumber(self, obj: str, start: int = 0) -> int:
        count = self._autonumber.get(obj, start) + 1
        self._autonumber[obj] = count
        return count

    def _api_row(self, od: ObjectDef, row: Mapping[str, Any]) -> dict[str, Any]:
        if od.name != "ContentNote":
            return dict(row)
        out = dict(row)
        if row.get("Content") is not None:
            out["Content"] = base64.b64encode(row["Content"].encode()).decode()
        return out
