"""The API budget's state in the claims table (moto, the template's key schema): readings, held calls, org slots."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from callsync.adapters.dynamodb_api_budget import (
    HELD_PER_SHARD,
    HELD_SHARDS,
    DynamoDbApiUsage,
    DynamoDbDeferredCalls,
    DynamoDbOrgSlots,
    HeldListFull,
    settings_org_ids,
)
from callsync.config import Config
from callsync.domain.input_limits import MAX_ID_CHARS
from callsync.errors import OrgBusy
from callsync.models.api_budget import ApiUsage

pytestmark = pytest.mark.integration


def claims(aws: Any) -> Any:
    return aws.resource("dynamodb").Table(Config().claims_table)


def test_a_reading_never_replaces_a_newer_one(aws):
    # Given a reading taken at t=200 stored
    store = DynamoDbApiUsage(claims(aws))
    store.record("acme", ApiUsage(used=500, limit=15_000, read_at=200.5))
    # When a function that read earlier (t=100) stores its reading afterwards
    store.record("acme", ApiUsage(used=400, limit=15_000, read_at=100.0))
    # Then the newer reading stays; a still newer one replaces it
    assert store.get("acme") == ApiUsage(used=500, limit=15_000, read_at=200.5)
    store.record("acme", ApiUsage(used=510, limit=15_000, read_at=300.0))
    assert store.get("acme") == ApiUsage(used=510, limit=15_000, read_at=300.0)
    assert store.get("other") is None


def test_held_calls_are_listed_oldest_first_once_each(aws):
    held = DynamoDbDeferredCalls(claims(aws))
    # Given calls held at different times, one held twice (a retried attempt)
    held.add("acme", "b", 20.0)
    held.add("acme", "a", 10.0)
    held.add("acme", "b", 30.0)
    held.add("acme", "c.with#odd chars", 25.0)
    # Then each is listed once, oldest first (first stamp kept); removing one leaves the rest
    assert held.list("acme") == ["a", "b", "c.with#odd chars"]
    held.remove("acme", "a")
    held.remove("acme", "never-held")
    held.remove("quiet", "x")
    assert held.list("acme") == ["b", "c.with#odd chars"] and held.list("quiet") == []


def test_a_call_held_again_after_it_was_listed_is_not_released_by_the_older_listing(aws):
    held = DynamoDbDeferredCalls(claims(aws))
    # Given a held call the resumer listed, then held again (its replay's guard) before the resumer releases it
    held.add("acme", "a", 10.0)
    ((call, listed),) = held.held("acme")
    held.add("acme", "a", 50.0)
    # When the resumer releases it as listed / Then it stays, in its place (its stamp moved on by 1 ms)
    held.remove("acme", call, if_stamp=listed)
    assert held.held("acme") == [("a", 10.001)]
    # And released with its current stamp, it goes
    held.remove("acme", "a", if_stamp=10.001)
    assert held.list("acme") == []


def test_a_full_shard_of_the_held_list_overflows_into_the_next_and_a_full_list_is_refused(aws):
    # Given an org's held list of 2 shards of 3 calls (the real one: 100 of 350), with 255-character ids
    held = DynamoDbDeferredCalls(claims(aws), shards=2, per_shard=3)
    calls = [f"{i}".ljust(MAX_ID_CHARS, "x") for i in range(6)]
    # When six calls are held, then one held again
    for i, call in enumerate(calls):
        held.add("acme", call, float(i))
    held.add("acme", calls[0], 99.0)
    # Then every shard stays within its bound and all six are listed, oldest first, first stamps kept
    items = [claims(aws).get_item(Key={"pk": f"deferred#acme#{n}"})["Item"]["calls"] for n in range(2)]
    assert [len(i) for i in items] == [3, 3] and held.list("acme") == calls
    # And a seventh call is refused with a clear error (the run fails naming it), the list unchanged
    with pytest.raises(HeldListFull, match="held list of org acme is full \\(6 calls\\)"):
        held.add("acme", "one-more", 7.0)
    # And every call is released from whichever shard holds it, making room again
    for call in calls[:3]:
        held.remove("acme", call)
    held.add("acme", "one-more", 7.0)
    assert held.list("acme") == [*calls[3:], "one-more"]


def test_calls_held_at_once_never_pass_a_shards_bound(aws):
    # Given an org's held list of 2 shards of 5 calls
    from concurrent.futures import ThreadPoolExecutor

    held = DynamoDbDeferredCalls(claims(aws), shards=2, per_shard=5)

    def hold(i: int) -> bool:
        try:
            held.add("acme", f"c{i:02d}", float(i))
        except HeldListFull:
            return False
        return True

    # When 16 calls are held at the same moment
    with ThreadPoolExecutor(max_workers=16) as pool:
        accepted = sum(pool.map(hold, range(16)))
    # Then exactly 10 are held (each conditional update checks its shard's size) and the rest are refused
    assert accepted == 10 and len(held.list("acme")) == 10


def test_a_full_shard_stays_under_dynamodbs_400_kb_item_size():
    # Given the worst call id: 255 characters of 4 bytes in UTF-8, its stamp a Number (up to 21 bytes) and
    # a map element's own bytes
    worst_entry = 4 * MAX_ID_CHARS + 21 + 3
    # Then a full shard (with its key) fits one DynamoDB item, and one BatchGetItem (100 keys) reads the list
    assert HELD_PER_SHARD * worst_entry + 4 * (len("deferred##99") + MAX_ID_CHARS) < 400 * 1024
    assert HELD_SHARDS <= 100


def test_at_most_cap_holders_at_once_under_concurrent_acquires(aws):
    # Given an org capped at 3 slots and 12 invocations that each hold a slot for a moment
    slots = DynamoDbOrgSlots(claims(aws), cap=3)
    active = peak = 0
    busy = 0
    lock = threading.Lock()

    def invocation(i: int) -> None:
        nonlocal active, peak, busy
        for _ in range(200):  # what the state machine's OrgBusy retries do, quickly
            try:
                slot = slots.acquire("acme", f"holder-{i}", ttl_seconds=60)
                break
            except OrgBusy:
                with lock:
                    busy += 1
                time.sleep(0.01)
        else:
            raise AssertionError("never got a slot")
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        slots.release(slot, f"holder-{i}")

    # When they all run at once
    threads = [threading.Thread(target=invocation, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then never more than 3 held slots at once, some waited, and every slot is free again
    assert peak <= 3 and busy > 0
    assert len({slots.acquire("acme", f"after-{i}", ttl_seconds=60) for i in range(3)}) == 3


def test_a_dead_holders_slot_expires_and_only_its_holder_can_release_it(aws):
    # Given a cap of 1, held by an invocation that died (its time is up at t=1,060)
    now = [1_000.0]
    slots = DynamoDbOrgSlots(claims(aws), cap=1, clock=lambda: now[0])
    slot = slots.acquire("acme", "dead", ttl_seconds=60)
    # When another invocation comes before the expiry / Then it waits (OrgBusy names the org and the cap)
    with pytest.raises(OrgBusy, match="acme already has 1"):
        slots.acquire("acme", "next", ttl_seconds=60)
    # When someone else tries to release it / Then it stays held
    slots.release(slot, "next")
    with pytest.raises(OrgBusy):
        slots.acquire("acme", "next", ttl_seconds=60)
    # When the dead holder's time is up / Then the slot is taken over
    now[0] = 1_061.0
    assert slots.acquire("acme", "next", ttl_seconds=60) == slot


def test_the_cap_is_at_most_salesforces_25():
    with pytest.raises(ValueError, match="1 to 25"):
        DynamoDbOrgSlots(object(), cap=26)


def test_every_org_of_the_settings_table(aws):
    table = aws.resource("dynamodb").Table(Config().settings_table)
    for org in ("b", "a"):
        table.put_item(Item={"org_id": org})
    assert settings_org_ids(table) == ["a", "b"]


def test_calls_checked_at_the_same_moment_cannot_together_pass_the_share(aws):
    """The guard reserves each admitted call's estimate (a conditional update on the reservations' version)."""
    import json
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    from callsync.models.settings import OrgSettings
    from callsync.services.api_budget import BudgetInput, CheckApiBudget

    from tests.support.fakes import FakeDeferredCalls, FakeLedger

    # Given an org with room for exactly 5 calls (12,000 allowed, 96 kept for reads, 11,854 used: 50 requests)
    store = DynamoDbApiUsage(claims(aws))
    now = time.time()
    store.record("acme", ApiUsage(used=11_854, limit=15_000, read_at=now))
    event = json.loads((Path(__file__).resolve().parents[3] / "events/demo_event.json").read_text())
    settings = OrgSettings.model_validate({"org_id": "acme"})

    def no_read() -> ApiUsage:
        raise AssertionError("the stored reading is fresh: no request")

    guard = CheckApiBudget(store, FakeDeferredCalls(), FakeLedger(), no_read)

    def check(i: int) -> bool:
        call = {**event, "call_id": f"c{i}"}
        return not guard.run(BudgetInput(call=call, settings=settings, execution_name=f"acme-c{i}-1")).deferred

    # When 20 calls are checked at once
    with ThreadPoolExecutor(max_workers=20) as pool:
        admitted = sum(pool.map(check, range(20)))
    # Then exactly 5 run: each admitted call's 10 requests were reserved before the next decision
    assert admitted == 5
    assert sum(r.requests for r in store.state("acme").pending.values()) == 50
