"""The contract between the SOQL engine and the emulator's org store.

The SOQL engine (``callsync_dev.emulator.soql``) parses and evaluates queries
against anything that implements :class:`Catalog`. The org store implements
it; tests may implement it with a few dicts. Names are case-insensitive in
SOQL: ``object_info`` and ``ObjectInfo.field`` accept any case and return the
canonical (schema) spelling.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class FieldInfo:
    """One field as the integration user sees it (hidden fields are absent)."""

    name: str  # canonical API name, e.g. "AccountId"
    type: str  # describe type: id, string, textarea, picklist, multipicklist, reference, email, phone,
    # url, date, datetime, boolean, int, double, currency, percent, base64
    reference_to: tuple[str, ...] = ()  # for references: target objects (several = polymorphic)
    relationship_name: str | None = None  # for references: "Account" for AccountId, "What" for WhatId
    filterable: bool = True  # long text areas (Task/Event Description) cannot be filtered on


@dataclass(frozen=True)
class ChildRelationship:
    name: str  # relationship name used in subqueries, e.g. "OpportunityContactRoles"
    child_object: str  # e.g. "OpportunityContactRole"
    field: str  # the child's lookup field pointing at the parent, e.g. "OpportunityId"


@dataclass(frozen=True)
class ObjectInfo:
    name: str  # canonical API name
    fields: Mapping[str, FieldInfo]  # keyed by lower-case API name
    child_relationships: Mapping[str, ChildRelationship] = field(default_factory=dict)  # lower-case key

    def field(self, name: str) -> FieldInfo | None:
        return self.fields.get(name.lower())

    def child(self, relationship_name: str) -> ChildRelationship | None:
        return self.child_relationships.get(relationship_name.lower())

    def parent(self, relationship_name: str) -> FieldInfo | None:
        """The reference field whose relationship name is ``relationship_name`` (case-insensitive)."""
        wanted = relationship_name.lower()
        for info in self.fields.values():
            if info.relationship_name and info.relationship_name.lower() == wanted:
                return info
        return None


class Catalog(Protocol):
    """What the SOQL engine needs from an org."""

    def object_info(self, name: str) -> ObjectInfo | None:
        """Schema of a readable object, or None (unknown or no read permission -> INVALID_TYPE)."""

    def rows(self, object_name: str, *, include_deleted: bool = False) -> Iterable[Mapping[str, Any]]:
        """Stored records of an object (canonical field names; ``Id`` always present).

        Values: str, int/float, bool, None; dates as ``datetime.date``, datetimes as
        timezone-aware ``datetime.datetime``; multipicklists as "A;B" strings.
        Deleted rows (``IsDeleted`` true) only when ``include_deleted`` (queryAll).
        """

    def by_id(self, record_id: str) -> tuple[str, Mapping[str, Any]] | None:
        """(object name, row) for an id of any object, for parent traversal."""

    def now(self) -> datetime:
        """The org's current time (timezone-aware, UTC); TODAY and LAST_N_DAYS derive from it."""


def today_of(catalog: Catalog) -> date:
    return catalog.now().date()


# Optional catalog method (looked up with ``getattr``; not part of the Protocol above):
#
#     def lookup(self, object_name: str, field_name: str, values_lowercased: list[str]
#                ) -> Iterable[Mapping[str, Any]] | None: ...
#
# An index on a string-like field. The engine calls it for a top-level ``Field = 'x'``,
# ``Field IN ('x', ...)`` or ``Field IN (SELECT ...)`` (also as one conjunct of a top-level AND) on a
# plain field of the queried object (for a semi-join: with the ids its body selected, which it runs
# first), and to find the children of a child subquery (Id fields: only with 18-character ids).
# Return the live (not deleted) rows whose value, lower-cased, is one of ``values_lowercased``
# (a superset is fine: the engine still applies the whole WHERE), in the order ``rows`` yields them
# (so LIMIT without ORDER BY, and ties under ORDER BY, pick what a scan picks), or None when there is
# no index on that field (the engine then scans ``rows``). Never called for queryAll (include_deleted).
