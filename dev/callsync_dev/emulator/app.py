"""The emulated Salesforce REST API, independent of the HTTP transport.

``App.handle`` takes one HTTP request and answers it: OAuth endpoints, then for data endpoints
faults, session check, the API allocation, and routing. ``App.dispatch`` answers one data request
without counting or authenticating it; composite subrequests go through it.
"""

from __future__ import annotations

import html
import json
import logging
import random
import secrets
import threading
import time
import urllib.parse
from collections import OrderedDict
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from callsync_dev.emulator import collections as sobject_collections
from callsync_dev.emulator import composite, conditional
from callsync_dev.emulator.errors import ApiError, not_found, request_error
from callsync_dev.emulator.fixture import OrgSettings
from callsync_dev.emulator.limits import ApiMeter, FaultInjector, RawAnswer
from callsync_dev.emulator.messages import (
    MAX_URI_BYTES,
    Request,
    Response,
    Result,
    allows_duplicates,
    uri_too_long,
)
from callsync_dev.emulator.oauth import OAuthError, TokenBook
from callsync_dev.emulator.soql import SoqlError, nodes, parse, run_query
from callsync_dev.emulator.store import OrgStore
from callsync_dev.emulator.values import dumps

API_VERSIONS = [f"{v}.0" for v in range(31, 65)]
_RELEASES = {62: "Winter '25", 63: "Spring '25", 64: "Summer '25", 61: "Summer '24", 60: "Spring '24", 59: "Winter '24"}
log = logging.getLogger(__name__)
CDL_RESTRICTION = (
    "Implementation restriction: ContentDocumentLink requires a filter by a single Id on "
    "ContentDocumentId or LinkedEntityId using the equals operator or multiple Id's using the IN "
    "operator."
)


