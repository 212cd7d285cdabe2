"""Running a parsed query against a Catalog: plan, filter, sort, page, shape."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import nodes
from .catalog import Catalog, ChildRelationship, ObjectInfo
from .errors import (
    INVALID_FIELD,
    INVALID_TYPE,
    MALFORMED_QUERY,
    NUMBER_OUTSIDE_VALID_RANGE,
    SoqlError,
    bad_child_relationship,
)
from .fields import BoundField, Getter, Resolver, Row, normalize_id
from .parser import parse
from .records import Shape, record_builder
from .where import Predicate, SemiJoinIds, WhereCompiler, index_candidate, normalizer


@dataclass
class QueryResult:
    """All matching records (after ORDER BY, OFFSET, LIMIT) in Salesforce JSON shape.

    ``records`` is empty for ``COUNT()``; ``total_size`` is then the count.
    """

    records: list[dict[str, Any]]
    total_size: int


@dataclass
class _OrderKey:
    getter: Getter
    norm: Callable[[Any], Any]
    descending: bool
    nulls_first: bool


@dataclass
class _Child:
    key: str
    relationship: ChildRelationship
    plan: _Plan


@dataclass
class _Plan:
    """One query level, checked against the schema and compiled."""

    obj: ObjectInfo
    query: nodes.Query
    shape: Shape = field(default_factory=Shape)
    predicate: Predicate | None = None
    index: tuple[str, list[str]] | None = None
    order: list[_OrderKey] = field(default_factory=list)
    count_only: bool = False
    children: list[_Child] = field(default_factory=list)
    build: Callable[[str, Row, dict[str, Any]], dict[str, Any]] | None = None


class _Run:
    def __init__(self, text: str, catalog: Catalog, include_deleted: bool, api_version: str) -> None:
        self.catalog = catalog
        self.include_deleted = include_deleted
        self.api_version = api_version
        self.resolver = Resolver(catalog, text)
        self.today = catalog.now().date()

    # ---- planning
    def plan(self, query: nodes.Query, obj: ObjectInfo, *, nested: bool = False, semi: bool = False) -> _Plan:
        plan = _Plan(obj, query)
        self._restrictions(query, semi=semi)
        seen: set[str] = set()
        for item in query.select:
            if isinstance(item, nodes.CountAll):
                if len(query.select) > 1 or nested:
                    raise self.resolver.error(
                        MALFORMED_QUERY,
                        "COUNT() must be the only element in the SELECT list of a top-level query",
                        item.position,
                    )
                plan.count_only = True
            elif isinstance(item, nodes.CountField):
                raise self.resolver.error(
                    MALFORMED_QUERY,
                    "aggregate queries (COUNT(field), GROUP BY) are not "
                    "supported by the callsync emulator; use COUNT()",
                    item.position,
                )
            elif isinstance(item, nodes.SubQuery):
                if item.query.offset is not None and query.limit != 1:
                    raise self.resolver.error(
                        MALFORMED_QUERY,
                        "A subquery can use OFFSET only if the parent query has a LIMIT 1 clause",
                        item.query.object_position,
                    )
                child = self.child(obj, item.query)
                self._unique(seen, child.key, item.query.object_position)
                plan.children.append(child)
                plan.shape.add_child(child.key)
            else:
                bound = self.resolver.field(obj, item, query.alias)
                self._unique(seen, bound.name, item.position)
                plan.shape.add_field(bound)
        compiler = WhereCompiler(self.resolver, obj, self.today, self.semi_join, query.alias)
        if query.where is not None:
            plan.predicate = compiler.compile(query.where)
            plan.index = index_candidate(query.where, compiler)
        for key in query.order_by:
            bound = self.resolver.field(obj, key.field, query.alias)
            if not bound.info.filterable or bound.info.type == "multipicklist":
                raise self.resolver.error(
                    INVALID_FIELD, f"field '{bound.info.name}' can not be sorted in a query call", key.field.position
                )
            plan.order.append(_OrderKey(bound.getter, _sort_norm(bound), key.descending, key.nulls_first))
        plan.build = record_builder(plan.shape, self.resolver, self.api_version)
        return plan

    def _restrictions(self, query: nodes.Query, *, semi: bool) -> None:
        """Salesforce's structural limits: OFFSET ≤ 2,000 (none in a semi-join), semi-joins only as
        top-level conjuncts of the outermost WHERE."""
        if query.offset is not None and query.offset > MAX_OFFSET:
            raise SoqlError(NUMBER_OUTSIDE_VALID_RANGE, f"Maximum SOQL offset allowed is {MAX_OFFSET}")
        if semi and query.offset is not None:
            raise self.resolver.error(
                MALFORMED_QUERY, "OFFSET is not allowed in a semi join sub-select", query.object_position
            )
        if query.where is None:
            return
        top = query.where.items if isinstance(query.where, nodes.And) else (query.where,)
        misplaced = [
            found for item in top for found in _semi_joins(item) if semi or not isinstance(item, nodes.InSubquery)
        ]
        if misplaced:
            raise self.resolver.error(
                MALFORMED_QUERY,
                "Semi join sub-selects are only allowed at the top level "
                "WHERE expressions and not in nested WHERE expressions.",
                misplaced[0].field.position,
            )

    def _unique(self, seen: set[str], name: str, position: nodes.Position) -> None:
        if name.lower() in seen:
            raise self.resolver.error(MALFORMED_QUERY, f"duplicate field selected: {name}", position)
        seen.add(name.lower())

    def child(self, parent: ObjectInfo, query: nodes.Query) -> _Child:
        relationship = parent.child(query.object_name)
        if query.qualifier is not None and query.qualifier.lower() != parent.name.lower():
            relationship = None  # FROM Account.Contacts names the parent object first
        child_obj = self.catalog.object_info(relationship.child_object) if relationship else None
        if relationship is None or child_obj is None:
            raise self.resolver.error(INVALID_TYPE, bad_child_relationship(query.object_name), query.object_position)
        return _Child(relationship.name, relationship, self.plan(query, child_obj, nested=True))

    def semi_join(self, query: nodes.Query, position: nodes.Position) -> SemiJoinIds:
        """The ids a semi-join or anti-join body selects (compare form, and index keys when all are 18 chars)."""
        obj = self.resolver.object(query.object_name, query.object_position)
        fields = [i for i in query.select if isinstance(i, nodes.FieldPath)]
        if len(fields) != 1 or len(query.select) != 1:
            raise self.resolver.error(
                MALFORMED_QUERY,
                "a semi join or anti join sub-select must select exactly one Id or reference field",
                query.object_position,
            )
        bound = self.resolver.field(obj, fields[0], query.alias)
        if bound.category != "id":
            raise self.resolver.error(
                MALFORMED_QUERY,
                f"semi join sub-select field '{bound.name}' must be an Id or reference field",
                fields[0].position,
            )
        plan = self.plan(query, obj, nested=True, semi=True)
        rows = self.select(plan, self.candidates(plan))
        ids = {v for v in (bound.getter(r) for r in rows) if isinstance(v, str)}
        keys = tuple(sorted({v.lower() for v in ids})) if all(len(v) == 18 for v in ids) else None
        return SemiJoinIds(frozenset(normalize_id(v) for v in ids), keys)

    # ---- execution
    def candidates(self, plan: _Plan) -> Iterable[Row]:
        """Rows to test: from the catalog's optional index when the WHERE allows it, else all rows."""
        lookup = getattr(self.catalog, "lookup", None)
        if plan.index is not None and lookup is not None and not self.include_deleted:
            hits = lookup(plan.obj.name, plan.index[0], plan.index[1])
            if hits is not None:
                return hits
        return self.catalog.rows(plan.obj.name, include_deleted=self.include_deleted)

    def select(self, plan: _Plan, rows: Iterable[Row]) -> list[Row]:
        """Filter, sort, then OFFSET and LIMIT."""
        predicate = plan.predicate
        start = plan.query.offset or 0
        stop = None if plan.query.limit is None else start + plan.query.limit
        filtered = filter(predicate, rows) if predicate else iter(rows)
        if not plan.order:  # no sort: stop reading rows once OFFSET + LIMIT have matched
            return list(itertools.islice(filtered, start, stop))
        matched = list(filtered)
        for key in reversed(plan.order):
            matched.sort(key=_sort_key(key), reverse=key.descending)
        return matched[start:stop]

    def materialize(self, plan: _Plan, rows: list[Row]) -> list[dict[str, Any]]:
        assert plan.build is not None
        child_sets = {c.key: self.child_sets(c, rows) for c in plan.children}
        records = []
        for row in rows:
            row_id = row.get("Id")
            own = {
                key: sets.get(normalize_id(row_id)) if isinstance(row_id, str) else None
                for key, sets in child_sets.items()
            }
            records.append(plan.build(plan.obj.name, row, own))
        return records

    def child_sets(self, child: _Child, parents: list[Row]) -> dict[str, dict[str, Any]]:
        """Child result sets ({totalSize, done, records}) by normalized parent id; absent = null."""
        parent_ids = {normalize_id(i) for i in (p.get("Id") for p in parents) if isinstance(i, str)}
        if not parent_ids:
            return {}
        link = child.relationship.field
        grouped: dict[str, list[Row]] = {}
        rows: Iterable[Row] | None = None
        lookup = getattr(self.catalog, "lookup", None)
        full_ids = [str(p["Id"]).lower() for p in parents if isinstance(p.get("Id"), str)]
        if lookup is not None and not self.include_deleted and all(len(i) == 18 for i in full_ids):
            rows = lookup(child.plan.obj.name, link, full_ids)
        if rows is None:
            rows = self.catalog.rows(child.plan.obj.name, include_deleted=self.include_deleted)
        for row in rows:
            parent_id = row.get(link)
            if isinstance(parent_id, str) and (key := normalize_id(parent_id)) in parent_ids:
                grouped.setdefault(key, []).append(row)
        sets = {}
        for key, group in grouped.items():
            selected = self.select(child.plan, group)
            if selected:
                records = self.materialize(child.plan, selected)
                sets[key] = {"totalSize": len(records), "done": True, "records": records}
        return sets


