"""CachedDescribeSource: the global describe rides along in a composite that goes out anyway."""

from __future__ import annotations

from typing import Any

import pytest
from callsync.adapters.describe_cache import GLOBAL, MAX_SUBREQUESTS, CachedDescribeSource, DescribeMemory
from callsync.errors import SalesforceUnavailable

ORG = "00Dacme"


class FakeTable:
    """The DynamoDB Table calls the cache makes (get_item, put_item, update_item), in memory."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def get_item(self, Key: dict[str, str]) -> dict[str, Any]:
        item = self.items.get(Key["pk"])
        return {"Item": dict(item)} if item is not None else {}

    def put_item(self, Item: dict[str, Any]) -> None:
        self.items[Item["pk"]] = dict(Item)

    def update_item(
        self, Key: dict[str, str], UpdateExpression: str, ExpressionAttributeValues: dict[str, Any]
    ) -> None:
        self.items[Key["pk"]].update(
            fresh_until=ExpressionAttributeValues[":f"], expires_at=ExpressionAttributeValues[":e"]
        )


class FakeComposite:
    """Answers describe subrequests like Salesforce; ``global_status`` scripts the global describe's answer."""

    def __init__(self, *, global_status: int = 200) -> None:
        self.api_requests = 0
        self.composites: list[list[str]] = []
        self.global_status = global_status

    def composite(self, subrequests: list[dict[str, Any]], *, all_or_none: bool = False) -> list[dict[str, Any]]:
        self.api_requests += 1
        self.composites.append([s["url"] for s in subrequests])
        return [self._answer(s) for s in subrequests]

    def _answer(self, sub: dict[str, Any]) -> dict[str, Any]:
        ref, url = sub["referenceId"], sub["url"]
        if "If-Modified-Since" in (sub.get("httpHeaders") or {}):
            return {"referenceId": ref, "httpStatusCode": 304, "body": None}
        if url == "sobjects":
            if self.global_status != 200:
                return {
                    "referenceId": ref,
                    "httpStatusCode": self.global_status,
                    "body": [{"errorCode": "SERVER_UNAVAILABLE", "message": "try later"}],
                }
            return {
                "referenceId": ref,
                "httpStatusCode": 200,
                "body": {"sobjects": [{"name": "Contact"}, {"name": "TaskRelation"}]},
            }
        name = url.split("/")[1]
        return {
            "referenceId": ref,
            "httpStatusCode": 200,
            "body": {"name": name, "createable": True, "updateable": True, "fields": []},
            "httpHeaders": {"Last-Modified": "Wed, 25 Nov 2026 10:00:00 GMT"},
        }


def source(api: FakeComposite, table: FakeTable, memory: DescribeMemory, now: list[float]) -> CachedDescribeSource:
    return CachedDescribeSource(
        ORG,
        api,
        table,
        ttl_seconds=3600,
        memory=memory,  # type: ignore[arg-type]
        clock=lambda: now[0],
    )


def test_cold_describes_bring_the_global_describe_in_the_same_composite() -> None:
    # Given an empty cache
    api, table, now = FakeComposite(), FakeTable(), [1_000_000.0]
    # When two objects are described cold
    found = source(api, table, DescribeMemory(), now).describe(["Contact", "Task"])
    # Then one composite fetched them and the global describe; only the asked-for names come back
    assert api.composites == [["sobjects/Contact/describe", "sobjects/Task/describe", "sobjects"]]
    assert set(found) == {"Contact", "Task"}
    assert f"{ORG}#{GLOBAL}" in table.items
    # And the org metadata is then free, in this process and in another one (DynamoDB)
    assert source(api, table, DescribeMemory(), now).org_metadata().shared_activities is True
    assert api.api_requests == 1


def test_warm_describes_send_nothing_even_when_the_global_describe_is_stale() -> None:
    # Given describes cached, then the global describe gone from the cache
    api, table, memory, now = FakeComposite(), FakeTable(), DescribeMemory(), [1_000_000.0]
    source(api, table, memory, now).describe(["Contact"])
    del table.items[f"{ORG}#{GLOBAL}"]
    memory.entries.clear()
    # When the same (fresh) describe is asked again
    source(api, table, memory, now).describe(["Contact"])
    # Then no request goes out just for the global describe
    assert api.api_requests == 1


def test_stale_describes_revalidate_the_global_describe_along() -> None:
    # Given everything cached, then the TTL passed
    api, table, now = FakeComposite(), FakeTable(), [1_000_000.0]
    source(api, table, DescribeMemory(), now).describe(["Contact"])
    now[0] += 3601
    # When the describe is asked in a new process
    memory = DescribeMemory()
    source(api, table, memory, now).describe(["Contact"])
    # Then one composite revalidated both (304s): fresh_until moved for the global describe too
    assert api.composites[1] == ["sobjects/Contact/describe", "sobjects"]
    assert int(table.items[f"{ORG}#{GLOBAL}"]["fresh_until"]) == int(now[0]) + 3600
    assert source(api, table, memory, now).org_metadata().objects == ["Contact", "TaskRelation"]
    assert api.api_requests == 2


def test_a_failed_ride_along_is_not_an_error_and_is_not_cached() -> None:
    # Given Salesforce failing the global describe only
    api, table, now = FakeComposite(global_status=503), FakeTable(), [1_000_000.0]
    # When objects are described cold / Then they come back
    found = source(api, table, DescribeMemory(), now).describe(["Contact"])
    assert found["Contact"] is not None and f"{ORG}#{GLOBAL}" not in table.items
    # And asking for the org metadata itself still raises the failure
    with pytest.raises(SalesforceUnavailable):
        source(api, table, DescribeMemory(), now).org_metadata()


def test_the_global_describe_never_adds_a_composite() -> None:
    # Given exactly one composite's worth of missing describes
    api, table, now = FakeComposite(), FakeTable(), [1_000_000.0]
    names = [f"Obj{i}__c" for i in range(MAX_SUBREQUESTS)]
    # When they are described cold
    source(api, table, DescribeMemory(), now).describe(names)
    # Then one full composite went out, without the global describe
    assert api.api_requests == 1 and "sobjects" not in api.composites[0]
