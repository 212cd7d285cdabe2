"""WatchClosedDeals with fakes: exactly-once publication, the watermark, reopen, paging, permissions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from callsync.domain.closed_deals import OVERLAP, claim_key
from callsync.errors import SalesforceUnavailable
from callsync.models.read_side import LoggedCall
from callsync.models.settings import OrgSettings
from callsync.services.watch_closed_deals import LEASE_SECONDS, OrgSalesforce, WatchClosedDeals
from read_side_fakes import (
    ACCOUNT,
    EVENT,
    OPPORTUNITY,
    TASK,
    FakeClock,
    FakeClosedDealReader,
    FakeOrgDirectory,
    FakePublisher,
    FakeWatchState,
    at,
    describe,
    opp,
)

from tests.support.fakes import FakeClaims, FakeDescribeSource, FakeSettingsStore

ORG = "acme"


def settings(org: str = ORG, **win_loss: Any) -> OrgSettings:
    return OrgSettings.model_validate({
        "org_id": org, "subject_prefix": "[callsync]",
        "win_loss": {"enabled": True, "loss_reason_field": "loss_reason__c", "lookback_days": 7, **win_loss},
    })  # fmt: skip


class World:
    """One org (or several) with shared claims/state/bus, and a clock; ``run()`` is one cycle by a new run."""

    def __init__(self, *items: OrgSettings, describes: dict[str, Any] | None = None) -> None:
        self.clock = FakeClock(at(0))
        self.settings = FakeSettingsStore(items or [settings()])
        self.claims = FakeClaims(clock=self.clock.epoch)
        self.state = FakeWatchState()
        self.bus = FakePublisher()
        self.readers: dict[str, FakeClosedDealReader] = {}
        self.describes = FakeDescribeSource(describes or {"Opportunity": OPPORTUNITY, "Account": ACCOUNT,
                                                          "Task": TASK, "Event": EVENT})  # fmt: skip
        self.runs = 0

    def reader(self, org: str = ORG) -> FakeClosedDealReader:
        return self.readers.setdefault(org, FakeClosedDealReader())

    def service(self) -> WatchClosedDeals:
        self.runs += 1

        def connect(org_id: str) -> OrgSalesforce:
            return OrgSalesforce(self.reader(org_id), self.describes, lambda: "https://acme.my.salesforce.com")

        return WatchClosedDeals(settings=self.settings, state=self.state, claims=self.claims, publisher=self.bus,
                                connect=connect, directory=FakeOrgDirectory(sorted(self.settings.items)),
                                clock=self.clock, run_id=f"run-{self.runs}")  # fmt: skip

    def run(self, org_ids: list[str] | None = None):
        return self.service().run(org_ids)


def test_first_run_publishes_recent_closes_once_with_the_event_fields():
    # Given an org with two Opportunities closed in the last 7 days and one closed before
    world = World()
    world.clock.now = at(60)
    reader = world.reader()
    reader.put(opp("006OLD", -60 * 24 * 8))
    reader.put(opp("006WON", 10, won=True))
    reader.put(opp("006LOST", 5, reason="Timing"))
    reader.calls["006LOST"] = [LoggedCall(activity_id="00T1", object="Task", call_id="c-1"),
                               LoggedCall(activity_id="00U1", object="Event", call_id="c-2"),
                               LoggedCall(activity_id="00T2", object="Task", call_id=None)]  # fmt: skip
    # When the first cycle runs
    result = world.run()
    # Then only closed Opportunities of the look-back were asked for, and each close is published once, oldest first
    assert reader.queries[0].only_closed is True
    assert [e.opportunity.id for e in world.bus.events] == ["006LOST", "006WON"]
    lost = world.bus.events[0]
    assert lost.close_id == "acme#006LOST#1" and lost.generation == 1 and not lost.is_won
    assert (lost.loss_reason_field, lost.loss_reason) == ("Loss_Reason__c", "Timing")
    assert lost.call_ids == ["c-1", "c-2"] and lost.activity_ids == ["00T1", "00U1", "00T2"]
    assert lost.opportunity.url == "https://acme.my.salesforce.com/lightning/r/Opportunity/006LOST/view"
    assert lost.account is not None and lost.account.name == "Globex"
    assert reader.logged_calls_asked == [(["006LOST", "006WON"], "[callsync]", ["Task", "Event"])]
    # And the claims are resolved with the close id, and the watermark is the window's end
    assert world.claims.get(claim_key(ORG, "006LOST", 1))["value"] == "acme#006LOST#1"
    assert world.state.watermark(ORG) == at(60)
    assert result.orgs[0].status == "OK" and len(result.orgs[0].published) == 2


def test_a_retry_or_the_next_run_over_the_overlap_publishes_nothing_again():
    # Given a cycle that published a close
    world = World()
    world.clock.now = at(10)
    world.reader().put(opp("006A", 9))
    world.run()
    # When the same cycle is retried at once, and the next cycle re-reads the overlap
    world.run()
    world.clock.advance(minutes=2)
    third = world.run()
    # Then there is still one event, and the re-read close counts as a duplicate
    assert len(world.bus.events) == 1
    assert world.reader().queries[-1].window.start == at(10) - OVERLAP
    assert third.orgs[0].duplicates == 1 and third.orgs[0].published == []


def test_an_edit_after_the_close_is_not_a_new_close():
    world = World()
    world.clock.now = at(10)
    world.reader().put(opp("006A", 9))
    world.run()
    # When the closed Opportunity is edited later (new SystemModstamp, same outcome)
    world.clock.advance(minutes=30)
    world.reader().put(opp("006A", 35))
    world.run()
    assert len(world.bus.events) == 1


def test_reopened_and_closed_again_publishes_the_next_generation():
    world = World()
    world.clock.now = at(10)
    world.reader().put(opp("006A", 9))
    world.run()
    # When it is reopened (seen open by a cycle) and closed again later
    world.clock.advance(minutes=15)
    world.reader().put(opp("006A", 20, closed=False))
    reopened = world.run()
    world.clock.advance(minutes=15)
    world.reader().put(opp("006A", 38, won=True))
    world.run()
    # Then a second event with generation 2
    assert reopened.orgs[0].reopened == 1
    assert [(e.close_id, e.is_won) for e in world.bus.events] == [("acme#006A#1", False), ("acme#006A#2", True)]


def test_a_change_of_outcome_while_closed_is_a_new_close():
    world = World()
    world.clock.now = at(10)
    world.reader().put(opp("006A", 9))
    world.run()
    world.clock.advance(minutes=15)
    world.reader().put(opp("006A", 20, won=True))
    world.run()
    assert [e.generation for e in world.bus.events] == [1, 2]


def test_an_overlapping_run_in_flight_is_left_alone_and_the_watermark_waits_for_it():
    # Given another run holds the claim of a close and has not published it yet
    world = World()
    world.clock.now = at(10)
    world.reader().put(opp("006A", 5))
    world.reader().put(opp("006B", 7))
    world.claims.claim(claim_key(ORG, "006A", 1), "other-run", ttl_seconds=LEASE_SECONDS)
    # When this run sees the same closes
    result = world.run()
    # Then it publishes only the other one, defers 006A and keeps the watermark at its stamp
    assert [e.opportunity.id for e in world.bus.events] == ["006B"]
    assert result.orgs[0].status == "PARTIAL" and result.orgs[0].deferred == 1
    assert world.state.watermark(ORG) == at(5)
    # And once the other run published it (claim resolved), the next cycle counts it as a duplicate
    world.claims.resolve(claim_key(ORG, "006A", 1), "acme#006A#1")
    world.clock.advance(minutes=15)
    later = world.run()
    assert len(world.bus.events) == 1 and later.orgs[0].duplicates == 2
    assert world.state.deal(ORG, "006A") is not None and world.state.watermark(ORG) == at(25)


def test_a_run_that_died_before_publishing_is_taken_over_after_the_lease():
    # Given a claim left by a run that crashed before publishing
    world = World()
    world.clock.now = at(10)
    world.reader().put(opp("006A", 5))
    world.claims.claim(claim_key(ORG, "006A", 1), "crashed-run", ttl_seconds=LEASE_SECONDS)
    world.run()
    assert world.bus.events == []
    # When the lease has expired
    world.clock.advance(seconds=LEASE_SECONDS + 1)
    world.run()
    # Then the close is published exactly once
    assert [e.close_id for e in world.bus.events] == ["acme#006A#1"]


def test_a_failed_publish_leaves_nothing_half_done_and_the_next_cycle_publishes():
    # Given 12 closes and a PutEvents that fails on the second batch
    world = World()
    world.clock.now = at(30)
    for i in range(12):
        world.reader().put(opp(f"006{i:02d}", i + 1))
    original = world.bus.publish
    calls = {"n": 0}

    def second_fails(events):
        calls["n"] += 1
        if calls["n"] == 2:
            world.bus.fail_next = 1
        return original(events)

    world.bus.publish = second_fails  # type: ignore[method-assign]
    failed = world.run()
    # Then the org's cycle failed, only the first batch is remembered, the watermark did not move
    assert failed.orgs[0].status == "FAILED" and "RetryableError" in (failed.orgs[0].error or "")
    assert len(world.bus.events) == 10 and world.state.deal(ORG, "00610") is None
    assert world.state.watermark(ORG) is None
    # And the unpublished claims were given back: the next cycle publishes the rest at once, once
    world.clock.advance(minutes=1)
    world.run()
    assert sorted(e.opportunity.id for e in world.bus.events) == [f"006{i:02d}" for i in range(12)]


def test_entries_refused_by_the_bus_go_out_with_the_next_cycle():
    # Given the bus refuses one entry of a batch
    world = World()
    world.clock.now = at(10)
    world.reader().put(opp("006A", 3))
    world.reader().put(opp("006B", 5))
    world.reader().put(opp("006C", 7))
    world.bus.refuse = {"006B"}
    first = world.run()
    # Then the others are published, the cycle is partial and the watermark waits at the refused one
    assert [e.opportunity.id for e in world.bus.events] == ["006A", "006C"]
    assert (first.orgs[0].status, first.orgs[0].refused) == ("PARTIAL", 1)
    assert world.state.watermark(ORG) == at(5)
    # When the next cycle runs
    world.clock.advance(minutes=15)
    world.run()
    assert [e.opportunity.id for e in world.bus.events] == ["006A", "006C", "006B"]


def test_thousands_of_closes_are_published_in_batches_of_ten_in_stamp_order():
    world = World()
    world.clock.now = at(600)
    for i in range(2_345):
        world.reader().put(opp(f"006{i:05d}", (i % 500) + 1))
    result = world.run()
    assert len(world.bus.events) == 2_345 and max(world.bus.batches) == 10
    stamps = [(e.system_modstamp, e.opportunity.id) for e in world.bus.events]
    assert stamps == sorted(stamps)
    assert len({e.close_id for e in world.bus.events}) == 2_345 and result.orgs[0].status == "OK"
    world.run()
    assert len(world.bus.events) == 2_345


def test_a_hidden_loss_reason_field_is_left_out_with_the_fix():
    # Given the loss reason field is not visible to the integration user
    opportunity = describe("Opportunity", "Id", "Name", ("Amount", "currency", "Amount"))
    world = World(describes={"Opportunity": opportunity, "Account": ACCOUNT, "Task": TASK, "Event": EVENT})
    world.clock.now = at(10)
    world.reader().put(opp("006A", 5))
    result = world.run()
    # Then the event is published without a loss reason, and the warning says how to fix it
    event = world.bus.events[0]
    assert event.loss_reason is None and event.loss_reason_field == "loss_reason__c"
    assert world.reader().queries[0].loss_reason_field is None
    assert any("Loss_Reason__c" in w or "loss_reason__c" in w for w in result.orgs[0].warnings)
    assert any("Set Field-Level Security" in w for w in event.warnings)


def test_unreadable_activities_mean_no_call_ids_with_a_warning():
    world = World(describes={"Opportunity": OPPORTUNITY, "Account": ACCOUNT, "Event": EVENT})
    world.clock.now = at(10)
    world.reader().put(opp("006A", 5))
    world.reader().calls["006A"] = [LoggedCall(activity_id="00T1", object="Task", call_id="c-1")]
    result = world.run()
    assert world.bus.events[0].call_ids == []
    assert world.reader().logged_calls_asked[0][2] == ["Event"]
    assert any("Task is not readable" in w for w in result.orgs[0].warnings)


def test_unreadable_opportunity_fails_only_that_org():
    # Given two orgs, the first without Opportunity access
    world = World(settings("acme"), settings("umbrella"))
    blind = FakeDescribeSource({"Account": ACCOUNT})
    seeing = world.describes
    world.clock.now = at(10)
    world.reader("umbrella").put(opp("006U", 5))
    base_service = world.service

    def service() -> WatchClosedDeals:
        svc = base_service()
        svc.connect = lambda org: OrgSalesforce(world.reader(org), blind if org == "acme" else seeing,
                                                lambda: "https://x")  # fmt: skip
        return svc

    world.service = service  # type: ignore[method-assign]
    result = world.run()
    # Then acme failed with the permission fix, umbrella published its close
    statuses = {o.org_id: o for o in result.orgs}
    assert statuses["acme"].status == "FAILED" and "Object Settings → Opportunity" in (statuses["acme"].error or "")
    assert [e.org_id for e in world.bus.events] == ["umbrella"]


def test_orgs_without_win_loss_are_skipped_and_the_directory_lists_the_others():
    world = World(settings("acme"), settings("umbrella", enabled=False))
    world.clock.now = at(10)
    result = world.run(["acme", "umbrella"])
    assert [(o.org_id, o.status) for o in result.orgs] == [("acme", "OK"), ("umbrella", "SKIPPED")]


def test_a_salesforce_outage_fails_the_cycle_without_moving_the_watermark():
    world = World()
    world.clock.now = at(10)

    def down(query: Any) -> Any:
        raise SalesforceUnavailable("Salesforce is unavailable for query of Opportunity (HTTP 503)")

    world.reader().changes = down  # type: ignore[method-assign]
    result = world.run()
    assert result.orgs[0].status == "FAILED" and world.state.watermark(ORG) is None


@pytest.mark.parametrize("lookback", [1, 30])
def test_lookback_is_configurable(lookback: int):
    world = World(settings(lookback_days=lookback))
    world.clock.now = at(0)
    world.run()
    window = world.reader().queries[0].window
    assert (window.end - window.start).days == lookback


def test_old_deals_edited_after_the_first_cycle_are_not_announced():
    # Given a first cycle today, and a deal closed two years ago that is edited an hour later
    world = World()
    world.clock.now = at(10)
    world.run()
    world.clock.advance(minutes=60)
    world.reader().put(opp("006OLD", 65, close_date="2024-11-01"))
    world.reader().put(opp("006NEW", 66, close_date="2026-11-01"))  # closed now, with a lapsed close date
    result = world.run()
    # Then the old one is history, the new one is announced
    assert result.orgs[0].stale == 1
    assert [e.opportunity.id for e in world.bus.events] == ["006NEW"]
    assert world.state.baseline(ORG) == at(10) - timedelta(days=7)
