"""CheckApiBudget (the state machine's first step) and ResumeDeferred (the scheduled resumer), with fakes."""

from __future__ import annotations

import json
from pathlib import Path

from callsync.models.api_budget import ApiUsage, Reservation
from callsync.models.settings import OrgSettings
from callsync.services.api_budget import BudgetInput, CheckApiBudget, ResumeDeferred

from tests.support.fakes import FakeApiUsageStore, FakeDeferredCalls, FakeLedger, FakeSettingsStore

ROOT = Path(__file__).resolve().parents[3]
CALL = json.loads((ROOT / "events/demo_event.json").read_text())
SETTINGS = OrgSettings.model_validate({"org_id": "acme", "internal_domains": ["acme.io"]})
NOW = 1_000_000.0


class Salesforce:
    """GET limits/ answers: the org's usage now; counts the reads."""

    def __init__(self, used: int, limit: int = 15_000) -> None:
        self.used, self.limit, self.reads = used, limit, 0

    def read_usage(self) -> ApiUsage:
        self.reads += 1
        self.used += 1  # the read is a request too
        return ApiUsage(used=self.used, limit=self.limit, read_at=NOW)


def guard(stored: ApiUsage | None, salesforce: Salesforce) -> tuple[CheckApiBudget, FakeDeferredCalls, FakeLedger]:
    usage = FakeApiUsageStore({"acme": stored} if stored else {})
    deferred, ledger = FakeDeferredCalls(), FakeLedger()
    return CheckApiBudget(usage, deferred, ledger, salesforce.read_usage, clock=lambda: NOW), deferred, ledger


def budget_input(execution_name: str = "acme-zoom-8841-2026-06-03-1") -> BudgetInput:
    return BudgetInput(call=CALL, settings=SETTINGS, execution_name=execution_name)


def test_a_fresh_stored_reading_with_room_costs_no_request() -> None:
    # Given a reading taken a minute ago: 5,000 of 15,000 used
    salesforce = Salesforce(used=5_000)
    check, deferred, ledger = guard(ApiUsage(used=5_000, limit=15_000, read_at=NOW - 60), salesforce)
    # When a call is checked / Then it runs, and Salesforce was not asked
    result = check.run(budget_input())
    assert not result.deferred and result.api_requests == 0 and salesforce.reads == 0
    assert deferred.list("acme") == [] and ledger.entries("acme#zoom-8841-2026-06-03#1") == []


def test_without_a_fresh_reading_the_guard_reads_the_usage_once_and_records_what_it_cost() -> None:
    # Given a reading from an hour ago, and the org now near the share
    salesforce = Salesforce(used=11_995)
    check, deferred, ledger = guard(ApiUsage(used=2_000, limit=15_000, read_at=NOW - 3_600), salesforce)
    # When a call is checked
    result = check.run(budget_input())
    # Then the usage was read once, the call is held and listed for the resumer, and the read is in the ledger
    assert salesforce.reads == 1 and result.deferred and result.used == 11_996
    assert deferred.list("acme") == ["zoom-8841-2026-06-03"]
    (entry,) = ledger.entries("acme#zoom-8841-2026-06-03#1")
    assert entry.report is not None and (entry.report.step, entry.report.api_requests) == ("CheckApiBudget", 1)


def test_a_new_call_held_by_a_fresh_reading_does_not_ask_salesforce_again() -> None:
    # Given a fresh reading at the share
    salesforce = Salesforce(used=12_000)
    check, _, _ = guard(ApiUsage(used=12_000, limit=15_000, read_at=NOW - 30), salesforce)
    # When a first delivery is checked / Then it is held on the stored reading: no request spent past the share
    assert check.run(budget_input()).deferred and salesforce.reads == 0


def test_a_replay_held_by_the_stored_reading_asks_salesforce_whether_the_window_freed() -> None:
    # Given a fresh reading at the share, but the rolling window has freed since
    salesforce = Salesforce(used=4_000)
    check, _, _ = guard(ApiUsage(used=12_000, limit=15_000, read_at=NOW - 30), salesforce)
    # When a replay of the call is checked / Then the usage is read again and the call runs
    result = check.run(budget_input("acme-zoom-8841-2026-06-03-1-replay2"))
    assert salesforce.reads == 1 and not result.deferred and result.used == 4_001


def resumer(
    stored: ApiUsage | None, held: list[str], *, leaves_list: bool = True
) -> tuple[ResumeDeferred, list[tuple[str, str]], FakeDeferredCalls]:
    deferred = FakeDeferredCalls()
    for i, call in enumerate(held):
        deferred.add("acme", call, NOW + i)
    replayed: list[tuple[str, str]] = []
    service = ResumeDeferred(
        clock=lambda: NOW,
        orgs=lambda: ["acme", "quiet"],
        settings=FakeSettingsStore([SETTINGS]),
        usage=FakeApiUsageStore({"acme": stored} if stored else {}),
        deferred=deferred,
        replay=lambda org, call: replayed.append((org, call)) is None and leaves_list,
    )
    return service, replayed, deferred