class App:
    def __init__(self, store: OrgStore, settings: OrgSettings, *, auto_approve: bool = True) -> None:
        self.store = store
        self.settings = settings
        self.auto_approve = auto_approve
        self.instance_url = "https://127.0.0.1"
        self.meter = ApiMeter(settings.api_limit, settings.api_usage)
        self.faults = FaultInjector(settings.faults)
        self.tokens = TokenBook(
            store.org_id,
            session_expires_after=settings.session_expires_after,
            refresh_token_revoked=settings.refresh_token_revoked,
            rotate_refresh_tokens=settings.rotate_refresh_tokens,
        )
        self.schema_modified = datetime.now(UTC).replace(microsecond=0)
        self._cursors: OrderedDict[str, tuple[list[dict[str, Any]], int, int, bool]] = OrderedDict()
        self._children_of: dict[str, list[str]] = {}  # parent cursor -> child cursors of its latest page
        self._cursor_lock = threading.Lock()
        self.chaos = (
            random.Random(settings.chaos_seed)  # noqa: S311 - reproducible test chaos, not crypto
            if settings.chaos_seed is not None
            else None
        )
        if settings.chaos_seed is not None:
            log.warning(
                "emulator chaos switch on, seed %d (replay: CALLSYNC_EMULATOR_CHAOS=%d)",
                settings.chaos_seed,
                settings.chaos_seed,
            )
        parse("SELECT Id FROM User")  # builds the SOQL parser now, not during the first API request

    # ------------------------------------------------------------------ top level -----------------
    def handle(self, request: Request) -> Response:
        path = request.path
        if request.target_length > MAX_URI_BYTES:
            return self._error_response(uri_too_long())
        fault = self.faults.check(request.method, path)
        if fault is not None:
            return self._error_response(fault)
        if path.startswith("/services/oauth2/"):
            return self._oauth(request)
        if path.startswith("/id/"):
            return self._identity(request)
        if path.rstrip("/") == "/services/data":
            if request.method != "GET":
                return self._error_response(_method_not_allowed(request.method, "GET"))
            return self._json(
                200,
                [
                    {"label": _RELEASES.get(int(float(v)), f"v{v}"), "url": f"/services/data/v{v}", "version": v}
                    for v in API_VERSIONS
                ],
            )
        if not path.startswith("/services/data/v"):
            return self._error_response(not_found())
        token = _bearer(request.headers.get("authorization"))
        if not self.tokens.use_access_token(token):
            return self._error_response(request_error(401, "INVALID_SESSION_ID", "Session expired or invalid"))
        try:
            self.meter.charge()
        except ApiError as exc:
            return self._error_response(exc)
        with self.meter.in_flight():
            if self.settings.latency_ms:
                time.sleep(self.settings.latency_ms / 1000)
            return self._data_request(request, path)

    def _data_request(self, request: Request, path: str) -> Response:
        version, _, rest = path[len("/services/data/v") :].partition("/")
        try:
            body = _parse_body(request)
            if version not in API_VERSIONS:
                raise not_found()
            result = self.dispatch(request.method, rest.rstrip("/"), version, request.query, request.headers, body)
        except ApiError as exc:
            result = Result(exc.status, exc.body())
        return self._result_response(result)

    def _result_response(self, result: Result) -> Response:
        headers = {"Sforce-Limit-Info": self.meter.header(), **result.headers}
        if result.payload is None:
            return Response(result.status, b"", headers)
        headers["Content-Type"] = "application/json;charset=UTF-8"
        return Response(result.status, dumps(result.payload), headers)

    def _error_response(self, exc: ApiError) -> Response:
        headers = {"Content-Type": "application/json;charset=UTF-8", "Sforce-Limit-Info": self.meter.header()}
        if isinstance(exc, RawAnswer):  # a fault with its own "body" (e.g. a garbled 200)
            return Response(exc.status, exc.raw, headers)
        return Response(exc.status, dumps(exc.body()), headers)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        return Response(status, dumps(payload), {"Content-Type": "application/json;charset=UTF-8", **(headers or {})})

    # ------------------------------------------------------------------ routing -------------------
    def dispatch(
        self, method: str, rest: str, version: str, query: dict[str, list[str]], headers: dict[str, str], body: Any
    ) -> Result:
        """Answer one data request (path relative to ``/services/data/vXX.X/``). Raises ApiError."""
        parts = [urllib.parse.unquote(p) for p in rest.split("/")] if rest else []
        method = method.upper()
        if not parts:
            _allow(method, "GET")
            return Result(
                200,
                {
                    name: f"/services/data/v{version}/{name}"
                    for name in ("sobjects", "query", "queryAll", "composite", "limits", "search", "tooling")
                },
            )
        head = parts[0]
        if head == "sobjects":
            return self._sobjects(method, parts[1:], version, query, headers, body)
        if head in ("query", "queryAll") and len(parts) <= 2:
            _allow(method, "GET")
            if len(parts) == 2:
                return self._next_page(parts[1], version)
            text = (query.get("q") or [""])[0]
            return self._query(text, version, include_deleted=head == "queryAll")
        if head == "composite" and len(parts) == 1:
            _allow(method, "POST")
            return composite.run(self.store, self.dispatch, version, body, chaos=self.chaos)
        if head == "composite" and len(parts) >= 2 and parts[1] == "sobjects" and len(parts) <= 3:
            return sobject_collections.run(self.store, method, parts[2:], version, query, body, headers)
        if head == "limits" and len(parts) == 1:
            _allow(method, "GET")
            return Result(200, self._limits())
        raise not_found()

    def _sobjects(
        self,
        method: str,
        parts: list[str],
        version: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Any,
    ) -> Result:
        store = self.store
        if not parts:
            _allow(method, "GET")
            return self._if_modified(headers, lambda: store.schema.global_describe(version))
        od = store.schema.visible(parts[0])
        if od is None:
            raise not_found()
        if len(parts) == 1:
            if method == "GET":
                describe = store.schema.describe(od.name, version)
                return Result(
                    200,
                    {
                        "objectDescribe": {
                            k: v for k, v in describe.items() if k not in ("fields", "childRelationships")
                        },
                        "recentItems": [],
                    },
                )
            _allow(method, "GET", "POST")
            record_id = store.create(od.name, _object_body(body), allow_save=allows_duplicates(headers))
            return Result(
                201,
                {"id": record_id, "success": True, "errors": []},
                {"Location": f"/services/data/v{version}/sobjects/{od.name}/{record_id}"},
            )
        if len(parts) == 2 and parts[1] == "describe":
            _allow(method, "GET")
            return self._if_modified(headers, lambda: store.schema.describe(od.name, version))
        if len(parts) == 2:
            record_id = parts[1]
            tagged = od.name in conditional.ETAG_OBJECTS
            if method == "GET":
                fields_param = (query.get("fields") or [""])[0]
                fields = [f.strip() for f in fields_param.split(",") if f.strip()] or None
                with store.lock:
                    record = store.get_record(od.name, record_id, fields, version)
                    if not tagged:
                        return Result(200, record)
                    tag = conditional.entity_tag(store.get_record(od.name, record_id, None, version))
                    if conditional.check(method, od.name, headers, tag):
                        return Result(304, None, {"ETag": tag})
                    return Result(200, record, {"ETag": tag})
            if method == "PATCH":
                if not tagged:
                    store.update(od.name, record_id, _object_body(body))
                    return Result(204)
                with store.lock:
                    before = conditional.entity_tag(store.get_record(od.name, record_id, None, version))
                    conditional.check(method, od.name, headers, before)
                    store.update(od.name, record_id, _object_body(body))
                    return Result(
                        204, None, {"ETag": conditional.entity_tag(store.get_record(od.name, record_id, None, version))}
                    )
            if method == "DELETE":
                store.delete(od.name, record_id)
                return Result(204)
            raise _method_not_allowed(method, "GET", "PATCH", "DELETE")
        raise not_found()

    def _if_modified(self, headers: dict[str, str], build: Any) -> Result:
        last_modified = format_datetime(self.schema_modified, usegmt=True)
        since = headers.get("if-modified-since")
        if since:
            try:
                when = parsedate_to_datetime(since)
            except (TypeError, ValueError):
                when = None
            if when is not None and when.tzinfo is not None and when >= self.schema_modified:
                return Result(304, None, {"Last-Modified": last_modified})
        with self.store.lock:
            return Result(200, build(), {"Last-Modified": last_modified})

    # ------------------------------------------------------------------ query ---------------------
    def _query(self, text: str, version: str, *, include_deleted: bool) -> Result:
        if not text.strip():
            raise request_error(400, "MALFORMED_QUERY", "unexpected token: <EOF>")
        try:
            parsed = parse(text)
            if parsed.object_name.lower() == "contentdocumentlink" and not _filters_cdl(parsed.where):
                raise request_error(400, "MALFORMED_QUERY", CDL_RESTRICTION)
            with self.store.lock:
                result = run_query(text, self.store, include_deleted=include_deleted, api_version=version)
        except SoqlError as exc:
            raise request_error(400, exc.error_code, exc.message) from None
        return Result(
            200,
            self._page(result.records, result.total_size, 0, version, None, self.settings.query_batch_size, top=True),
        )

    def _batch_size(self, configured: int) -> int:
        """The size of the next page: the configured batch, or a small irregular one under chaos."""
        if self.chaos is None:
            return configured
        with self._cursor_lock:
            return self.chaos.randint(1, 3)

    def _page_children(self, record: dict[str, Any], version: str, owner: str | None) -> dict[str, Any]:
        """Page each child relationship result of ``record`` on its own (``done: false`` + ``nextRecordsUrl``).

        The child cursors belong to the parent's cursor ``owner``: reading the parent's next page
        invalidates them, as Salesforce does.
        """
        out = dict(record)
        for key, value in record.items():
            if isinstance(value, dict) and isinstance(value.get("records"), list) and "done" in value:
                children = value["records"]
                out[key] = self._page(
                    children,
                    int(value.get("totalSize", len(children))),
                    0,
                    version,
                    None,
                    self.settings.child_batch_size,
                    owner=owner,
                )
        return out

    def _page(
        self,
        records: list[dict[str, Any]],
        total: int,
        start: int,
        version: str,
        locator: str | None,
        batch: int,
        *,
        top: bool = False,
        owner: str | None = None,
    ) -> dict[str, Any]:
        size = max(1, self._batch_size(batch))
        page = records[start : start + size]
        done = start + size >= len(records)
        with self._cursor_lock:
            if locator is not None:  # the previous page's child cursors die with this read
                for child in self._children_of.pop(locator, []):
                    self._cursors.pop(child, None)
            if locator is None and (not done or top):
                locator = "01g" + secrets.token_hex(8)
                if not done:
                    self._cursors[locator] = (records, total, batch, top)
                    if owner is not None:
                        self._children_of.setdefault(owner, []).append(locator)
                    while len(self._cursors) > 1000:
                        self._cursors.popitem(last=False)
        if top:
            page = [self._page_children(record, version, locator) for record in page]
        out: dict[str, Any] = {"totalSize": total, "done": done, "records": page}
        if not done:
            out["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{start + size}"
        return out

    def _next_page(self, token: str, version: str) -> Result:
        locator, _, offset = token.rpartition("-")
        with self._cursor_lock:
            cursor = self._cursors.get(locator)
        if cursor is None or not offset.isdigit():
            raise request_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        records, total, batch, top = cursor
        return Result(200, self._page(records, total, int(offset), version, locator, batch, top=top))

    def _limits(self) -> dict[str, Any]:
        remaining = max(self.meter.limit - self.meter.total, 0)
        return {
            "DailyApiRequests": {"Max": self.meter.limit, "Remaining": remaining},
            "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DataStorageMB": {"Max": 5, "Remaining": 5},
            "FileStorageMB": {"Max": 20, "Remaining": 20},
            "HourlyODataCallout": {"Max": 10000, "Remaining": 10000},
            "SingleEmail": {"Max": 15, "Remaining": 15},
        }

    # ------------------------------------------------------------------ OAuth ---------------------
    def _oauth(self, request: Request) -> Response:
        endpoint = request.path.rstrip("/").rsplit("/", 1)[-1]
        try:
            if endpoint == "token":
                if request.method != "POST":
                    raise OAuthError("invalid_request", "must use HTTP POST")
                form = _form(request.body)
                payload = self.tokens.token(form, self.instance_url, self.store.integration_user_id)
                return self._json(200, payload)
            if endpoint == "authorize":
                return self._authorize(request)
            if endpoint == "revoke":
                token = _form(request.body).get("token") or request.param("token") or ""
                self.tokens.revoke(token)
                return Response(200)
            if endpoint == "userinfo":
                return self._identity(request)
        except OAuthError as exc:
            return self._json(exc.status, {"error": exc.error, "error_description": exc.description})
        return self._error_response(not_found())

    def _authorize(self, request: Request) -> Response:
        params = {k: v[0] for k, v in request.query.items()}
        if request.method == "POST":
            params.update(_form(request.body))
        if self.auto_approve or (request.method == "POST" and params.get("approve") == "1"):
            location = self.tokens.authorize(params)
            return Response(302, b"", {"Location": location})
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
        )
        page = (
            f"<!doctype html><title>Allow Access?</title><form method=post>{hidden}"
            '<input type="hidden" name="approve" value="1"><button>Allow</button></form>'
        )
        return Response(200, page.encode(), {"Content-Type": "text/html;charset=UTF-8"})

    def _identity(self, request: Request) -> Response:
        if not self.tokens.is_valid(_bearer(request.headers.get("authorization"))):
            return Response(403, b"Bad_OAuth_Token", {"Content-Type": "text/plain"})
        user = self.store.tables["User"].get(self.store.integration_user_id, {})
        return self._json(
            200,
            {
                "id": f"{self.instance_url}/id/{self.store.org_id}/{user.get('Id')}",
                "user_id": user.get("Id"),
                "organization_id": self.store.org_id,
                "username": user.get("Username"),
                "email": user.get("Email"),
                "display_name": user.get("Name"),
                "active": True,
                "urls": {"rest": f"{self.instance_url}/services/data/v{{version}}/"},
            },
        )


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() in ("bearer", "oauth") else None


