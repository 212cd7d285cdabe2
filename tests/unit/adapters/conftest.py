"""A scripted HTTP transport for the Salesforce gateway's unit tests (no network)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from callsync.adapters.salesforce_api import SimpleSalesforceApi, make_session
from callsync.adapters.token_refresh import TokenRefresher
from requests.adapters import BaseAdapter

from tests.support.fakes import FakeTokenStore

INSTANCE = "https://acme.my.salesforce.test"
Reply = tuple[int, Any] | tuple[int, Any, dict[str, str]]


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class ScriptedHttp(BaseAdapter):
    """Answers each request with ``handler(seen)``; records every request."""

    handler: Callable[[Seen], Reply] = lambda seen: (500, [{"errorCode": "NO_HANDLER", "message": "x"}])
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        raw = request.body
        body: Any = None
        if raw:
            text = raw.decode() if isinstance(raw, bytes) else raw
            try:
                body = json.loads(text)
            except ValueError:
                body = parse_qs(text)
        seen = Seen(request.method or "", parts.path, parse_qs(parts.query), dict(request.headers), body)
        self.seen.append(seen)
        reply = self.handler(seen)
        status, payload = reply[0], reply[1]
        headers = reply[2] if len(reply) > 2 else {}  # type: ignore[misc]
        response = requests.Response()
        response.status_code = status
        response.url = request.url or ""
        response.request = request
        response.headers.update({"Content-Type": "application/json", **headers})
        if isinstance(payload, bytes):  # a raw body, e.g. one that is not JSON
            response._content = payload
        else:
            response._content = b"" if payload is None else json.dumps(payload).encode()
        return response

    def close(self) -> None:
        return None

    def rest(self) -> list[Seen]:
        """REST API requests only (not OAuth)."""
        return [s for s in self.seen if s.path.startswith("/services/data/")]


@dataclass
class Gateway:
    api: SimpleSalesforceApi
    http: ScriptedHttp
    tokens: FakeTokenStore
    refresher: TokenRefresher


@pytest.fixture
def gateway() -> Callable[..., Gateway]:
    def build(handler: Callable[[Seen], Reply], **secret: Any) -> Gateway:
        http = ScriptedHttp(handler)
        session = make_session()
        session.mount("https://", http)
        tokens = FakeTokenStore(
            {"acme": {"instance_url": INSTANCE, "access_token": "AT1", "refresh_token": "RT1", **secret}}
        )
        refresher = TokenRefresher(
            tokens,
            lambda: {"client_id": "cid", "client_secret": "csecret"},
            session,
            settle_seconds=0,
            sleep=lambda _s: None,
        )
        api = SimpleSalesforceApi("acme", tokens=tokens, refresher=refresher, session=session, api_version="62.0")
        return Gateway(api, http, tokens, refresher)

    return build