def _sort_norm(bound: BoundField) -> Callable[[Any], Any]:
    if bound.category == "multipicklist":
        return lambda v: str(v).lower()
    return normalizer(bound)


def _sort_key(key: _OrderKey) -> Callable[[Row], tuple[int, Any]]:
    """(rank, value); nulls get their own rank so they never compare with values.

    With ``reverse=True`` (DESC) ranks flip, so nulls go high exactly when they must end up first
    under DESC or last under ASC.
    """
    null_high = key.nulls_first == key.descending
    null_key = (1, 0) if null_high else (0, 0)
    value_rank = 0 if null_high else 1
    get, norm = key.getter, key.norm

    def sort_key(row: Row) -> tuple[int, Any]:
        value = get(row)
        return null_key if value is None else (value_rank, norm(value))

    return sort_key


MAX_OFFSET = 2000


def _semi_joins(condition: nodes.Condition) -> list[nodes.InSubquery]:
    """Every semi-/anti-join inside ``condition`` (itself included)."""
    if isinstance(condition, nodes.InSubquery):
        return [condition]
    if isinstance(condition, nodes.And | nodes.Or):
        return [found for item in condition.items for found in _semi_joins(item)]
    if isinstance(condition, nodes.Not):
        return _semi_joins(condition.item)
    return []


def run_query(text: str, catalog: Catalog, *, include_deleted: bool = False, api_version: str = "62.0") -> QueryResult:
    """Parse (cached), check against the catalog's schema, and evaluate a SOQL query.

    Raises :class:`SoqlError` with MALFORMED_QUERY, INVALID_FIELD or INVALID_TYPE.
    """
    query = parse(text)
    run = _Run(text, catalog, include_deleted, api_version)
    if query.qualifier is not None:
        raise run.resolver.error(
            MALFORMED_QUERY, f"unexpected token: '{query.qualifier}.{query.object_name}'", query.object_position
        )
    obj = run.resolver.object(query.object_name, query.object_position)
    plan = run.plan(query, obj)
    rows = run.select(plan, run.candidates(plan))
    if plan.count_only:
        return QueryResult([], len(rows))
    return QueryResult(run.materialize(plan, rows), len(rows))


__all__ = ["QueryResult", "SoqlError", "run_query"]
