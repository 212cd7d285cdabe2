"""Text -> :class:`~.nodes.Query`, with lark (grammar in ``soql.lark``). Results are cached."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from . import nodes
from .errors import MALFORMED_QUERY, SoqlError
from .literals import decode_string, like_regex, parse_date, parse_datetime

MAX_QUERY_LENGTH = 100_000


# SOQL's reserved words can never be names (``SELECT FROM Contact`` fails on FROM).
RESERVED = frozenset(
    {
        "AND",
        "ASC",
        "DESC",
        "EXCLUDES",
        "FIRST",
        "FROM",
        "GROUP",
        "HAVING",
        "IN",
        "INCLUDES",
        "LAST",
        "LIKE",
        "LIMIT",
        "NOT",
        "NULL",
        "NULLS",
        "OR",
        "SELECT",
        "WHERE",
        "WITH",
    }
)


def _reserved_is_not_a_name(token: Token) -> Token:
    """Re-type a NAME that is a reserved word so the parser rejects it as an unexpected token."""
    if token.upper() in RESERVED:
        token.type = "RESERVED_WORD"
    return token


@functools.cache
def _lark() -> Lark:
    grammar = resources.files(__package__).joinpath("soql.lark").read_text(encoding="utf-8")
    return Lark(
        grammar,
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=False,
        lexer_callbacks={"NAME": _reserved_is_not_a_name},
    )


def _pos(token: Token) -> nodes.Position:
    return (token.line or 1, token.column or 1)


def _finish(value: nodes.Literal) -> nodes.Literal:
    """Decode a string literal outside LIKE (where ``\\%`` and ``\\_`` are not escapes)."""
    if value.kind == "string" and value.value is None:
        return nodes.Literal("string", decode_string(value.raw), value.raw)
    return value


@v_args(inline=True)
class _ToAst(Transformer[Token, nodes.Query]):
    """Builds the dataclasses of :mod:`.nodes` from lark's parse tree."""

    def start(self, query: nodes.Query) -> nodes.Query:
        return query

    def query(self, select: tuple[nodes.SelectItem, ...], name: Token, *clauses: Any) -> nodes.Query:
        parts: dict[str, Any] = dict(clauses)
        if "qualified" in parts:  # FROM Account.Contacts: the relationship, qualified by its parent object
            relationship = parts.pop("qualified")
            parts["qualifier"] = str(name)
            return nodes.Query(
                select=select, object_name=str(relationship), object_position=_pos(relationship), **parts
            )
        return nodes.Query(select=select, object_name=str(name), object_position=_pos(name), **parts)

    def qualified(self, name: Token) -> tuple[str, Token]:
        return ("qualified", name)

    def alias(self, name: Token) -> tuple[str, str]:
        return ("alias", str(name))

    def select_list(self, *items: nodes.SelectItem) -> tuple[nodes.SelectItem, ...]:
        return items

    @v_args(inline=False, meta=False)
    def field_path(self, names: list[Token]) -> nodes.FieldPath:
        return nodes.FieldPath(tuple(str(n) for n in names), _pos(names[0]))

    @v_args(meta=True, inline=False)
    def count_all(self, meta: Any, _children: list[Any]) -> nodes.CountAll:
        return nodes.CountAll((getattr(meta, "line", 1), getattr(meta, "column", 1)))

    def count_field(self, field: nodes.FieldPath) -> nodes.CountField:
        return nodes.CountField(field, field.position)

    def subquery(self, query: nodes.Query) -> nodes.SubQuery:
        return nodes.SubQuery(query)

    # ---- WHERE
    def where_clause(self, condition: nodes.Condition) -> tuple[str, nodes.Condition]:
        return ("where", condition)

    def and_condition(self, *items: nodes.Condition) -> nodes.And:
        return nodes.And(items)

    def or_condition(self, *items: nodes.Condition) -> nodes.Or:
        return nodes.Or(items)

    def not_condition(self, item: nodes.Condition) -> nodes.Not:
        return nodes.Not(item)

    def compare(self, field: nodes.FieldPath, op: Token, value: nodes.Literal) -> nodes.Comparison:
        return nodes.Comparison(field, "!=" if op == "<>" else str(op), _finish(value))

    def like(self, field: nodes.FieldPath, value: nodes.Literal) -> nodes.Comparison:
        if value.kind != "string":
            return nodes.Comparison(field, "LIKE", _finish(value))  # refused when compiled
        return nodes.Comparison(field, "LIKE", nodes.Literal("like", like_regex(value.raw), value.raw))

    def value_list(self, *values: nodes.Literal) -> tuple[nodes.Literal, ...]:
        return tuple(_finish(v) for v in values)

    def in_list(self, field: nodes.FieldPath, values: tuple[nodes.Literal, ...]) -> nodes.InList:
        return nodes.InList(field, values, negated=False)

    def not_in_list(self, field: nodes.FieldPath, values: tuple[nodes.Literal, ...]) -> nodes.InList:
        return nodes.InList(field, values, negated=True)

    def in_subquery(self, field: nodes.FieldPath, sub: nodes.SubQuery) -> nodes.InSubquery:
        return nodes.InSubquery(field, sub.query, negated=False)

    def not_in_subquery(self, field: nodes.FieldPath, sub: nodes.SubQuery) -> nodes.InSubquery:
        return nodes.InSubquery(field, sub.query, negated=True)

    def includes(self, field: nodes.FieldPath, values: tuple[nodes.Literal, ...]) -> nodes.Comparison:
        return nodes.Comparison(field, "INCLUDES", values)

    def excludes(self, field: nodes.FieldPath, values: tuple[nodes.Literal, ...]) -> nodes.Comparison:
        return nodes.Comparison(field, "EXCLUDES", values)

    # ---- literals
    def string(self, token: Token) -> nodes.Literal:
        return nodes.Literal("string", None, str(token))  # decoded by _finish / like

    def number(self, token: Token) -> nodes.Literal:
        text = str(token)
        value: float | int = float(text) if "." in text else int(text)
        return nodes.Literal("number", value, text)

    def true(self) -> nodes.Literal:
        return nodes.Literal("boolean", True, "true")

    def false(self) -> nodes.Literal:
        return nodes.Literal("boolean", False, "false")

    def null(self) -> nodes.Literal:
        return nodes.Literal("null", None, "null")

    def date(self, token: Token) -> nodes.Literal:
        return nodes.Literal("date", parse_date(str(token)), str(token))

    def datetime(self, token: Token) -> nodes.Literal:
        return nodes.Literal("datetime", parse_datetime(str(token)), str(token))

    def date_range(self, token: Token) -> nodes.Literal:
        return nodes.Literal("date_range", (str(token).upper(), None), str(token))

    def date_range_n(self, token: Token) -> nodes.Literal:
        name, n = str(token).split(":")
        return nodes.Literal("date_range", (name.upper(), int(n)), str(token))

    # ---- ORDER BY, LIMIT, OFFSET
    def order_clause(self, *keys: nodes.OrderKey) -> tuple[str, tuple[nodes.OrderKey, ...]]:
        return ("order_by", keys)

    def order_key(self, field: nodes.FieldPath, *rest: Token | bool) -> nodes.OrderKey:
        descending = False
        nulls_first: bool | None = None
        for item in rest:
            if isinstance(item, bool):
                nulls_first = item
            else:
                descending = str(item).upper() == "DESC"
        return nodes.OrderKey(field, descending, (not descending) if nulls_first is None else nulls_first)

    def nulls(self, position: Token) -> bool:
        return str(position).upper() == "FIRST"

    def limit_clause(self, n: Token) -> tuple[str, int]:
        return ("limit", int(n))

    def offset_clause(self, n: Token) -> tuple[str, int]:
        return ("offset", int(n))


