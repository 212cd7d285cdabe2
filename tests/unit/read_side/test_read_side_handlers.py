"""The read-side handlers' own behaviour (the rest is exercised end to end against the emulator)."""

from __future__ import annotations

import pytest
from callsync.errors import InvalidEvent

from tests.support.lambdas import lambda_context, load_function


@pytest.mark.parametrize(
    "event",
    [{}, {"org_id": ""}, {"org_id": "acme", "at": "not a time"}, {"org_id": "acme", "at": "2026-11-25T15:00:00"}],
)  # naive: no offset
def test_an_invalid_context_request_is_an_invalid_event_naming_the_field(event):
    # Given a malformed invoke payload / When the handler runs (no dependencies are built for it)
    with pytest.raises(InvalidEvent) as raised:
        load_function("crm_context").handler(event, lambda_context("crm-context"))
    # Then the error names what is wrong
    assert "invalid deal context request" in str(raised.value)
    assert ("org_id" in str(raised.value)) or ("at" in str(raised.value))


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # it fails before any metric
@pytest.mark.parametrize("event", [{}, {"org_id": ""}, {"org_id": 7}, {"org_ids": ["acme"]}])
def test_the_per_org_watch_needs_one_org_id(event):
    # Given an asynchronous invoke without a usable org id / When the per-org watcher runs
    with pytest.raises(InvalidEvent, match="org_id"):
        load_function("watch_org_deals").handler(event, lambda_context("watch-org-deals"))
    # Then it fails as an invalid event (the invocation lands in the on-failure queue with it)
