"""SimpleSalesforceApi, the describe cache and token refresh against the emulator over HTTPS, with moto AWS."""

from __future__ import annotations

import threading
from functools import partial

import pytest
from callsync.adapters.describe_cache import CachedDescribeSource, DescribeMemory
from callsync.adapters.salesforce_errors import raise_for_save_results
from callsync.composition import Dependencies
from callsync.errors import OrgDisconnected, SalesforceRejected, SalesforceUnavailable
from simple_salesforce import format_soql

pytestmark = pytest.mark.integration

ORG = "acme"


def test_query_composite_and_collections_count_like_the_emulator(emulator_for, deps_for):
    # Given an org and a client
    emu = emulator_for()
    deps = deps_for(emu)
    api = deps.salesforce(ORG)
    # When contacts are created in one collections request, read in one query and one composite
    results = api.create_records(
        [{"attributes": {"type": "Contact"}, "LastName": f"Doe{i}", "Email": f"d{i}@globex.com"} for i in range(3)]
    )
    raise_for_save_results(results, ["Contact"] * 3)
    found = api.query(
        format_soql("SELECT Id, Email FROM Contact WHERE Email IN {}", ["d0@globex.com", "D1@globex.com"])
    )
    subs = api.composite(
        [
            {"method": "GET", "url": api.query_url("SELECT Id FROM Contact"), "referenceId": "all"},
            {
                "method": "PATCH",
                "url": f"sobjects/Contact/{results[0]['id']}",
                "referenceId": "upd",
                "body": {"Title": "CFO"},
            },
        ]
    )
    # Then the records are there and both sides counted three requests
    assert sorted(r["Email"] for r in found) == ["d0@globex.com", "d1@globex.com"]
    assert [s["httpStatusCode"] for s in subs] == [200, 204]
    assert api.api_requests == emu.api_requests == 3
    assert api.instance_url == emu.connection["instance_url"]


@pytest.mark.live_org
def test_a_fresh_client_per_invocation_starts_counting_at_zero(emulator_for, deps_for):
    emu = emulator_for()
    deps = deps_for(emu)
    first = deps.salesforce(ORG)
    first.query("SELECT Id FROM User")
    second = deps.salesforce(ORG)
    assert (first.api_requests, second.api_requests) == (1, 0)


def test_rejection_and_fault_mapping_through_the_emulator(emulator_for, deps_for):
    # Given a fault on the next composite request
    emu = emulator_for(
        faults=[
            {
                "method": "POST",
                "path": "composite$",
                "times": 1,
                "status": 503,
                "errorCode": "SERVER_UNAVAILABLE",
                "message": "try later",
            }
        ]
    )
    api = deps_for(emu).salesforce(ORG)
    # When a bad query runs / Then it is rejected with the code
    with pytest.raises(SalesforceRejected) as caught:
        api.query("SELECT Nope__c FROM Contact")
    assert caught.value.code == "INVALID_FIELD"
    # When the faulted composite runs / Then it is retryable
    with pytest.raises(SalesforceUnavailable):
        api.composite([{"method": "GET", "url": "limits/", "referenceId": "l"}])
    assert api.api_requests == emu.api_requests


