"""Compiling a WHERE condition into one Python predicate over rows (done once per query run)."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from . import nodes
from .catalog import ObjectInfo
from .errors import INVALID_FIELD, INVALID_QUERY_FILTER_OPERATOR, MALFORMED_QUERY
from .fields import BoundField, Resolver, Row, normalize_id
from .literals import date_range

Predicate = Callable[[Row], bool]


@dataclass(frozen=True)
class SemiJoinIds:
    """What a semi-join body selected.

    ``normalized``: the ids in compare form (what the predicate tests). ``index_keys``: the same ids
    lower-cased in their 18-character form, for a catalog index on the outer field; None when some
    selected id is not 18 characters (an index holds 18-character ids only).
    """

    normalized: frozenset[str]
    index_keys: tuple[str, ...] | None


SemiJoin = Callable[[nodes.Query, nodes.Position], SemiJoinIds]

_ID_SHAPE = re.compile(r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?")
_ORDERING = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}

_TYPE_WORDS = {
    "id": "id",
    "string": "string",
    "multipicklist": "string",
    "boolean": "boolean",
    "date": "date",
    "datetime": "dateTime",
}


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _multi(value: Any) -> frozenset[str]:
    return frozenset(p.strip().lower() for p in str(value).split(";") if p.strip())


def _aware(value: Any) -> Any:
    """Datetimes compare as UTC instants; a naive one from a lax catalog is taken as UTC."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _utc_day(value: Any) -> date:
    return _aware(value).astimezone(UTC).date() if isinstance(value, datetime) else value


def _all(parts: tuple[Predicate, ...]) -> Predicate:
    if len(parts) == 2:
        first, second = parts
        return lambda row: first(row) and second(row)

    def every(row: Row) -> bool:
        for part in parts:  # noqa: SIM110 - a loop, not all(), spares a generator per row
            if not part(row):
                return False
        return True

    return every


def _any(parts: tuple[Predicate, ...]) -> Predicate:
    if len(parts) == 2:
        first, second = parts
        return lambda row: first(row) or second(row)

    def some(row: Row) -> bool:
        for part in parts:  # noqa: SIM110 - a loop, not any(), spares a generator per row
            if part(row):
                return True
        return False

    return some


def normalizer(field: BoundField) -> Callable[[Any], Any]:
    """Maps a stored value to the form it compares in (strings lower-cased, ids 15-char)."""
    cat = field.category
    if cat == "id":
        return lambda v: normalize_id(v) if isinstance(v, str) else v
    if cat == "string":
        return _lower
    if cat == "multipicklist":
        return _multi
    if cat == "datetime":
        return _aware
    return lambda v: v


