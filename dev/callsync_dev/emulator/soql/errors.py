"""SoqlError and the Salesforce wording of its messages."""

from __future__ import annotations

MALFORMED_QUERY = "MALFORMED_QUERY"
INVALID_FIELD = "INVALID_FIELD"
INVALID_TYPE = "INVALID_TYPE"
INVALID_QUERY_FILTER_OPERATOR = "INVALID_QUERY_FILTER_OPERATOR"  # e.g. "invalid ID field: abc"
NUMBER_OUTSIDE_VALID_RANGE = "NUMBER_OUTSIDE_VALID_RANGE"  # OFFSET over 2,000

_CUSTOM_FIELD_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom field "
    "name. Please reference your WSDL or the describe call for the appropriate names."
)
_CUSTOM_RELATIONSHIP_HINT = (
    "If you are attempting to use a custom relationship, be sure to append the '__r' after the custom "
    "relationship name. Please reference your WSDL or the describe call for the appropriate names."
)
_CUSTOM_OBJECT_HINT = (
    "If you are attempting to use a custom object, be sure to append the '__c' after the entity name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)


class SoqlError(Exception):
    """A query Salesforce would refuse with HTTP 400.

    ``error_code`` is the Salesforce errorCode: MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE, or
    INVALID_QUERY_FILTER_OPERATOR (an Id filter value that is not an id). ``message`` is shaped like
    Salesforce's: when the offending token's position is known it starts with the query line, a caret and
    ``ERROR at Row:r:Column:c``, then the ``detail`` (the bare sentence, also kept on its own).
    """

    def __init__(
        self, error_code: str, detail: str, *, text: str | None = None, position: tuple[int, int] | None = None
    ) -> None:
        self.error_code = error_code
        self.detail = detail
        self.message = _with_position(detail, text, position)
        super().__init__(self.message)


def _with_position(detail: str, text: str | None, position: tuple[int, int] | None) -> str:
    if text is None or position is None:
        return detail
    row, column = position
    lines = text.splitlines() or [""]
    line = lines[row - 1] if 0 < row <= len(lines) else lines[-1]
    return f"\n{line}\n{' ' * max(column - 1, 0)}^\nERROR at Row:{row}:Column:{column}\n{detail}"


def no_such_column(field: str, entity: str) -> str:
    return f"No such column '{field}' on entity '{entity}'. {_CUSTOM_FIELD_HINT}"


def bad_relationship(name: str) -> str:
    return f"Didn't understand relationship '{name}' in field path. {_CUSTOM_RELATIONSHIP_HINT}"


def bad_child_relationship(name: str) -> str:
    return f"Didn't understand relationship '{name}' in FROM part of query call. {_CUSTOM_RELATIONSHIP_HINT}"


def unsupported_object(name: str) -> str:
    return f"sObject type '{name}' is not supported. {_CUSTOM_OBJECT_HINT}"
