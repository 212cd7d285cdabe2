"""The shapes of Salesforce's successful answers, checked where they enter callsync.

Every 2xx answer the gateway passes on has been validated here, so adapters and services
never meet a list where an object was expected, or a missing key: a body that is not the
documented shape (``salesforce-rest.md``, "Resources") raises
``SalesforceMalformedResponse`` naming the request and what was wrong, never
``AttributeError``/``KeyError``/``TypeError`` further down.

Checked:

- query page: ``{"done", "records": [object, ...], "nextRecordsUrl"?}``;
- composite: ``{"compositeResponse": [{"httpStatusCode", "referenceId", "body"?}, ...]}`` with one
  answer per subrequest sent; each successful subresponse's body is checked by what the
  subrequest was (a query page, a created record ``{"id"}``, collection results, a describe);
- sObject Collections: one ``{"success", "id"?, "errors": [...]}`` per record sent;
- describe: ``{"name", "fields": [{"name", "type"}, ...]}``; global describe: ``{"sobjects": [...]}``.

Extra keys are always allowed (Salesforce adds fields between versions).

Inside a record the shape depends on the SELECT; the adapters that read records mark the
methods doing so with ``@reads_answers``: a KeyError/TypeError/AttributeError/IndexError (or a
pydantic ValidationError) raised while reading an answer becomes ``SalesforceMalformedResponse``
too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from callsync.errors import SalesforceMalformedResponse


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow")


class QueryPage(_Shape):
    done: bool = True
    records: list[dict[str, Any]]
    nextRecordsUrl: str | None = None


class SubResponse(_Shape):
    httpStatusCode: int
    referenceId: str
    body: Any = None


class CompositeAnswer(_Shape):
    compositeResponse: list[SubResponse]


class SaveResult(_Shape):
    success: bool
    id: str | None = None
    errors: list[Any] = []


class CreatedRecord(_Shape):
    id: str
    success: bool = True


class FieldShape(_Shape):
    name: str
    type: str


class DescribeAnswer(_Shape):
    name: str
    fields: list[FieldShape]


class GlobalDescribeAnswer(_Shape):
    sobjects: list[dict[str, Any]]


P = ParamSpec("P")
R = TypeVar("R")
_READ_ERRORS = (KeyError, TypeError, AttributeError, IndexError, ValidationError)

_SAVE_RESULTS: TypeAdapter[list[SaveResult]] = TypeAdapter(list[SaveResult])


def malformed(context: str, problem: str) -> SalesforceMalformedResponse:
    """The error for an answer to ``context`` that is not the documented shape."""
    return SalesforceMalformedResponse(
        f"Salesforce sent a malformed answer to {context}: {problem}"[:1000], code="MALFORMED_RESPONSE"
    )


def _problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(body)"
    return f"{where}: {first['msg']} (got {type(first.get('input')).__name__})"


def _check(model: type[BaseModel] | TypeAdapter[Any], answer: Any, context: str) -> None:
    try:
        if isinstance(model, TypeAdapter):
            model.validate_python(answer)
        else:
            model.model_validate(answer)
    except ValidationError as e:
        raise malformed(context, _problem(e)) from e


def query_page(answer: Any, context: str) -> dict[str, Any]:
    """A query page as a dict with ``records`` (a list of objects).

    Raises:
        SalesforceMalformedResponse: not the documented shape.
    """
    _check(QueryPage, answer, context)
    return dict(answer)


def save_results(answer: Any, sent: int, context: str) -> list[dict[str, Any]]:
    """sObject Collections results: one object per record sent, in order.

    Raises:
        SalesforceMalformedResponse: not a list of results, or not one per record.
    """
    _check(_SAVE_RESULTS, answer, context)
    if len(answer) != sent:
        raise malformed(context, f"{len(answer)} results for {sent} records")
    return [dict(r) for r in answer]


def describe(answer: Any, context: str) -> dict[str, Any]:
    """An sObject describe.

    Raises:
        SalesforceMalformedResponse: not the documented shape.
    """
    _check(DescribeAnswer, answer, context)
    return dict(answer)


def global_describe(answer: Any, context: str) -> dict[str, Any]:
    """The global describe (``GET sobjects``).

    Raises:
        SalesforceMalformedResponse: not the documented shape.
    """
    _check(GlobalDescribeAnswer, answer, context)
    return dict(answer)


def composite(answer: Any, subrequests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The composite's subresponses, each successful body checked against what its subrequest asked.

    Raises:
        SalesforceMalformedResponse: not the documented shape, or a subrequest without an answer.
    """
    context = "composite request"
    _check(CompositeAnswer, answer, context)
    responses = [dict(r) for r in answer["compositeResponse"]]
    answered = {str(r["referenceId"]) for r in responses}
    missing = [str(s.get("referenceId")) for s in subrequests if str(s.get("referenceId")) not in answered]
    if missing:
        raise malformed(context, f"no answer for subrequest(s) {', '.join(missing[:5])}")
    by_ref = {str(s.get("referenceId")): s for s in subrequests}
    for response in responses:
        sub = by_ref.get(str(response["referenceId"]))
        if sub is not None and 200 <= int(response["httpStatusCode"]) < 300:
            _check_subresponse(sub, response.get("body"), f"subrequest {response['referenceId']}")
    return responses


def _check_subresponse(sub: dict[str, Any], body: Any, context: str) -> None:
    method = str(sub.get("method", "GET")).upper()
    path = str(sub.get("url", "")).split("?", 1)[0].rstrip("/")
    tail = path.split("/services/data/", 1)[-1]
    tail = tail.split("/", 1)[1] if tail.startswith("v") and "/" in tail else tail
    if method == "GET" and (tail in ("query", "queryAll") or tail.startswith(("query/", "queryAll/"))):
        _check(QueryPage, body, context)
    elif tail == "composite/sobjects" and method in ("POST", "PATCH"):
        records = (sub.get("body") or {}).get("records") or []
        save_results(body, len(records), context)
    elif method == "POST" and tail.startswith("sobjects/") and tail.count("/") == 1:
        _check(CreatedRecord, body, context)
    elif method == "GET" and tail.startswith("sobjects/") and tail.endswith("/describe"):
        _check(DescribeAnswer, body, context)
    elif method == "GET" and tail == "sobjects":
        _check(GlobalDescribeAnswer, body, context)


def reads_answers(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark an adapter method that reads Salesforce's answers: a record without a key it selected,
    or of the wrong type, is ``SalesforceMalformedResponse`` (naming ``what``), not a Python error."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except _READ_ERRORS as e:
                raise malformed(what, f"{type(e).__name__}: {e}"[:300]) from e

        return wrapper

    return decorate
