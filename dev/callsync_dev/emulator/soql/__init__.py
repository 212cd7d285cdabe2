"""SOQL for callsync's Salesforce emulator: a lark parser and an evaluator over a :class:`Catalog`.

    parse(text) -> Query                      # cached; SoqlError(MALFORMED_QUERY) on bad syntax
    run_query(text, catalog, include_deleted=False, api_version="62.0") -> QueryResult

``QueryResult.records`` holds every matching record in Salesforce JSON shape (the HTTP layer pages
them); ``total_size`` is their number (the count for ``COUNT()``, with no records). Errors are
:class:`SoqlError` with ``error_code`` MALFORMED_QUERY, INVALID_FIELD or INVALID_TYPE and a
Salesforce-shaped ``message``.
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