def test_the_resumer_replays_as_many_held_calls_as_the_room_fits_oldest_first() -> None:
    # Given 5 held calls and room for 3 (12,000 allowed less 96 for reads, 11,874 used: 30 requests = 3 estimates)
    service, replayed, deferred = resumer(ApiUsage(used=11_874, limit=15_000, read_at=NOW), list("abcde"))
    # When the schedule fires
    (result,) = service.run()
    # Then the three oldest are replayed and taken off the list; the others wait for the next tick
    assert replayed == [("acme", "a"), ("acme", "b"), ("acme", "c")]
    assert (result.held, result.replayed) == (5, ["a", "b", "c"]) and deferred.list("acme") == ["d", "e"]


def test_with_no_room_and_an_old_reading_the_resumer_replays_one_call_to_take_a_fresh_reading() -> None:
    # Given held calls and a reading at the share, 20 minutes old
    service, replayed, _ = resumer(ApiUsage(used=12_000, limit=15_000, read_at=NOW - 1_200), ["a", "b"])
    # When the schedule fires / Then one call goes (its guard reads the usage again); orgs with none held are skipped
    (result,) = service.run()
    assert replayed == [("acme", "a")] and result.org_id == "acme" and result.share_used == 1.0


def test_with_no_room_and_a_fresh_reading_the_resumer_spends_nothing() -> None:
    # Given held calls and a reading at the share taken a minute ago
    service, replayed, deferred = resumer(ApiUsage(used=12_000, limit=15_000, read_at=NOW - 60), ["a", "b"])
    # When the schedule fires / Then nothing is replayed, and both stay held
    (result,) = service.run()
    assert replayed == [] and result.replayed == [] and deferred.list("acme") == ["a", "b"]


def test_one_tick_replays_at_most_two_hundred_calls_of_an_org() -> None:
    # Given 300 held calls and room for far more
    held = [f"c{i:03d}" for i in range(300)]
    service, replayed, deferred = resumer(ApiUsage(used=0, limit=15_000, read_at=NOW), held)
    # When the schedule fires / Then the 200 oldest go now and the rest at the next tick
    (result,) = service.run()
    assert len(replayed) == 200 and result.replayed == held[:200] and deferred.list("acme") == held[200:]


def test_a_replay_that_fails_to_start_leaves_the_call_held_and_the_other_calls_go_on() -> None:
    # Given two held calls with room, and StartExecution throttled for the first
    deferred = FakeDeferredCalls()
    deferred.add("acme", "c1", NOW - 100)
    deferred.add("acme", "c2", NOW - 50)
    started: list[str] = []

    def replay(org: str, call: str) -> bool:
        if call == "c1":
            raise RuntimeError("ThrottlingException from StartExecution")
        started.append(call)
        return True

    service = ResumeDeferred(
        clock=lambda: NOW,
        orgs=lambda: ["acme"],
        settings=FakeSettingsStore([SETTINGS]),
        usage=FakeApiUsageStore({"acme": ApiUsage(used=100, limit=15_000, read_at=NOW - 10)}),
        deferred=deferred,
        replay=replay,
    )
    # When the schedule fires
    (result,) = service.run()
    # Then the failed call stays held for the next tick (its outcome is still DEFERRED), named in the result,
    # and the next call is replayed and leaves the list
    assert deferred.list("acme") == ["c1"] and started == ["c2"] and result.replayed == ["c2"]
    assert result.errors == ["c1: RuntimeError: ThrottlingException from StartExecution"]


def test_one_org_with_invalid_settings_does_not_stop_the_others() -> None:
    # Given two orgs with held calls and room; the first org's settings cannot be read
    deferred = FakeDeferredCalls()
    deferred.add("broken", "b1", NOW)
    deferred.add("acme", "a1", NOW)
    replayed: list[tuple[str, str]] = []
    room = ApiUsage(used=100, limit=15_000, read_at=NOW - 10)
    service = ResumeDeferred(
        clock=lambda: NOW,
        orgs=lambda: ["broken", "acme"],
        settings=FakeSettingsStore([SETTINGS]),  # no settings for "broken": SettingsNotFound
        usage=FakeApiUsageStore({"acme": room, "broken": room}),
        deferred=deferred,
        replay=lambda org, call: replayed.append((org, call)) is None,
    )
    # When the schedule fires
    broken, acme = service.run()
    # Then the broken org is reported and keeps its call held; the other org's call is replayed
    assert broken.org_id == "broken" and broken.errors and broken.errors[0].startswith("broken: SettingsNotFound")
    assert deferred.list("broken") == ["b1"]
    assert replayed == [("acme", "a1")] and acme.replayed == ["a1"] and deferred.list("acme") == []


