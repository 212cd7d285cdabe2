"""The closed-deals dispatcher of the template starts one per-org watch per org through Lambda (local stack)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from callsync_dev.localstack import LocalStack

from tests.support.lambdas import lambda_context

pytestmark = pytest.mark.integration

SCHEDULE = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack() as s:
        yield s


def test_the_dispatcher_invokes_the_org_watcher_alias_once_per_win_loss_org(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two orgs with win/loss on and one without
    for org, enabled in (("acme", True), ("globex", True), ("initech", False)):
        stack.put_settings({"org_id": org, "win_loss": {"enabled": enabled}})
    worker = stack.function("WatchOrgDealsFunction")
    received: list[dict[str, Any]] = []
    run_worker = worker.invoke
    monkeypatch.setattr(worker, "invoke", lambda event: received.append(event) or run_worker(event))
    dispatcher = stack.function("WatchClosedDealsFunction")
    # When the scheduled dispatcher runs (its environment names the watcher's `live` alias)
    assert dispatcher.env["WATCH_ORG_FUNCTION"] == worker.arn + ":live"
    result = dispatcher.handler()(SCHEDULE, lambda_context(dispatcher.name), deps=dispatcher.dependencies())
    # Then each win/loss org got its own asynchronous watch, with its org id
    assert sorted(result["dispatched"]) == ["acme", "globex"]
    assert sorted(e["org_id"] for e in received) == ["acme", "globex"]
    assert result["deferred"] == [] and result["failed"] == []


def test_the_org_watcher_reports_a_disconnected_org_as_failed(stack: LocalStack) -> None:
    # Given an org with win/loss on but no OAuth secret
    stack.put_settings({"org_id": "umbrella", "win_loss": {"enabled": True}})
    # When its watch runs
    org = stack.function("WatchOrgDealsFunction").invoke({"org_id": "umbrella"})
    # Then the cycle is FAILED with the reason, the invocation itself succeeds (no retry, no destination)
    assert org["status"] == "FAILED" and org["error"].startswith("OrgDisconnected")
