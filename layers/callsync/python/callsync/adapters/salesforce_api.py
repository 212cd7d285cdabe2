"""``ports.SalesforceApi`` on simple-salesforce 1.12.10, counting requests like Salesforce does.

One ``SimpleSalesforceApi`` per org per invocation (``Dependencies.salesforce``);
the HTTP session, the token store cache and the refresher are shared.

- Counting: every REST request that gets an answer counts one (a query page,
  a composite, a collections chunk of ≤200 records, a describe), except 401
  (unauthenticated), 5xx (not served) and REQUEST_LIMIT_EXCEEDED; OAuth token
  requests are not REST API requests and never count (``is_charged``).
- Errors: simple-salesforce and requests exceptions go through
  ``salesforce_errors`` (``raise ... from e``); a successful answer that is not the
  documented shape (not JSON, a list where an object belongs, missing keys) is
  ``SalesforceMalformedResponse`` (``salesforce_answers``).
- Usage: every answer's ``Sforce-Limit-Info: api-usage=USED/LIMIT`` (the org's rolling 24-hour count)
  becomes ``api_usage`` (an ``ApiUsage`` reading) and goes to ``on_usage`` when given; the composition
  root stores the latest one per org for the budget guard (``domain.api_budget``).
- Expired session: one refresh (``TokenRefresher``) and one retry of the same
  request; a second 401 is ``SalesforceSessionExpired``.
- Deadline: built with ``remaining_ms`` (the Lambda context's ``get_remaining_time_in_millis``),
  every request's read timeout is cut to the time the function has left minus
  ``DEADLINE_RESERVE_SECONDS``, so a slow Salesforce ends in ``SalesforceUnavailable`` (retried by
  the state machine) before Lambda kills the function; with less than ``MIN_REQUEST_SECONDS`` left,
  no request starts (``SalesforceUnavailable`` at once).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession

from callsync.adapters import salesforce_answers as answers
from callsync.adapters.salesforce_errors import (
    WRITE_METHODS,
    error_items,
    from_requests_exception,
    from_salesforce_exception,
    raise_for_subresponses,
)
from callsync.adapters.token_refresh import RefreshableTokenStore, TokenRefresher, https_instance_url
from callsync.domain.api_budget import parse_limit_info
from callsync.errors import SalesforceSessionExpired, SalesforceUnavailable
from callsync.models.api_budget import ApiUsage

T = TypeVar("T")

MAX_COMPOSITE_SUBREQUESTS = 25
MAX_COLLECTION_RECORDS = 200
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 60.0)  # connect, read (lock waits run up to 10 s)
DEADLINE_RESERVE_SECONDS = 8.0  # left to raise, log and return the error before the function's timeout
MIN_REQUEST_SECONDS = 2.0  # below this, a request could not get an answer in time: do not start it

Timeout = float | tuple[float, float]


def deadline_timeout(
    remaining_ms: Callable[[], int],
    *,
    ceiling: tuple[float, float] = DEFAULT_TIMEOUT,
    reserve_seconds: float = DEADLINE_RESERVE_SECONDS,
) -> Callable[[], Timeout]:
    """Per-request ``(connect, read)`` timeouts that end ``reserve_seconds`` before the function does.

    Raises (when called):
        SalesforceUnavailable: fewer than ``MIN_REQUEST_SECONDS`` are left for the request.
    """

    def timeout() -> Timeout:
        left = remaining_ms() / 1000.0 - reserve_seconds
        if left < MIN_REQUEST_SECONDS:
            raise SalesforceUnavailable(
                f"only {max(left, 0.0) + reserve_seconds:.1f} s left in this invocation: "
                "not starting a Salesforce request (the state machine retries the step)",
                code="deadline",
            )
        connect, read = ceiling
        return (min(connect, left), min(read, left))

    return timeout


def make_session(ca_bundle: str | None = None) -> requests.Session:
    """The shared HTTP session; with a private CA (local emulator) it ignores REQUESTS_CA_BUNDLE."""
    session = requests.Session()
    if ca_bundle:
        session.verify = ca_bundle
        session.trust_env = False
    return session


class _CountingSalesforce(Salesforce):
    """simple-salesforce client that reports each answered REST request to ``on_request``."""

    on_request: Callable[[], None] = staticmethod(lambda: None)
    on_limit_info: Callable[[str | None], None] = staticmethod(lambda header: None)

    def _call_salesforce(
        self, method: str, url: str, name: str = "", retries: int = 0, max_retries: int = 3, **kwargs: Any
    ) -> requests.Response:
        try:
            result = super()._call_salesforce(method, url, name, retries, max_retries, **kwargs)
        except SalesforceError as e:
            if is_charged(e.status, e.content):
                self.on_request()
            raise
        self.on_request()
        self.on_limit_info(result.headers.get("Sforce-Limit-Info"))
        return result


def is_charged(status: int, content: Any) -> bool:
    """Whether Salesforce charges an answered request to the daily allocation.

    Not charged: 401 (unauthenticated), 5xx (not served) and REQUEST_LIMIT_EXCEEDED
    (refused for the limit itself); every other answer, errors included, is.
    """
    if status == 401 or status >= 500:
        return False
    return not any(i.get("errorCode") == "REQUEST_LIMIT_EXCEEDED" for i in error_items(content))


class SimpleSalesforceApi:
    """The Salesforce REST gateway of one org (see module doc)."""

    def __init__(
        self,
        org_id: str,
        *,
        tokens: RefreshableTokenStore,
        refresher: TokenRefresher,
        session: requests.Session,
        api_version: str,
        timeout: Timeout | Callable[[], Timeout] = DEFAULT_TIMEOUT,
        on_usage: Callable[[ApiUsage], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.org_id = org_id
        self.api_requests = 0
        self.api_usage: ApiUsage | None = None  # the latest Sforce-Limit-Info reading of this client
        self._on_usage = on_usage
        self._clock = clock
        self.api_version = api_version
        self._tokens = tokens
        self._refresher = refresher
        self._session = session
        self._timeout = timeout
        self._sf: _CountingSalesforce | None = None
        self._instance_url: str | None = None
        self._identity: str | None = None  # the token's identity URL: .../id/<org id>/<user id>

    # -- connection ---------------------------------------------------------------------------

    @property
    def instance_url(self) -> str:
        """``https://...`` of the org (read from its secret on first use)."""
        self._client()
        assert self._instance_url is not None
        return self._instance_url

    @instance_url.setter
    def instance_url(self, value: str) -> None:
        """Settable only to satisfy ``ports.SalesforceApi``; the org's secret decides it."""
        self._instance_url = value

    @property
    def integration_user_id(self) -> str | None:
        """The User this connection acts as: the last part of the OAuth token's identity URL (``id``),
        read from the org's secret (no Salesforce request); None when the secret does not hold it."""
        self._client()
        user = (self._identity or "").rstrip("/").rsplit("/", 1)[-1]
        return user if user.startswith("005") else None

    @property
    def data_path(self) -> str:
        """``/services/data/vXX.X/``: the prefix of composite subrequest URLs."""
        return f"/services/data/v{self.api_version}/"

    def _count(self) -> None:
        self.api_requests += 1

    def _read_limit_info(self, header: str | None) -> None:
        parsed = parse_limit_info(header)
        if parsed is None:
            return
        self.api_usage = ApiUsage(used=parsed[0], limit=parsed[1], read_at=self._clock())
        if self._on_usage is not None:
            self._on_usage(self.api_usage)

    @property
    def _request_timeout(self) -> Timeout:
        """The timeout of the next request (a deadline's share of the time left, or the fixed one)."""
        return self._timeout() if callable(self._timeout) else self._timeout

    def _client(self) -> _CountingSalesforce:
        if self._sf is None:
            self._connect(self._tokens.get(self.org_id))
        assert self._sf is not None
        return self._sf

    def _connect(self, tokens: dict[str, Any]) -> None:
        instance_url = https_instance_url(str(tokens["instance_url"]))
        sf = _CountingSalesforce(
            instance_url=instance_url,
            session_id=str(tokens["access_token"]),
            session=self._session,
            version=self.api_version,
        )
        sf.on_request = self._count
        sf.on_limit_info = self._read_limit_info
        self._sf = sf
        self._instance_url = instance_url
        self._identity = str(tokens.get("id") or "") or self._identity

    def _call(self, context: str, fn: Callable[[Salesforce], T], *, write: bool | None = None) -> T:
        """Run one REST request; on an expired session refresh once and retry once."""
        sf = self._client()
        try:
            try:
                return fn(sf)
            except SalesforceExpiredSession:
                self._connect(self._refresher.refresh(self.org_id, failed_access_token=sf.session_id))
            try:
                return fn(self._client())
            except SalesforceExpiredSession as e:
                raise SalesforceSessionExpired(
                    f"Salesforce session expired for {context} of org {self.org_id} even after a token refresh",
                    code="INVALID_SESSION_ID",
                ) from e
        except SalesforceError as e:
            raise from_salesforce_exception(e, context, write=write) from e
        except requests.RequestException as e:
            raise from_requests_exception(e, context) from e

    # -- ports.SalesforceApi ------------------------------------------------------------------

    def query(self, soql: str) -> list[dict[str, Any]]:
        """All records of ``soql`` and of their child results; each page is one request.

        Escape values with ``format_soql``.
        """
        context = "query" + _query_object(soql)
        first = self._call(context, lambda sf: sf.query(soql, timeout=self._request_timeout))
        page = answers.query_page(first, context)

        def next_page(url: str) -> dict[str, Any]:
            more = self._call(
                context, lambda sf: sf.query_more(url, identifier_is_url=True, timeout=self._request_timeout)
            )
            return answers.query_page(more, context)

        return all_records(self, page, next_page=next_page)

    def composite(self, subrequests: list[dict[str, Any]], *, all_or_none: bool = False) -> list[dict[str, Any]]:
        """POST composite: one request for ≤25 subrequests.

        A subrequest ``url`` not starting with ``/`` is taken relative to
        ``/services/data/vXX.X/`` (e.g. ``"sobjects/Contact/describe"``,
        ``"query/?q=" + quote(soql)``). Sub-response errors are returned, not
        raised: see ``salesforce_errors.raise_for_subresponse``.
        """
        if not subrequests:
            return []
        if len(subrequests) > MAX_COMPOSITE_SUBREQUESTS:
            raise ValueError(f"a composite request takes at most 25 subrequests, got {len(subrequests)}")
        sent = [{**sub, "url": self._absolute(str(sub["url"]))} for sub in subrequests]
        body = {"allOrNone": all_or_none, "compositeRequest": sent}
        write = any(str(s.get("method", "GET")).upper() in WRITE_METHODS for s in subrequests)
        answer = self._call(
            "composite request",
            lambda sf: sf.restful("composite", method="POST", json=body, timeout=self._request_timeout),
            write=write,
        )
        return answers.composite(answer, sent)

    def create_records(self, records: list[dict[str, Any]], *, all_or_none: bool = False) -> list[dict[str, Any]]:
        """POST composite/sobjects in chunks of 200 (one request each); ``allOrNone`` holds per chunk.

        Each record needs ``"attributes": {"type": "Contact"}``.
        """
        return self._collections("POST", records, all_or_none)

    def update_records(self, records: list[dict[str, Any]], *, all_or_none: bool = False) -> list[dict[str, Any]]:
        """PATCH composite/sobjects in chunks of 200; each record needs ``attributes.type`` and ``Id``."""
        for record in records:
            if not record.get("Id"):
                raise ValueError("update_records: every record needs an Id")
        return self._collections("PATCH", records, all_or_none)

    def _collections(self, method: str, records: list[dict[str, Any]], all_or_none: bool) -> list[dict[str, Any]]:
        for record in records:
            if not (record.get("attributes") or {}).get("type"):
                raise ValueError("sObject Collections records need attributes.type")
        results: list[dict[str, Any]] = []
        for start in range(0, len(records), MAX_COLLECTION_RECORDS):
            chunk = records[start : start + MAX_COLLECTION_RECORDS]
            types = sorted({str(r["attributes"]["type"]) for r in chunk})
            body = {"allOrNone": all_or_none, "records": chunk}

            def send(sf: Salesforce, payload: dict[str, Any] = body) -> Any:
                return sf.restful("composite/sobjects", method=method, json=payload, timeout=self._request_timeout)

            context = f"{'create' if method == 'POST' else 'update'} of {', '.join(types)} records"
            answer = self._call(context, send, write=True)
            results.extend(answers.save_results(answer, len(chunk), context))
        return results

    def describe(self, object_name: str, *, if_modified_since: str | None = None) -> dict[str, Any] | None:
        """GET sobjects/{name}/describe; ``None`` on 304 Not Modified."""
        headers = {"If-Modified-Since": if_modified_since} if if_modified_since else {}

        def call(sf: Salesforce) -> dict[str, Any] | None:
            try:
                answer = sf.restful(f"sobjects/{object_name}/describe", headers=headers, timeout=self._request_timeout)
            except SalesforceError as e:
                if e.status == 304:  # simple-salesforce treats every status >= 300 as an error
                    return None
                raise
            return answers.describe(answer, f"describe of {object_name}") if answer is not None else None

        return self._call(f"describe of {object_name}", call)

    def describe_global(self) -> dict[str, Any]:
        """GET sobjects (the global describe)."""
        answer = self._call("global describe", lambda sf: sf.restful("sobjects", timeout=self._request_timeout))
        return answers.global_describe(answer, "global describe")

    def read_usage(self) -> ApiUsage:
        """GET limits/ (one request): the org's usage now, from the answer's ``Sforce-Limit-Info``.

        Raises:
            SalesforceMalformedResponse: the answer carries no usage (neither the header nor ``DailyApiRequests``).
        """
        answer = self._call(
            "read of the org's API limits", lambda sf: sf.restful("limits", timeout=self._request_timeout)
        )
        if self.api_usage is None:  # no header: the body's DailyApiRequests say the same
            daily = answer.get("DailyApiRequests") if isinstance(answer, dict) else None
            if not isinstance(daily, dict) or not isinstance(daily.get("Max"), int):
                from callsync.errors import SalesforceMalformedResponse

                raise SalesforceMalformedResponse("GET limits/ answered without DailyApiRequests or Sforce-Limit-Info")
            self._read_limit_info(f"api-usage={int(daily['Max']) - int(daily.get('Remaining', 0))}/{daily['Max']}")
        assert self.api_usage is not None
        return self.api_usage

    # -- helpers ------------------------------------------------------------------------------

    def _absolute(self, url: str) -> str:
        return url if url.startswith("/") else self.data_path + url

    def query_url(self, soql: str) -> str:
        """A composite subrequest URL for ``soql`` (already escaped with ``format_soql``)."""
        return f"{self.data_path}query/?q={quote(soql, safe='')}"


