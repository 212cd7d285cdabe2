"""``POST composite``: up to 25 subrequests, ``@{ref.path}`` references, allOrNone with rollback."""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import TYPE_CHECKING, Any

from callsync_dev.emulator.errors import ApiError

if TYPE_CHECKING:
    from callsync_dev.emulator.app import App, Result

MAX_URI_BYTES = 16_384

MAX_SUBREQUESTS = 25
MAX_QUERIES_AND_COLLECTIONS = 5
_REF_RE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_URL_RE = re.compile(r"^/services/data/v(\d+\.\d)(?:/(.*))?$")
ROLLED_BACK = "The transaction was rolled back since another operation in the same transaction failed."


class _Rollback(Exception):
    """Raised inside the store transaction to undo an allOrNone composite request."""


class _UnresolvedReference(Exception):
    pass


def run(app: App, version: str, body: Any) -> Result:
    from callsync_dev.emulator.app import Result

    if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
        raise ApiError(400, "JSON_PARSER_ERROR", "No content to map due to end-of-input: compositeRequest")
    subrequests: list[dict[str, Any]] = body["compositeRequest"]
    if not subrequests:
        raise ApiError(400, "INVALID_BATCH_REQUEST", "compositeRequest must contain at least one subrequest")
    if len(subrequests) > MAX_SUBREQUESTS:
        raise ApiError(400, "LIMIT_EXCEEDED", f"Maximum number of subrequests is {MAX_SUBREQUESTS}")
    all_or_none = bool(body.get("allOrNone", False))
    seen: set[str] = set()
    heavy = 0
    for sub in subrequests:
        ref = sub.get("referenceId") if isinstance(sub, dict) else None
        if not isinstance(sub, dict) or not isinstance(sub.get("url"), str) or not sub.get("method"):
            raise ApiError(400, "JSON_PARSER_ERROR", "Each subrequest needs method, url and referenceId")
        if not isinstance(ref, str) or not re.fullmatch(r"[A-Za-z0-9_]+", ref):
            raise ApiError(400, "INVALID_BATCH_REQUEST",
                           f"Invalid referenceId: {ref!r}. It must start with a letter or underscore "
                           "and contain only alphanumeric characters and underscores.")
        if ref in seen:
            raise ApiError(400, "INVALID_BATCH_REQUEST", f"Duplicate referenceId provided in the request: {ref}")
        seen.add(ref)
        path = sub["url"].split("?", 1)[0]
        if re.search(r"/(query|queryAll)/?$|/composite/sobjects", path):
            heavy += 1
    if heavy > MAX_QUERIES_AND_COLLECTIONS:
        raise ApiError(400, "LIMIT_EXCEEDED", "A composite request can contain at most 5 query or sObject "
                                              "Collections subrequests")
    results: dict[str, Any] = {}
    responses: list[dict[str, Any]] = []
    store = app.store
    with store.lock:
        try:
            with store.transaction():
                for index, sub in enumerate(subrequests):
                    response = _one(app, sub, results)
                    responses.append(response)
                    if all_or_none and response["httpStatusCode"] >= 400:
                        for earlier in responses[:-1]:
                            earlier.update(_halted(earlier["referenceId"], ROLLED_BACK))
                        responses.extend(_halted(s["referenceId"], ROLLED_BACK) for s in subrequests[index + 1:])
                        raise _Rollback
        except _Rollback:
            pass
    return Result(200, {"compositeResponse": responses})


def uri_too_long() -> ApiError:
    from callsync_dev.emulator.app import uri_too_long as build

    return build()


def _halted(reference_id: str, message: str) -> dict[str, Any]:
    return {"body": [{"errorCode": "PROCESSING_HALTED", "message": message}], "httpHeaders": {},
            "httpStatusCode": 400, "referenceId": reference_id}


def _one(app: App, sub: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
    ref = sub["referenceId"]
    try:
        url = _substitute_text(sub["url"], results, encode=True)
        body = _substitute(sub.get("body"), results)
    except _UnresolvedReference as exc:
        return _halted(ref, str(exc))
    parsed = urllib.parse.urlsplit(url)
    match = _URL_RE.match(parsed.path)
    try:
        if len(url.encode()) > MAX_URI_BYTES:
            raise uri_too_long()
        if match is None:
            raise ApiError(400, "INVALID_BATCH_REQUEST", f"The URL {url} must start with /services/data/vXX.X")
        version, rest = match.group(1), (match.group(2) or "").rstrip("/")
        if rest == "composite" or rest.startswith(("composite/batch", "composite/tree", "composite/graph")):
            raise ApiError(400, "INVALID_BATCH_REQUEST", f"The URL {url} is not supported in a composite request")
        headers = {str(k).lower(): str(v) for k, v in (sub.get("httpHeaders") or {}).items()}
        query = urllib.parse.parse_qs(parsed.query)
        if body is not None and not isinstance(body, dict | list):
            raise ApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize the subrequest body")
        with app.store.transaction():
            result = app.dispatch(str(sub["method"]).upper(), rest, version, query, headers, body)
    except ApiError as exc:
        results[ref] = None
        return {"body": exc.body(), "httpHeaders": {}, "httpStatusCode": exc.status, "referenceId": ref}
    results[ref] = result.payload if result.status < 400 else None
    headers_out = {k: v for k, v in result.headers.items() if k in ("Location", "Last-Modified", "ETag")}
    return {"body": result.payload, "httpHeaders": headers_out, "httpStatusCode": result.status,
            "referenceId": ref}


def _lookup(results: dict[str, Any], name: str, path: str) -> Any:
    if name not in results:
        raise _UnresolvedReference(f"Invalid reference specified. No value for {name}{path} found in {name}. "
                                   f"Provided referenceId ({name}) doesn't exist or wasn't processed before "
                                   "this subrequest.")
    value = results[name]
    for step in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        key, position = step
        if value is None:
            break
        if key:
            value = value.get(key) if isinstance(value, dict) else None
        else:
            value = value[int(position)] if isinstance(value, list) and int(position) < len(value) else None
    if value is None:
        raise _UnresolvedReference(f"Invalid reference specified. No value for {name}{path} found in {name}.")
    return value


def _substitute_text(text: str, results: dict[str, Any], *, encode: bool = False) -> str:
    def replace(match: re.Match[str]) -> str:
        value = _lookup(results, match.group(1), match.group(2))
        rendered = value if isinstance(value, str) else json.dumps(value)
        return urllib.parse.quote(rendered, safe="") if encode and "?" in text[: match.start()] else rendered

    return _REF_RE.sub(replace, text)


def _substitute(value: Any, results: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _REF_RE.fullmatch(value)
        if whole:
            return _lookup(results, whole.group(1), whole.group(2))
        return _substitute_text(value, results)
    if isinstance(value, list):
        return [_substitute(v, results) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, results) for k, v in value.items()}
    return value