class WhereCompiler:
    """Turns a :class:`nodes.Condition` on one object into a predicate; checks types like Salesforce."""

    def __init__(
        self, resolver: Resolver, owner: ObjectInfo, today: date, semi_join: SemiJoin, alias: str | None = None
    ) -> None:
        self.resolver = resolver
        self.alias = alias
        self.owner = owner
        self.today = today
        self.semi_join = semi_join
        # index keys of each top-level-eligible ``Field IN (SELECT ...)`` compiled, by id() of its node
        self.semi_join_keys: dict[int, tuple[str, ...]] = {}

    # ---- structure
    def compile(self, condition: nodes.Condition) -> Predicate:
        if isinstance(condition, nodes.And):
            return _all(tuple(self.compile(c) for c in condition.items))
        if isinstance(condition, nodes.Or):
            return _any(tuple(self.compile(c) for c in condition.items))
        if isinstance(condition, nodes.Not):
            inner = self.compile(condition.item)
            return lambda row: not inner(row)
        if isinstance(condition, nodes.InList):
            return self._in_list(condition)
        if isinstance(condition, nodes.InSubquery):
            return self._in_subquery(condition)
        return self._comparison(condition)

    def bind(self, path: nodes.FieldPath) -> BoundField:
        field = self.resolver.field(self.owner, path, self.alias)
        if not field.info.filterable:
            raise self.resolver.error(
                INVALID_FIELD, f"field '{field.info.name}' can not be filtered in a query call", path.position
            )
        return field

    # ---- values
    def _type_error(self, field: BoundField, position: nodes.Position) -> Exception:
        cat = field.category
        word = _TYPE_WORDS.get(cat) or ("int" if field.info.type.lower() in ("int", "long") else "double")
        quotes = (
            "should be enclosed in quotes"
            if cat in ("id", "string", "multipicklist")
            else "should not be enclosed in quotes"
        )
        return self.resolver.error(
            INVALID_FIELD,
            f"value of filter criterion for field '{field.info.name}' must be of type {word} and {quotes}",
            position,
        )

    def _value(self, field: BoundField, literal: nodes.Literal) -> Any:
        """The literal in the field's compare form; None for null; (first, last) days for date ranges."""
        if literal.kind == "null":
            return None
        cat = field.category
        accepted = {
            "id": ("string",),
            "string": ("string",),
            "multipicklist": ("string",),
            "number": ("number",),
            "boolean": ("boolean",),
            "date": ("date", "date_range"),
            "datetime": ("datetime", "date_range"),
        }[cat]
        if literal.kind not in accepted:
            raise self._type_error(field, field.position)
        if literal.kind == "date_range":
            name, n = literal.value
            return date_range(name, n, self.today)
        if cat == "id" and literal.value and not _ID_SHAPE.fullmatch(literal.value):
            raise self.resolver.error(
                INVALID_QUERY_FILTER_OPERATOR, f"invalid ID field: {literal.value}", field.position
            )
        return normalizer(field)(literal.value)

    # ---- comparisons
    def _comparison(self, node: nodes.Comparison) -> Predicate:
        field = self.bind(node.field)
        if node.op in ("INCLUDES", "EXCLUDES"):
            return self._includes(field, node)
        assert isinstance(node.value, nodes.Literal)
        if node.op == "LIKE":
            return self._like(field, node.value)
        value = self._value(field, node.value)
        get = field.getter
        if node.value.kind == "date_range":
            return self._in_range(field, node.op, value)
        if value is None:
            if node.op == "=":
                return lambda row: get(row) is None
            if node.op == "!=":
                return lambda row: get(row) is not None
            return lambda row: False
        if node.op in _ORDERING and field.category in ("boolean", "multipicklist"):
            raise self.resolver.error(
                INVALID_FIELD,
                f"invalid operator '{node.op}' on field '{field.info.name}' of type {field.info.type}",
                field.position,
            )
        if node.op in ("=", "!="):
            return self._equality(field, frozenset([value]), include_null=False, negated=node.op == "!=")
        compare = _ORDERING[node.op]
        norm = normalizer(field)
        return lambda row: (v := get(row)) is not None and compare(norm(v), value)

    def _equality(self, field: BoundField, values: frozenset[Any], *, include_null: bool, negated: bool) -> Predicate:
        """Membership in a set of normalized values; the hot path of ``Email IN (...)``."""
        get = field.getter
        if field.category == "string" and not field.hops:
            name = field.info.name
            if negated:
                return lambda row: (
                    ((v := row.get(name)) is None and not include_null) or (v is not None and v.lower() not in values)
                )
            return lambda row: (
                ((v := row.get(name)) is None and include_null) or (v is not None and v.lower() in values)
            )
        norm = normalizer(field)
        if negated:
            return lambda row: (
                ((v := get(row)) is None and not include_null) or (v is not None and norm(v) not in values)
            )
        return lambda row: ((v := get(row)) is None and include_null) or (v is not None and norm(v) in values)

    def _in_range(self, field: BoundField, op: str, bounds: tuple[date, date]) -> Predicate:
        first, last = bounds
        get = field.getter
        tests: dict[str, Callable[[date], bool]] = {
            "=": lambda d: first <= d <= last,
            "!=": lambda d: not first <= d <= last,
            "<": lambda d: d < first,
            "<=": lambda d: d <= last,
            ">": lambda d: d > last,
            ">=": lambda d: d >= first,
        }
        test = tests[op]
        if op == "!=":
            return lambda row: (v := get(row)) is None or test(_utc_day(v))
        return lambda row: (v := get(row)) is not None and test(_utc_day(v))

    def _like(self, field: BoundField, literal: nodes.Literal) -> Predicate:
        if literal.kind != "like" or field.category not in ("string", "id"):
            if literal.kind == "like":
                raise self.resolver.error(
                    INVALID_FIELD,
                    f"invalid operator LIKE on field '{field.info.name}' of type {field.info.type}",
                    field.position,
                )
            raise self._type_error(field, field.position)
        match = re.compile(literal.value, re.IGNORECASE | re.DOTALL).fullmatch
        get = field.getter
        return lambda row: (v := get(row)) is not None and match(str(v)) is not None

    def _includes(self, field: BoundField, node: nodes.Comparison) -> Predicate:
        if field.category != "multipicklist":
            raise self.resolver.error(
                INVALID_FIELD,
                f"includes or excludes operator only valid on multipicklist field: {field.info.name}",
                field.position,
            )
        assert isinstance(node.value, tuple)
        wanted = [self._value(field, v) for v in node.value]
        sets = tuple(w for w in wanted if w is not None)
        get = field.getter

        def includes(row: Row) -> bool:
            v = get(row)
            if v is None:
                return False
            have = _multi(v)
            return any(s <= have for s in sets)

        if node.op == "INCLUDES":
            return includes
        return lambda row: not includes(row)

    def _in_list(self, node: nodes.InList) -> Predicate:
        field = self.bind(node.field)
        if any(v.kind == "date_range" for v in node.values):  # IN (TODAY, 2026-11-20, ...): OR of equalities
            matched = _any(tuple(self._comparison(nodes.Comparison(node.field, "=", v)) for v in node.values))
            return (lambda row: not matched(row)) if node.negated else matched
        values = [self._value(field, v) for v in node.values]
        include_null = any(v is None for v in values)
        present = frozenset(v for v in values if v is not None)
        return self._equality(field, present, include_null=include_null, negated=node.negated)

    def _in_subquery(self, node: nodes.InSubquery) -> Predicate:
        field = self.bind(node.field)
        if field.category != "id":
            raise self.resolver.error(
                MALFORMED_QUERY,
                f"semi join sub-selects are only allowed on Id or reference fields, not '{field.info.name}'",
                field.position,
            )
        selected = self.semi_join(node.query, node.field.position)
        if not node.negated and not field.hops and selected.index_keys is not None:
            self.semi_join_keys[id(node)] = selected.index_keys
        return self._equality(field, selected.normalized, include_null=False, negated=node.negated)


