"""``POST composite``: up to 25 subrequests, ``@{ref.path}`` references, allOrNone with rollback."""

from __future__ import annotations

import json
import random
import re
import urllib.parse
from typing import Any

from callsync_dev.emulator.errors import ApiError, request_error
from callsync_dev.emulator.messages import MAX_URI_BYTES, Dispatch, Result, uri_too_long
from callsync_dev.emulator.store import OrgStore

MAX_SUBREQUESTS = 25
COLLATE_BY_DEFAULT_SINCE = 49.0  # collateSubrequests defaults to true from this API version
NULL_REFERENCES_SINCE = 52.0  # from this API version a reference to a null field resolves to null
FORBIDDEN_HEADERS = ("accept", "authorization", "content-type")
MAX_QUERIES_AND_COLLECTIONS = 5
_REF_RE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_URL_RE = re.compile(r"^/services/data/v(\d+\.\d)(?:/(.*))?$")
ROLLED_BACK = "The transaction was rolled back since another operation in the same transaction failed."


class _Rollback(Exception):
    """Raised inside the store transaction to undo an allOrNone composite request."""


class _UnresolvedReference(Exception):
    pass


def run(store: OrgStore, dispatch: Dispatch, version: str, body: Any, *, chaos: random.Random | None = None) -> Result:
    """Answer a composite request: its subrequests go to ``dispatch`` inside one ``store`` transaction."""
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
            raise ApiError(
                400,
                "INVALID_BATCH_REQUEST",
                f"Invalid referenceId: {ref!r}. It must start with a letter or underscore "
                "and contain only alphanumeric characters and underscores.",
            )
        if ref in seen:
            raise ApiError(400, "INVALID_BATCH_REQUEST", f"Duplicate referenceId provided in the request: {ref}")
        seen.add(ref)
        forbidden = sorted(str(h) for h in (sub.get("httpHeaders") or {}) if str(h).lower() in FORBIDDEN_HEADERS)
        if forbidden:
            raise request_error(
                400,
                "INVALID_BATCH_REQUEST",
                f"Subrequest {ref} sets the header(s) {', '.join(forbidden)}, which a composite "
                "subrequest cannot set (Accept, Authorization and Content-Type come from the "
                "composite request)",
            )
        path = sub["url"].split("?", 1)[0]
        if re.search(r"/(query|queryAll)/?$|/composite/sobjects", path):
            heavy += 1
    if heavy > MAX_QUERIES_AND_COLLECTIONS:
        raise ApiError(
            400, "LIMIT_EXCEEDED", "A composite request can contain at most 5 query or sObject Collections subrequests"
        )
    collate = body.get("collateSubrequests", float(version) >= COLLATE_BY_DEFAULT_SINCE)
    order = _execution_order(subrequests, chaos if collate else None)
    position = {sub["referenceId"]: i for i, sub in enumerate(subrequests)}
    results: dict[str, Any] = {}
    responses: dict[int, dict[str, Any]] = {}
    with store.lock:
        try:
            with store.transaction():
                for index in order:
                    sub = subrequests[index]
                    visible = {k: v for k, v in results.items() if position[k] < index}
                    response = _one(store, dispatch, sub, visible, version, all_or_none)
                    if "payload" in response:
                        results[sub["referenceId"]] = response.pop("payload")
                    responses[index] = response
                    if all_or_none and _failed(response):
                        for other, earlier in responses.items():
                            if other != index:
                                earlier.update(_halted(earlier["referenceId"], ROLLED_BACK))
                        for other, pending in enumerate(subrequests):
                            responses.setdefault(other, _halted(pending["referenceId"], ROLLED_BACK))
                        raise _Rollback
        except _Rollback:
            pass
    return Result(200, {"compositeResponse": [responses[i] for i in range(len(subrequests))]})


def _failed(response: dict[str, Any]) -> bool:
    """A failed subrequest: an error status, or an sObject Collections answer with a failed record."""
    if response["httpStatusCode"] >= 400:
        return True
    body = response.get("body")
    return isinstance(body, list) and any(isinstance(e, dict) and e.get("success") is False for e in body)