def _form(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace")).items()}


def _parse_body(request: Request) -> Any:
    if not request.body or request.method in ("GET", "DELETE", "HEAD"):
        return None
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise request_error(400, "JSON_PARSER_ERROR", f"Unexpected character: {exc}") from None


def _object_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(
            400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from a value that is not a JSON object"
        )
    return body


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise _method_not_allowed(method, *allowed)


def _method_not_allowed(method: str, *allowed: str) -> ApiError:
    return request_error(
        405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {','.join(allowed)}"
    )


def _filters_cdl(condition: Any) -> bool:
    """Whether Salesforce accepts a ContentDocumentLink WHERE.

    It must pin ContentDocumentId or LinkedEntityId (``=`` or ``IN``, not negated) at its top
    level; a filter on any other field (``ContentDocument.Title``, ``ShareType``) is accepted only
    next to ``LinkedEntityId = <one id>``.
    """
    if condition is None:
        return False
    items = condition.items if isinstance(condition, nodes.And) else (condition,)
    pinned = False
    entity_equals = False
    for item in items:
        if not isinstance(item, nodes.Comparison | nodes.InList | nodes.InSubquery) or getattr(item, "negated", False):
            continue
        if isinstance(item, nodes.Comparison) and item.op != "=":
            continue
        name = item.field.parts[-1].lower() if len(item.field.parts) == 1 else ""
        if name in ("contentdocumentid", "linkedentityid"):
            pinned = True
            entity_equals = entity_equals or (name == "linkedentityid" and isinstance(item, nodes.Comparison))
    if not pinned:
        return False
    return entity_equals or all(path in _CDL_ID_FIELDS for path in _filtered_fields(condition))


_CDL_ID_FIELDS = {("id",), ("contentdocumentid",), ("linkedentityid",)}


def _filtered_fields(condition: Any) -> list[tuple[str, ...]]:
    """The field paths (lower-cased) a WHERE condition filters on."""
    if isinstance(condition, nodes.And | nodes.Or):
        return [path for item in condition.items for path in _filtered_fields(item)]
    if isinstance(condition, nodes.Not):
        return _filtered_fields(condition.item)
    field_path = getattr(condition, "field", None)
    return [tuple(p.lower() for p in field_path.parts)] if field_path is not None else []
