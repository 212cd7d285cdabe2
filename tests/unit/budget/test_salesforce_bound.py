"""``Dependencies.salesforce_bound``: a Salesforce-bound invocation holds one of its org's slots, gives it back
on every path, and stores the org's latest usage reading when it ends."""

from __future__ import annotations

import pytest
from callsync.composition import Dependencies
from callsync.config import Config
from callsync.errors import OrgBusy
from callsync.models.api_budget import ApiUsage

from tests.support.fakes import (
    FakeApiUsageStore,
    FakeClaims,
    FakeLedger,
    FakeOrgSlots,
    FakeSettingsStore,
    FakeTokenStore,
)


def deps(slots: FakeOrgSlots, usage: FakeApiUsageStore) -> Dependencies:
    return Dependencies(
        config=Config(),
        settings=FakeSettingsStore(),
        ledger=FakeLedger(),
        tokens=FakeTokenStore({}),
        claims=FakeClaims(),
        api_usage=usage,
        org_slots=slots,
    )


def test_the_slot_is_given_back_and_the_reading_stored_even_when_the_step_fails() -> None:
    # Given an org capped at one slot, and a step that saw a usage reading and then failed
    slots, usage = FakeOrgSlots(cap=1), FakeApiUsageStore()
    d = deps(slots, usage)
    with pytest.raises(RuntimeError), d.salesforce_bound("acme", lambda: 60_000):
        assert len(slots.held) == 1
        d._saw_usage("acme", ApiUsage(used=42, limit=15_000, read_at=10.0))
        raise RuntimeError("Salesforce said no")
    # Then the slot is free again and the reading is stored for the guard
    assert slots.held == {} and usage.get("acme") == ApiUsage(used=42, limit=15_000, read_at=10.0)


def test_with_every_slot_held_and_no_time_to_wait_the_step_raises_org_busy() -> None:
    # Given an org's only slot held by another invocation, and a step with too little time left to wait
    slots = FakeOrgSlots(cap=1)
    slots.acquire("acme", "other", ttl_seconds=60)
    d = deps(slots, FakeApiUsageStore())
    # When the step starts / Then OrgBusy (the state machine retries it); another org is not held back
    with pytest.raises(OrgBusy), d.salesforce_bound("acme", lambda: 30_000):
        pass
    with d.salesforce_bound("umbrella", lambda: 30_000):
        assert "umbrella#0" in slots.held
