"""The one place where Salesforce failures become ``callsync.errors`` classes.

Inputs: simple-salesforce exceptions (a whole REST request failed), requests
exceptions (no answer), composite sub-responses (``{body, httpStatusCode,
referenceId}``) and sObject Collections save results (``{success, errors:
[{statusCode, message, fields}]}``).

Mapping (by ``errorCode`` first, HTTP status when the code is unknown):

- SERVER_UNAVAILABLE, QUERY_TIMEOUT, any 5xx, timeouts, connection errors → ``SalesforceUnavailable``
- UNABLE_TO_LOCK_ROW (400 or 500) → ``SalesforceRowLocked``
- REQUEST_LIMIT_EXCEEDED → ``SalesforceRateLimited``
- INVALID_SESSION_ID / 401 (after the gateway's one refresh-and-retry) → ``SalesforceSessionExpired``
- INSUFFICIENT_ACCESS_OR_READONLY, INSUFFICIENT_ACCESS*, INVALID_FIELD_FOR_INSERT_UPDATE,
  INVALID_FIELD on a write (a field hidden from the integration user), other 403s → ``MissingPermission``
- a 2xx answer that is not JSON → ``SalesforceMalformedResponse``; a request body that cannot be
  encoded as JSON (NaN, Infinity) → ``InvalidRequestBody`` (both permanent)
- everything else (MALFORMED_QUERY, INVALID_FIELD in a query, REQUIRED_FIELD_MISSING,
  FIELD_CUSTOM_VALIDATION_EXCEPTION, STRING_TOO_LONG, DUPLICATES_DETECTED, NOT_FOUND, ...)
  → ``SalesforceRejected``

The errorCode is kept in ``.code``; messages name the object, field and code
and never carry a token or a request URL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

import requests
from simple_salesforce.exceptions import SalesforceError

from callsync.errors import (
    CallsyncError,
    InvalidRequestBody,
    MissingPermission,
    SalesforceMalformedResponse,
    SalesforceRateLimited,
    SalesforceRejected,
    SalesforceRowLocked,
    SalesforceSessionExpired,
    SalesforceUnavailable,
)

UNAVAILABLE_CODES = frozenset({"SERVER_UNAVAILABLE", "QUERY_TIMEOUT", "SERVICE_UNAVAILABLE"})
PERMISSION_CODES = frozenset(
    {
        "INSUFFICIENT_ACCESS_OR_READONLY",
        "INSUFFICIENT_ACCESS",
        "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        "API_DISABLED_FOR_ORG",
        "API_CURRENTLY_DISABLED",
    }
)
# Failures that only report that *another* record/subrequest failed.
CONSEQUENTIAL_CODES = frozenset({"PROCESSING_HALTED", "ALL_OR_NONE_OPERATION_ROLLED_BACK"})
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_WRITE_INVALID_FIELD = re.compile(r"on sobject of type", re.IGNORECASE)
_MAX_MESSAGE = 500


def error_items(content: Any) -> list[dict[str, Any]]:
    """Salesforce error bodies as a list of ``{errorCode, message, fields}``.

    Accepts the REST error array, a single error object, collections errors
    (``statusCode``), OAuth errors (``error``/``error_description``) and text.
    """
    if isinstance(content, bytes | bytearray):
        content = content.decode("utf-8", "replace")
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            return [{"errorCode": None, "message": content.strip()[:_MAX_MESSAGE], "fields": []}]
    if isinstance(content, dict):
        content = [content]
    items: list[dict[str, Any]] = []
    for raw in content if isinstance(content, list) else []:
        if not isinstance(raw, dict):
            items.append({"errorCode": None, "message": str(raw)[:_MAX_MESSAGE], "fields": []})
            continue
        code = raw.get("errorCode") or raw.get("statusCode") or raw.get("error")
        message = raw.get("message") or raw.get("error_description") or ""
        items.append({"errorCode": code, "message": str(message), "fields": list(raw.get("fields") or [])})
    return items


def classify(
    code: str | None, status: int | None, message: str = "", *, write: bool | None = None
) -> type[CallsyncError]:
    """The callsync error class for one Salesforce error (code first, then HTTP status)."""
    if code == "UNABLE_TO_LOCK_ROW":
        return SalesforceRowLocked
    if code == "REQUEST_LIMIT_EXCEEDED":
        return SalesforceRateLimited
    if code == "INVALID_SESSION_ID":
        return SalesforceSessionExpired
    if code in UNAVAILABLE_CODES:
        return SalesforceUnavailable
    if code in PERMISSION_CODES:
        return MissingPermission
    if code == "INVALID_FIELD":
        is_write = write if write is not None else bool(_WRITE_INVALID_FIELD.search(message))
        return MissingPermission if is_write else SalesforceRejected
    if code is None or code not in _KNOWN_REJECTIONS:
        if status is not None and status >= 500:
            return SalesforceUnavailable
        if status == 401:
            return SalesforceSessionExpired
        if status == 403:
            return MissingPermission
    return SalesforceRejected


# Codes whose meaning does not depend on the HTTP status they arrive with.
_KNOWN_REJECTIONS = frozenset(
    {
        "MALFORMED_QUERY",
        "INVALID_FIELD",
        "INVALID_TYPE",
        "NOT_FOUND",
        "REQUIRED_FIELD_MISSING",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "STRING_TOO_LONG",
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "DUPLICATES_DETECTED",
        "INVALID_CROSS_REFERENCE_KEY",
        "ENTITY_IS_DELETED",
        "PROCESSING_HALTED",
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "JSON_PARSER_ERROR",
        "METHOD_NOT_ALLOWED",
    }
)


def build_error(
    items: Sequence[dict[str, Any]], *, status: int | None, context: str, write: bool | None = None
) -> CallsyncError:
    """One callsync error for a failed request/record: the first root-cause item decides the class."""
    if not items:
        items = [{"errorCode": None, "message": f"HTTP {status}" if status else "no detail", "fields": []}]
    primary = next((i for i in items if i.get("errorCode") not in CONSEQUENTIAL_CODES), items[0])
    code = primary.get("errorCode")
    cls = classify(code, status, primary.get("message", ""), write=write)
    details = "; ".join(_describe_item(i) for i in items[:5])
    where = f" (HTTP {status})" if status else ""
    return cls(f"{_verb(cls)} {context}{where}: {details}"[:2000], code=code)


def _describe_item(item: dict[str, Any]) -> str:
    code = item.get("errorCode") or "error"
    fields = item.get("fields") or []
    on = f" on {', '.join(fields)}" if fields else ""
    message = str(item.get("message") or "").strip()[:_MAX_MESSAGE]
    return f"{code}{on}: {message}" if message else f"{code}{on}"


def _verb(cls: type[CallsyncError]) -> str:
    return {
        SalesforceUnavailable: "Salesforce is unavailable for",
        SalesforceRowLocked: "record locked in",
        SalesforceRateLimited: "Salesforce API limit reached for",
        SalesforceSessionExpired: "Salesforce session expired for",
        MissingPermission: "missing Salesforce permission for",
    }.get(cls, "Salesforce rejected")


def from_salesforce_exception(error: SalesforceError, context: str, *, write: bool | None = None) -> CallsyncError:
    """A simple-salesforce exception (a whole REST request failed) as a callsync error."""
    return build_error(error_items(error.content), status=error.status, context=context, write=write)


def from_requests_exception(error: requests.RequestException, context: str) -> CallsyncError:
    """No usable answer (timeout, connection refused/reset, TLS): retryable.

    Two are not about the network and are permanent: an answer whose body is not JSON
    (``SalesforceMalformedResponse``) and a request body that cannot be encoded as JSON, e.g.
    NaN or Infinity (``InvalidRequestBody``; nothing was sent).
    """
    kind = type(error).__name__
    if isinstance(error, requests.exceptions.JSONDecodeError):
        return SalesforceMalformedResponse(
            f"Salesforce sent a malformed answer to {context}: the body is not JSON", code="MALFORMED_RESPONSE"
        )
    if isinstance(error, requests.exceptions.InvalidJSONError):
        return InvalidRequestBody(
            f"the request for {context} cannot be encoded as JSON (NaN or Infinity?): not sent", code=kind
        )
    return SalesforceUnavailable(f"Salesforce is unavailable for {context}: {kind}", code=kind)


def from_response(status: int, body: Any, context: str, *, write: bool | None = None) -> CallsyncError:
    """A raw HTTP answer (status ≥ 300) as a callsync error."""
    return build_error(error_items(body), status=status, context=context, write=write)


def raise_for_subresponse(sub: dict[str, Any], *, method: str | None = None) -> None:
    """Raise the callsync error for a failed composite sub-response; return when it succeeded.

    ``method`` (the subrequest's HTTP method) tells a write's INVALID_FIELD (hidden
    field → MissingPermission) from a query's; without it the message decides.
    """
    status = int(sub.get("httpStatusCode") or 0)
    if 200 <= status < 300 or status == 304:
        return
    write = method.upper() in WRITE_METHODS if method else None
    context = f"subrequest {sub.get('referenceId', '?')}"
    raise build_error(error_items(sub.get("body")), status=status, context=context, write=write)


def raise_for_subresponses(subs: Iterable[dict[str, Any]], *, methods: dict[str, str] | None = None) -> None:
    """Raise for the first root-cause failure among sub-responses (PROCESSING_HALTED ones come last)."""
    failed = [s for s in subs if not (200 <= int(s.get("httpStatusCode") or 0) < 300)]
    failed = [s for s in failed if int(s.get("httpStatusCode") or 0) != 304]
    failed.sort(key=lambda s: _is_consequential(error_items(s.get("body"))))
    for sub in failed:
        raise_for_subresponse(sub, method=(methods or {}).get(str(sub.get("referenceId"))))


def raise_for_save_result(result: dict[str, Any], object_name: str) -> None:
    """Raise the callsync error for a failed collections save result; return when it succeeded."""
    if result.get("success"):
        return
    items = error_items(result.get("errors") or [])
    record = f" {result['id']}" if result.get("id") else ""
    raise build_error(items, status=None, context=f"{object_name}{record}", write=True)


def raise_for_save_results(results: Sequence[dict[str, Any]], object_names: Sequence[str]) -> None:
    """Raise for the first root-cause failure of a collections request (rolled-back ones come last)."""
    pairs = [(r, n) for r, n in zip(results, object_names, strict=False) if not r.get("success")]
    pairs.sort(key=lambda p: _is_consequential(error_items(p[0].get("errors") or [])))
    for result, name in pairs:
        raise_for_save_result(result, name)


def _is_consequential(items: list[dict[str, Any]]) -> bool:
    return bool(items) and all(i.get("errorCode") in CONSEQUENTIAL_CODES for i in items)
