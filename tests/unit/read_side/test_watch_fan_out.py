"""The closed-deals watch fans out: one asynchronous per-org watch per org, within the invocation's time."""

from __future__ import annotations

from dataclasses import dataclass, field

from callsync.errors import AwsUnavailable
from callsync.services.watch_closed_deals import DISPATCH_RESERVE_MS, ORG_RESERVE_MS, DispatchOrgWatches
from read_side_fakes import FakeOrgDirectory, opp
from test_watch_closed_deals_service import World, settings


@dataclass
class FakeInvoker:
    """Records the orgs whose watch was started; ``refuse`` names orgs whose start fails."""

    refuse: set[str] = field(default_factory=set)
    started: list[str] = field(default_factory=list)

    def start(self, org_id: str) -> None:
        if org_id in self.refuse:
            raise AwsUnavailable(f"throttled starting {org_id}", code="TooManyRequestsException")
        self.started.append(org_id)


class Clock:
    """The invocation's remaining time, spending ``per_call`` ms each time it is read."""

    def __init__(self, left_ms: int, per_call: int = 0) -> None:
        self.left_ms, self.per_call = left_ms, per_call

    def __call__(self) -> int:
        left = self.left_ms
        self.left_ms -= self.per_call
        return left


def test_every_win_loss_org_gets_its_own_watch() -> None:
    # Given three orgs with win/loss on
    invoker = FakeInvoker()
    dispatch = DispatchOrgWatches(directory=FakeOrgDirectory(["acme", "globex", "initech"]), invoker=invoker)
    # When the dispatcher runs with plenty of time
    result = dispatch.run(remaining_ms=Clock(60_000))
    # Then one watch per org was started, and nothing deferred or failed
    assert invoker.started == ["acme", "globex", "initech"]
    assert result.dispatched == ["acme", "globex", "initech"] and not result.deferred and not result.failed


def test_a_refused_start_is_reported_and_the_other_orgs_still_start() -> None:
    # Given Lambda refuses to start globex's watch
    invoker = FakeInvoker(refuse={"globex"})
    dispatch = DispatchOrgWatches(directory=FakeOrgDirectory(["acme", "globex", "initech"]), invoker=invoker)
    # When the dispatcher runs
    result = dispatch.run(["acme", "globex", "initech"])
    # Then globex is FAILED with the error, the others started
    assert invoker.started == ["acme", "initech"]
    (failed,) = result.failed
    assert (failed.org_id, failed.status) == ("globex", "FAILED") and "AwsUnavailable" in (failed.error or "")


def test_the_dispatcher_stops_starting_watches_when_its_time_runs_out() -> None:
    # Given an invocation that has time for two starts before its reserve
    clock = Clock(DISPATCH_RESERVE_MS + 1_500, per_call=1_000)
    invoker = FakeInvoker()
    dispatch = DispatchOrgWatches(directory=FakeOrgDirectory(["a", "b", "c", "d"]), invoker=invoker)
    # When it runs
    result = dispatch.run(remaining_ms=clock)
    # Then the rest is deferred to the next cycle, not lost silently
    assert result.dispatched == ["a", "b"] == invoker.started
    assert result.deferred == ["c", "d"]


def test_a_watch_does_not_start_an_org_without_time_for_its_cycle() -> None:
    # Given an org with a recent close, and an invocation with less than ORG_RESERVE_MS left
    world = World(settings("acme"))
    world.clock.now = world.clock.now.replace(minute=10)
    world.reader("acme").put(opp("006A", 9))
    service = world.service()
    service.remaining_ms = Clock(ORG_RESERVE_MS - 1)
    # When the watch runs
    result = service.run(["acme"])
    # Then the org is DEFERRED: nothing read, nothing published, the watermark has not moved
    (org,) = result.orgs
    assert org.status == "DEFERRED"
    assert world.reader("acme").queries == [] and world.bus.events == []
    assert world.state.watermark("acme") is None


def test_a_watch_with_time_runs_the_cycle() -> None:
    # Given the same org and enough time
    world = World(settings("acme"))
    world.clock.now = world.clock.now.replace(minute=10)
    world.reader("acme").put(opp("006A", 9))
    service = world.service()
    service.remaining_ms = Clock(ORG_RESERVE_MS + 1)
    # When the watch runs, then the close is published
    (org,) = service.run(["acme"]).orgs
    assert org.status == "OK" and [e.opportunity.id for e in world.bus.events] == ["006A"]


class FakeLambda:
    def __init__(self, error: Exception | None = None, status: int = 202) -> None:
        self.error, self.status, self.calls = error, status, []

    def invoke(self, **kwargs: object) -> dict[str, int]:
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        return {"StatusCode": self.status}


def client_error(code: str, status: int) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "Invoke")  # fmt: skip


def test_the_lambda_invoker_queues_an_asynchronous_event_with_the_org_id() -> None:
    from callsync.adapters.lambda_invoker import LambdaOrgWatchInvoker

    client = FakeLambda()
    LambdaOrgWatchInvoker(client, "arn:aws:lambda:us-east-1:1:function:w:live").start("acme")
    (call,) = client.calls
    assert call["InvocationType"] == "Event" and call["FunctionName"].endswith(":live")
    assert call["Payload"] == b'{"org_id": "acme"}'


def test_the_lambda_invoker_tells_transient_from_permanent_refusals() -> None:
    import pytest
    from callsync.adapters.lambda_invoker import LambdaOrgWatchInvoker
    from callsync.errors import PermanentError

    with pytest.raises(AwsUnavailable):
        LambdaOrgWatchInvoker(FakeLambda(client_error("TooManyRequestsException", 429)), "fn").start("acme")
    with pytest.raises(PermanentError, match="AccessDeniedException"):
        LambdaOrgWatchInvoker(FakeLambda(client_error("AccessDeniedException", 403)), "fn").start("acme")