class _Composite(Protocol):
    def composite(self, subrequests: list[dict[str, Any]], *, all_or_none: bool = False) -> list[dict[str, Any]]: ...


MORE_PAGES_PER_COMPOSITE = 5  # query pages per composite (Salesforce allows ≤5 query subrequests)


def all_records(
    api: _Composite, answer: Mapping[str, Any] | None, *, next_page: Callable[[str], Mapping[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Every record of a query answer, with every child relationship result complete.

    ``answer`` is a query page (``{totalSize, done, records, nextRecordsUrl?}``): a top-level
    answer or a composite query sub-response's body. Salesforce pages it, and each child result
    inside its records, on its own, at a batch size it does not guarantee. Further pages are read
    as composite GET subrequests of their ``nextRecordsUrl`` (up to 5 per composite, one request
    each), the parent's own next page through ``next_page`` when given. A page's child results are
    completed before the parent's next page is read: reading the parent's next page invalidates the
    child cursors of the previous one.
    """
    if not answer:
        return []
    records: list[dict[str, Any]] = []
    page: Mapping[str, Any] = answer
    while True:
        batch = [dict(r) for r in page.get("records") or []]
        _complete_children(api, batch)
        records.extend(batch)
        if page.get("done", True) or not page.get("nextRecordsUrl"):
            return records
        url = str(page["nextRecordsUrl"])
        page = next_page(url) if next_page is not None else _more(api, [url])[0]


def _complete_children(api: _Composite, records: list[dict[str, Any]]) -> None:
    """Follow every unfinished child result of ``records`` in place, several cursors per composite."""
    pending: list[tuple[dict[str, Any], str]] = []
    for record in records:
        for key, value in record.items():
            if isinstance(value, Mapping) and isinstance(value.get("records"), list):
                child = {**value, "records": list(value["records"])}
                record[key] = child
                if not child.get("done", True) and child.get("nextRecordsUrl"):
                    pending.append((child, str(child["nextRecordsUrl"])))
    while pending:
        chunk, pending = pending[:MORE_PAGES_PER_COMPOSITE], pending[MORE_PAGES_PER_COMPOSITE:]
        for (child, _), page in zip(chunk, _more(api, [url for _, url in chunk]), strict=True):
            child["records"].extend(page.get("records") or [])
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                child["done"] = True
                child.pop("nextRecordsUrl", None)
            else:
                pending.append((child, str(page["nextRecordsUrl"])))


def _more(api: _Composite, urls: list[str]) -> list[dict[str, Any]]:
    """The next pages at ``urls`` (≤5), read in one composite request."""
    subs = [{"method": "GET", "url": url, "referenceId": f"more{i}"} for i, url in enumerate(urls)]
    answers = {str(a.get("referenceId")): a for a in api.composite(subs)}
    raise_for_subresponses(list(answers.values()), methods={s["referenceId"]: "GET" for s in subs})
    return [dict(answers[s["referenceId"]].get("body") or {}) for s in subs]


def query_subrequest(reference: str, soql: str) -> dict[str, Any]:
    """A composite GET subrequest running ``soql`` (values already escaped with ``format_soql``)."""
    return {"method": "GET", "url": "query/?q=" + quote(soql, safe=""), "referenceId": reference}


def _query_object(soql: str) -> str:
    """`` of Contact`` for a SOQL statement (for messages; never the values)."""
    words = soql.split()
    depth = 0
    for i, word in enumerate(words):
        depth += word.count("(") - word.count(")")
        if depth == 0 and word.upper() == "FROM" and i + 1 < len(words):
            return f" of {words[i + 1].rstrip(')')}"
    return ""
