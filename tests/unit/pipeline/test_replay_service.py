"""ReplayCall: which runs are replayed (FAILED, DEFERRED, timed out or stopped) and how (a fresh execution)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from callsync.models.ledger import Outcome
from callsync.services.replay import NothingToReplay, ReplayCall, ReplayRunning
from callsync.services.start_sync import Message

from tests.unit.pipeline.consumer_doubles import FakeExecutions
from tests.unit.pipeline.test_start_sync_service import Harness, body, demo_event

CALL_KEY = "acme#zoom-8841-2026-06-03#1"


class Inputs:
    """The stored inputs and statuses of the executions the fake started."""

    def __init__(self, executions: FakeExecutions, status: str = "FAILED") -> None:
        self.executions = executions
        self.status = status

    def input_of(self, execution_arn: str) -> dict[str, Any]:
        return self.executions.started[execution_arn.rsplit(":", 1)[-1]]

    def status_of(self, execution_arn: str) -> str:
        return self.status


def delivered(status: str | None, execution_status: str = "FAILED") -> tuple[Harness, ReplayCall]:
    """The demo call delivered once, its run ended ``status`` in the ledger (None: no outcome written)."""
    h = Harness()
    h.service.handle(Message("m-1", body(demo_event())))
    if status is not None:
        h.ledger.record_outcome(CALL_KEY, Outcome(status=status))  # type: ignore[arg-type]
    return h, ReplayCall(h.ledger, Inputs(h.executions, execution_status), h.service)


@pytest.mark.parametrize(("ended", "execution_status"), [("FAILED", "FAILED"), (None, "TIMED_OUT"), (None, "ABORTED")])
def test_a_run_that_did_not_succeed_is_replayed_as_a_fresh_execution(ended, execution_status) -> None:
    # Given the call's run failed, or timed out / was stopped before writing an outcome
    h, replay = delivered(ended, execution_status)
    # When it is replayed
    result = replay.run("acme", "zoom-8841-2026-06-03")
    # Then a new execution starts from the stored call under a replay name, and the ledger records it
    assert result.status == "STARTED" and result.attempt == 1
    assert list(h.executions.started) == ["acme-zoom-8841-2026-06-03-1", "acme-zoom-8841-2026-06-03-1-replay1"]
    assert h.executions.started["acme-zoom-8841-2026-06-03-1-replay1"]["call"]["call_id"] == "zoom-8841-2026-06-03"
    # And a second replay gets the next name
    assert replay.run("acme", "zoom-8841-2026-06-03").attempt == 2


@pytest.mark.parametrize(("ended", "execution_status"), [("SUCCEEDED", "SUCCEEDED"), (None, "RUNNING")])
def test_a_run_that_succeeded_or_still_runs_is_not_replayed(ended, execution_status) -> None:
    # Given the call's run succeeded, or is still running / When a replay is asked / Then nothing starts
    h, replay = delivered(ended, execution_status)
    with pytest.raises(NothingToReplay):
        replay.run("acme", "zoom-8841-2026-06-03")
    assert list(h.executions.started) == ["acme-zoom-8841-2026-06-03-1"]


def test_a_replay_is_refused_while_an_earlier_replay_of_the_revision_still_runs() -> None:
    # Given the call's run ended DEFERRED and a replay of it was started, which is still running: the DEFERRED
    # outcome is older than the replay's start, so it no longer says how the call ended
    h, replay = delivered("DEFERRED", execution_status="RUNNING")
    time.sleep(0.002)  # the ledger stamps to the millisecond: the replay starts after the outcome was written
    first = replay.run("acme", "zoom-8841-2026-06-03")
    assert first.status == "STARTED"
    # When a second replay is asked (the resumer and `callsync replay` at the same time)
    # Then it is refused, naming the running replay, and no second execution starts
    with pytest.raises(ReplayRunning, match="a replay is running: a replay of call zoom-8841-2026-06-03 revision 1"):
        replay.run("acme", "zoom-8841-2026-06-03")
    assert list(h.executions.started) == ["acme-zoom-8841-2026-06-03-1", "acme-zoom-8841-2026-06-03-1-replay1"]


def test_a_replay_that_ended_without_an_outcome_is_replayed_from_its_own_execution() -> None:
    # Given a DEFERRED run whose replay then timed out (it wrote no outcome: the DEFERRED one is stale)
    h, replay = delivered("DEFERRED", execution_status="TIMED_OUT")
    time.sleep(0.002)  # the ledger stamps to the millisecond: the replay starts after the outcome was written
    replay.run("acme", "zoom-8841-2026-06-03")
    # When the call is replayed again / Then the next attempt starts, from the timed-out replay's input
    result = replay.run("acme", "zoom-8841-2026-06-03")
    assert (result.status, result.replayed_status, result.attempt) == ("STARTED", "TIMED_OUT", 2)
    assert "acme-zoom-8841-2026-06-03-1-replay2" in h.executions.started