def _syntax_error(text: str, error: UnexpectedInput) -> SoqlError:
    position = (
        error.line if error.line and error.line > 0 else 1,
        error.column if error.column and error.column > 0 else 1,
    )
    if isinstance(error, UnexpectedToken):
        token = error.token
        if token.type == "$END":
            lines = text.splitlines() or [""]
            position = (len(lines), len(lines[-1]) + 1)
            return SoqlError(MALFORMED_QUERY, "unexpected token: <EOF>", text=text, position=position)
        return SoqlError(MALFORMED_QUERY, f"unexpected token: '{token}'", text=text, position=position)
    if isinstance(error, UnexpectedCharacters):
        offset = error.pos_in_stream or 0
        char = text[offset] if offset < len(text) else ""
        return SoqlError(
            MALFORMED_QUERY, f"line {position[0]}:{position[1] - 1} no viable alternative at character '{char}'"
        )
    return SoqlError(MALFORMED_QUERY, "unexpected token: <EOF>", text=text, position=position)


@functools.lru_cache(maxsize=1024)
def parse(text: str) -> nodes.Query:
    """Parse SOQL text; raise :class:`SoqlError` (MALFORMED_QUERY) on a syntax error."""
    if len(text) > MAX_QUERY_LENGTH:
        raise SoqlError(MALFORMED_QUERY, f"Query is too long: {len(text)} characters (max {MAX_QUERY_LENGTH})")
    try:
        tree = _lark().parse(text)
        return _ToAst().transform(tree)
    except UnexpectedInput as error:
        raise _syntax_error(text, error) from None
    except VisitError as error:
        if isinstance(error.orig_exc, SoqlError):
            raise error.orig_exc from None
        raise
    except LarkError as error:  # any other lark failure is still a malformed query
        raise SoqlError(MALFORMED_QUERY, f"unparsable query: {type(error).__name__}") from None