def _execution_order(subrequests: list[dict[str, Any]], chaos: random.Random | None) -> list[int]:
    """Request order; under chaos, any order that runs each subrequest after those it references.

    ``collateSubrequests`` (default true from API 49.0) lets Salesforce run unrelated subrequests
    in any order: only an ``@{ref}`` orders two subrequests. With it false there is no chaos.
    """
    if chaos is None:
        return list(range(len(subrequests)))
    position = {sub["referenceId"]: i for i, sub in enumerate(subrequests)}
    needs: list[set[int]] = []
    for i, sub in enumerate(subrequests):
        text = json.dumps([sub.get("url"), sub.get("body")])
        needs.append(
            {
                position[m.group(1)]
                for m in _REF_RE.finditer(text)
                if m.group(1) in position and position[m.group(1)] < i
            }
        )
    done: list[int] = []
    pending = list(range(len(subrequests)))
    while pending:
        ready = [i for i in pending if needs[i] <= set(done)]
        pick = chaos.choice(ready)
        done.append(pick)
        pending.remove(pick)
    return done


def _halted(reference_id: str, message: str) -> dict[str, Any]:
    return {
        "body": [{"errorCode": "PROCESSING_HALTED", "message": message}],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": reference_id,
    }


def _one(
    store: OrgStore, dispatch: Dispatch, sub: dict[str, Any], results: dict[str, Any], version: str, all_or_none: bool
) -> dict[str, Any]:
    """Run one subrequest: its sub-response, plus ``payload`` (what later references read) once it ran."""
    ref = sub["referenceId"]
    nulls = float(version) >= NULL_REFERENCES_SINCE
    try:
        url = _substitute_text(sub["url"], results, nulls, encode=True)
        body = _substitute(sub.get("body"), results, nulls)
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
        if all_or_none and rest == "composite/sobjects":  # the composite's allOrNone wins over the collection's
            if isinstance(body, dict):
                body = {**body, "allOrNone": True}
            query = {**query, "allOrNone": ["true"]}
        with store.transaction():
            result = dispatch(str(sub["method"]).upper(), rest, version, query, headers, body)
    except ApiError as exc:
        return {
            "body": exc.body(),
            "httpHeaders": {},
            "httpStatusCode": exc.status,
            "referenceId": ref,
            "payload": None,
        }
    headers_out = {k: v for k, v in result.headers.items() if k in ("Location", "Last-Modified", "ETag")}
    return {
        "body": result.payload,
        "httpHeaders": headers_out,
        "httpStatusCode": result.status,
        "referenceId": ref,
        "payload": result.payload if result.status < 400 else None,
    }


def _lookup(results: dict[str, Any], name: str, path: str, nulls: bool) -> Any:
    """The value ``@{name<path>}`` names; a field that is null resolves to None when ``nulls`` (API ≥ 52.0)."""
    if name not in results or results[name] is None:
        raise _UnresolvedReference(
            f"Invalid reference specified. No value for {name}{path} found in {name}. "
            f"Provided referenceId ({name}) doesn't exist or wasn't processed before "
            "this subrequest."
        )
    value = results[name]
    present = True
    for step in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        key, position = step
        if value is None:
            present = False
            break
        if key:
            present = isinstance(value, dict) and key in value
            value = value.get(key) if isinstance(value, dict) else None
        else:
            present = isinstance(value, list) and int(position) < len(value)
            value = value[int(position)] if present else None
    if value is None and not (nulls and present):
        raise _UnresolvedReference(f"Invalid reference specified. No value for {name}{path} found in {name}.")
    return value


def _substitute_text(text: str, results: dict[str, Any], nulls: bool, *, encode: bool = False) -> str:
    def replace(match: re.Match[str]) -> str:
        value = _lookup(results, match.group(1), match.group(2), nulls)
        rendered = value if isinstance(value, str) else json.dumps(value)
        return urllib.parse.quote(rendered, safe="") if encode and "?" in text[: match.start()] else rendered

    return _REF_RE.sub(replace, text)


def _substitute(value: Any, results: dict[str, Any], nulls: bool) -> Any:
    if isinstance(value, str):
        whole = _REF_RE.fullmatch(value)
        if whole:
            return _lookup(results, whole.group(1), whole.group(2), nulls)
        return _substitute_text(value, results, nulls)
    if isinstance(value, list):
        return [_substitute(v, results, nulls) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, results, nulls) for k, v in value.items()}
    return value
