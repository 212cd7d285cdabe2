"""SOQL for callsync's Salesforce emulator: a lark parser and an evaluator over a :class:`Catalog`.

    parse(text) -> Query                      # cached; SoqlError(MALFORMED_QUERY) on bad syntax
    run_query(text, catalog, include_deleted=False, api_version="62.0") -> QueryResult

``QueryResult.records`` holds every matching record in Salesforce JSON shape (the HTTP layer pages
them); ``total_size`` is their number (the count for ``COUNT()``, with no records). Errors are
:class:`SoqlError` with ``error_code`` MALFORMED_QUERY, INVALID_FIELD or INVALID_TYPE and a
Salesforce-shaped ``message`` (INVALID_QUERY_FILTER_OPERATOR for an Id filter value that is not an id).

Supported: field lists with parent paths (``Account.Owner.Name``, polymorphic ``What.Name``/``What.Type``:
the Name object's fields only), child subqueries by relationship name, optionally qualified by the parent
object (``FROM Account.Contacts``; with WHERE/ORDER BY/LIMIT, OFFSET only under a parent ``LIMIT 1``),
``COUNT()``, one FROM object with an optional alias; WHERE with = != <> < > <= >= IN, NOT IN, LIKE,
INCLUDES/EXCLUDES, AND/OR/NOT, parentheses, semi-/anti-joins (only as top-level conjuncts, not nested), date/
datetime literals and relative date literals (TODAY, LAST_N_DAYS:n, ...); ORDER BY (ASC/DESC, NULLS
FIRST/LAST; not on long text areas or multi-select picklists), LIMIT, OFFSET (≤ 2,000, else
NUMBER_OUTSIDE_VALID_RANGE). Not supported (a MALFORMED_QUERY): aggregates other than COUNT(), GROUP BY,
HAVING, TYPEOF, FIELDS(), WITH, FOR VIEW/UPDATE, USING SCOPE, toLabel()/FORMAT().

A catalog may offer an optional ``lookup`` index (see ``catalog.py``); ``memory.MemoryCatalog`` is an
in-memory catalog for tests, and ``bench`` times the adapter's hottest query.
"""

from . import nodes
from .catalog import Catalog, ChildRelationship, FieldInfo, ObjectInfo
from .engine import QueryResult, run_query
from .errors import SoqlError
from .nodes import Query
from .parser import parse

__all__ = [
    "Catalog",
    "ChildRelationship",
    "FieldInfo",
    "ObjectInfo",
    "Query",
    "QueryResult",
    "SoqlError",
    "nodes",
    "parse",
    "run_query",
]
