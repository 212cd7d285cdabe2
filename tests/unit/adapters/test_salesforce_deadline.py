"""Salesforce requests end before the Lambda function does: their timeouts come from its remaining time."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from callsync.adapters.salesforce_api import (
    DEADLINE_RESERVE_SECONDS,
    DEFAULT_TIMEOUT,
    SimpleSalesforceApi,
    deadline_timeout,
    make_session,
)
from callsync.adapters.token_refresh import TokenRefresher
from callsync.errors import RetryableError, SalesforceUnavailable

from tests.support.fakes import FakeTokenStore
from tests.unit.adapters.conftest import INSTANCE, ScriptedHttp


class TimedHttp(ScriptedHttp):
    """ScriptedHttp that also records the timeout each request was sent with."""

    timeouts: list[Any]

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.timeouts.append(kwargs.get("timeout"))
        return super().send(request, **kwargs)


def api_with(remaining: list[int]) -> tuple[SimpleSalesforceApi, TimedHttp]:
    """A gateway whose invocation has ``remaining[0]`` ms left (the test moves the clock)."""
    http = TimedHttp(lambda seen: (200, {"totalSize": 0, "done": True, "records": []}))
    http.timeouts = []
    session = make_session()
    session.mount("https://", http)
    tokens = FakeTokenStore({"acme": {"instance_url": INSTANCE, "access_token": "AT1", "refresh_token": "RT1"}})
    refresher = TokenRefresher(tokens, lambda: {"client_id": "c", "client_secret": "s"}, session,
                               settle_seconds=0, sleep=lambda _s: None)  # fmt: skip
    api = SimpleSalesforceApi("acme", tokens=tokens, refresher=refresher, session=session, api_version="62.0",
                              timeout=deadline_timeout(lambda: remaining[0]))  # fmt: skip
    return api, http


def test_the_read_timeout_ends_well_before_the_function_times_out() -> None:
    # Given an invocation with 20 s left (less than the 60 s default read timeout)
    remaining = [20_000]
    api, http = api_with(remaining)
    # When a query is sent
    api.query("SELECT Id FROM User")
    # Then its read timeout ends DEADLINE_RESERVE_SECONDS before the function would be killed
    ((connect, read),) = http.timeouts
    assert read == pytest.approx(20 - DEADLINE_RESERVE_SECONDS, abs=0.1)
    assert connect == DEFAULT_TIMEOUT[0]


def test_a_fresh_invocation_keeps_the_default_ceiling() -> None:
    # Given a 15-minute invocation
    api, http = api_with([900_000])
    # When a query is sent, then the timeouts are the default ones (never longer)
    api.query("SELECT Id FROM User")
    assert http.timeouts == [DEFAULT_TIMEOUT]


def test_each_request_gets_the_time_left_at_its_start() -> None:
    # Given an invocation whose clock moves between two requests
    remaining = [40_000]
    api, http = api_with(remaining)
    api.query("SELECT Id FROM User")
    remaining[0] = 15_000
    api.query("SELECT Id FROM Contact")
    # Then the second request's read timeout is shorter
    assert [t[1] for t in http.timeouts] == pytest.approx([32, 7], abs=0.1)


def test_no_request_starts_without_time_for_an_answer() -> None:
    # Given an invocation with 9 s left (8 s reserve: 1 s for the request)
    api, http = api_with([9_000])
    # When a query is attempted
    with pytest.raises(SalesforceUnavailable, match="not starting a Salesforce request") as caught:
        api.query("SELECT Id FROM User")
    # Then nothing was sent and the error is one the state machine retries
    assert http.seen == [] and isinstance(caught.value, RetryableError)
    assert api.api_requests == 0
