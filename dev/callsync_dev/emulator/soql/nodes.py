"""The parsed form of a SOQL query: immutable dataclasses, safe to cache and share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Position = tuple[int, int]  # (row, column), 1-based, as Salesforce reports them


@dataclass(frozen=True)
class FieldPath:
    """``Name``, ``Account.Name``, ``Opportunity.Account.Name`` as written (any case)."""

    parts: tuple[str, ...]
    position: Position

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class CountAll:
    """``COUNT()``: no records, total size only."""

    position: Position


@dataclass(frozen=True)
class CountField:
    """``COUNT(field)``: an aggregate query, which the emulator does not support."""

    field: FieldPath
    position: Position


@dataclass(frozen=True)
class SubQuery:
    """A parenthesised query: a child relationship query in SELECT, a semi-join body in WHERE."""

    query: Query


SelectItem = FieldPath | CountAll | CountField | SubQuery


@dataclass(frozen=True)
class Literal:
    """A value in WHERE.

    kind: ``string`` (value = decoded text), ``like`` (value = compiled regex source), ``number``,
    ``boolean``, ``null``, ``date`` (datetime.date), ``datetime`` (aware datetime.datetime),
    ``date_range`` (value = (NAME, n or None), e.g. ("LAST_N_DAYS", 7), ("TODAY", None)).
    ``raw`` is the literal as written, for messages.
    """

    kind: str
    value: Any
    raw: str


@dataclass(frozen=True)
class Comparison:
    """``field op value``; op is one of = != < > <= >= LIKE INCLUDES EXCLUDES (``<>`` becomes ``!=``).

    For INCLUDES/EXCLUDES ``value`` is a tuple of string Literals.
    """

    field: FieldPath
    op: str
    value: Literal | tuple[Literal, ...]


@dataclass(frozen=True)
class InList:
    field: FieldPath
    values: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True)
class InSubquery:
    """Semi-join (``Id IN (SELECT ...)``) or anti-join (``NOT IN``)."""

    field: FieldPath
    query: Query
    negated: bool


@dataclass(frozen=True)
class And:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = Comparison | InList | InSubquery | And | Or | Not


@dataclass(frozen=True)
class OrderKey:
    field: FieldPath
    descending: bool
    nulls_first: bool  # resolved default: ASC NULLS FIRST, DESC NULLS LAST


@dataclass(frozen=True)
class Query:
    select: tuple[SelectItem, ...]
    object_name: str
    object_position: Position
    alias: str | None = None  # FROM Contact c: "c." may prefix field paths
    qualifier: str | None = None  # FROM Account.Contacts: "Account" (child subqueries only)
    where: Condition | None = None
    order_by: tuple[OrderKey, ...] = ()
    limit: int | None = None
    offset: int | None = None