def test_a_call_whose_replay_is_still_running_stays_held() -> None:
    # Given a held call a replay of which (started by hand) is still running
    # (ReplayCall refuses it: the replay function answers that the call does not leave the list)
    service, replayed, deferred = resumer(ApiUsage(used=100, limit=15_000, read_at=NOW), ["a"], leaves_list=False)
    # When the schedule fires / Then it stays held and is reported as running, not as replayed
    (result,) = service.run()
    assert replayed == [("acme", "a")] and result.running == ["a"] and result.replayed == []
    assert deferred.list("acme") == ["a"]


def test_the_resumer_starts_no_replay_when_its_invocation_is_about_to_time_out() -> None:
    # Given four held calls with room, and an invocation with 12 s left that each replay uses 1 s of
    held = ["a", "b", "c", "d"]
    deferred = FakeDeferredCalls()
    for i, call in enumerate(held):
        deferred.add("acme", call, NOW + i)
    left = [12_000]

    def replay(org: str, call: str) -> bool:
        left[0] -= 1_000
        return True

    service = ResumeDeferred(
        clock=lambda: NOW,
        orgs=lambda: ["acme"],
        settings=FakeSettingsStore([SETTINGS]),
        usage=FakeApiUsageStore({"acme": ApiUsage(used=100, limit=15_000, read_at=NOW)}),
        deferred=deferred,
        replay=replay,
        remaining_ms=lambda: left[0],
    )
    # When the schedule fires
    (result,) = service.run()
    # Then it stops while 10 s are left (MIN_REMAINING_MS); the rest stay held for the next tick
    assert result.replayed == ["a", "b", "c"] and deferred.list("acme") == ["d"]


def test_past_a_thousand_live_reservations_new_ones_share_an_entry_and_still_count() -> None:
    # Given an org with room whose stored reservations already hold 1,000 live calls (and one expired)
    usage = FakeApiUsageStore({"acme": ApiUsage(used=0, limit=1_000_000, read_at=NOW)})
    usage.pending["acme"] = {f"acme-x{i}-1": Reservation(requests=10, until=NOW + 200) for i in range(1_000)}
    usage.pending["acme"]["acme-gone-1"] = Reservation(requests=10, until=NOW - 1)
    usage.versions["acme"] = 1
    guard = CheckApiBudget(usage, FakeDeferredCalls(), FakeLedger(), Salesforce(0).read_usage, clock=lambda: NOW)
    # When two more calls are checked
    for i in range(2):
        assert not guard.run(budget_input(f"acme-new{i}-1")).deferred
    # Then the map holds no more entries of its own: both estimates are added to one shared entry, and the
    # expired reservation is dropped; every live request still counts against the share
    pending = usage.state("acme").pending
    assert len(pending) == 1_001 and "acme-gone-1" not in pending
    (shared,) = [r for k, r in pending.items() if k.startswith("shared#")]
    assert shared.requests == 20 and shared.until >= NOW + 300
    assert usage.state("acme").reserved(NOW) == 10_020


def test_a_call_held_again_by_its_replays_guard_stays_held_in_its_place() -> None:
    # Given two held calls and a stale reading: the resumer replays one, whose guard takes a fresh reading
    deferred = FakeDeferredCalls()
    deferred.add("acme", "a", NOW - 100)
    deferred.add("acme", "b", NOW - 50)
    usage = FakeApiUsageStore({"acme": ApiUsage(used=12_000, limit=15_000, read_at=NOW - 1_200)})
    guard = CheckApiBudget(usage, deferred, FakeLedger(), Salesforce(12_000).read_usage, clock=lambda: NOW)

    def replay(org: str, call: str) -> bool:  # the replay's guard runs before StartExecution returns
        data = BudgetInput(call={**CALL, "call_id": call}, settings=SETTINGS, execution_name=f"acme-{call}-1-replay1")
        assert guard.run(data).deferred
        return True

    service = ResumeDeferred(
        clock=lambda: NOW,
        orgs=lambda: ["acme"],
        settings=FakeSettingsStore([SETTINGS]),
        usage=usage,
        deferred=deferred,
        replay=replay,
    )
    # When the schedule fires and the window has not freed
    (result,) = service.run()
    # Then the replayed call, held again meanwhile, is not released: both stay held, oldest first
    assert result.replayed == ["a"] and deferred.list("acme") == ["a", "b"]