def index_candidate(condition: nodes.Condition | None, compiler: WhereCompiler) -> tuple[str, list[str]] | None:
    """A top-level ``Field = 'x'``, ``Field IN (...)`` or ``Field IN (SELECT ...)`` an index could answer.

    Returns (canonical field name, lower-cased values) for a plain string-like field, else None. For a
    semi-join the values are the ids its body selected (run when the WHERE was compiled), so the outer
    query reads only the rows the index holds for them, as a database drives a semi-join from its
    inner side. The full predicate still runs on what the index returns, so an index only narrows the
    scan. Call after ``compiler.compile(condition)``.
    """
    conjuncts: Iterable[nodes.Condition]
    if condition is None:
        return None
    conjuncts = condition.items if isinstance(condition, nodes.And) else (condition,)
    for item in conjuncts:
        if isinstance(item, nodes.InSubquery):
            keys = compiler.semi_join_keys.get(id(item))
            if keys is not None:
                return compiler.bind(item.field).info.name, list(keys)
            continue
        if isinstance(item, nodes.InList) and not item.negated:
            path, literals = item.field, item.values
        elif isinstance(item, nodes.Comparison) and item.op == "=" and isinstance(item.value, nodes.Literal):
            path, literals = item.field, (item.value,)
        else:
            continue
        if any(v.kind != "string" for v in literals):
            continue
        field = compiler.bind(path)  # already checked by compile(); cannot fail here
        if field.hops:
            continue
        values = [str(v.value).lower() for v in literals]
        if field.category == "string" or (field.category == "id" and all(len(v) == 18 for v in values)):
            return field.info.name, values
    return None