@pytest.mark.live_org
def test_describe_cache_cold_warm_and_revalidated(emulator_for, deps_for, aws):
    # Given an empty describe cache and a clock we control
    emu = emulator_for()
    deps = deps_for(emu)
    now = [1_000_000.0]
    memory = DescribeMemory()

    def source(api):
        return CachedDescribeSource(
            ORG, api, deps.describe_table, ttl_seconds=3600, memory=memory, clock=lambda: now[0]
        )

    # When three describes are asked cold (one of them an object that does not exist)
    cold = deps.salesforce(ORG)
    found = source(cold).describe(["Contact", "Opportunity", "NoSuch__c"])
    # Then one composite request fetched them; the unknown one is None
    assert cold.api_requests == 1
    assert found["Contact"] is not None and found["Contact"].field("lastname") is not None
    assert found["Opportunity"] is not None and found["NoSuch__c"] is None
    # When asked again in another process (empty memory) / Then DynamoDB answers, no request
    memory.entries.clear()
    warm = deps.salesforce(ORG)
    again = source(warm).describe(["Contact", "Opportunity"])
    assert warm.api_requests == 0 and again["Contact"] == found["Contact"]
    # When the TTL passed / Then one composite revalidates with If-Modified-Since and gets 304s
    now[0] += 3601
    memory.entries.clear()
    stale = deps.salesforce(ORG)
    revalidated = source(stale).describe(["Contact", "Opportunity"])
    assert stale.api_requests == 1 and revalidated["Opportunity"] == found["Opportunity"]
    item = deps.describe_table.get_item(Key={"pk": f"{ORG}#Contact"})["Item"]
    assert int(item["fresh_until"]) == int(now[0]) + 3600
    # and the global describe rode along in those composites, cached the same way: no request of its own
    meta_api = deps.salesforce(ORG)
    assert "Contact" in source(meta_api).org_metadata().objects
    assert source(meta_api).org_metadata().shared_activities is True
    assert meta_api.api_requests == 0
    global_item = deps.describe_table.get_item(Key={"pk": f"{ORG}#__global__"})["Item"]
    assert int(global_item["fresh_until"]) == int(now[0]) + 3600


def test_expired_session_is_refreshed_and_persisted(emulator_for, deps_for, aws):
    # Given access tokens that die after 1 request
    emu = emulator_for(session_expires_after=1)
    deps = deps_for(emu)
    api = deps.salesforce(ORG)
    # When two requests are made
    api.query("SELECT Id FROM User")
    api.query("SELECT Id FROM User")
    # Then the second went through after one refresh; the new token is in the secret
    assert api.api_requests == emu.api_requests == 2
    assert deps.refresher.grants == 1
    stored = deps.tokens.get_fresh(ORG)  # type: ignore[attr-defined]
    assert stored["access_token"] != emu.connection["access_token"]


@pytest.mark.parametrize("rotate", [False, True])
def test_two_processes_refreshing_at_once_end_with_one_working_token(emulator_for, deps_for, aws, rotate):
    # Given two 'processes' (own caches and locks) whose access token is used up (3 requests per token)
    emu = emulator_for(session_expires_after=3, rotate_refresh_tokens=rotate)
    factory = partial(deps_for, emu)
    first, second = factory(), factory()
    for _ in range(3):
        first.salesforce(ORG).query("SELECT Id FROM User")
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work(deps: Dependencies) -> None:
        try:
            api = deps.salesforce(ORG)
            barrier.wait()
            api.query("SELECT Id FROM User")
        except BaseException as e:
            errors.append(e)

    # When both hit the expired token at once
    threads = [threading.Thread(target=work, args=(d,)) for d in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # Then both succeed, the org is not disconnected and a third process works with the stored tokens
    assert errors == []
    assert first.refresher.grants + second.refresher.grants in (1, 2)  # 2 only if both grants raced
    stored = factory().tokens.get(ORG)
    assert "disconnected" not in stored
    assert factory().salesforce(ORG).query("SELECT Id FROM User")


def test_invalid_grant_disconnects_the_org(emulator_for, deps_for, aws):
    # Given a revoked refresh token and an expired session
    emu = emulator_for(session_expires_after=0, refresh_token_revoked=True)
    factory = partial(deps_for, emu)
    deps = factory()
    # When a request is made / Then OrgDisconnected tells how to reconnect
    with pytest.raises(OrgDisconnected, match=r"reconnect with `callsync connect --org-id acme`"):
        deps.salesforce(ORG).query("SELECT Id FROM User")
    assert deps.refresher.grants == 1
    # and other processes fail fast without calling Salesforce
    before = emu.api_requests
    with pytest.raises(OrgDisconnected):
        factory().salesforce(ORG).query("SELECT Id FROM User")
    assert emu.api_requests == before
