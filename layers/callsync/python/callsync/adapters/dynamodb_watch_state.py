"""``services.watch_closed_deals.WatchState`` and ``OrgDirectory`` on DynamoDB.

Items live in the claims table (partition key ``pk`` only, TTL attribute ``expires_at``):

- ``watermark#<org>``: ``{"pk", "org_id", "watermark": RFC 3339 UTC, "baseline": RFC 3339 UTC}`` —
  no TTL; ``baseline`` (the first window's start) is written once. Advanced with a
  conditional update (``attribute_not_exists(watermark) OR watermark < :new``; RFC 3339 UTC
  strings of one format compare like times), so overlapping runs never move it back.
- ``deal#<org>#<opportunity>``: ``{"generation", "closed", "signature"}`` — the last close
  published for that Opportunity and whether it is closed now. No TTL: forgetting a close would
  announce it again when the deal is edited (one small item per closed deal).

``DynamoDbOrgDirectory`` lists the orgs with win/loss on from the settings table (one item per
org: a small table, read with a projected scan once per cycle).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from callsync.adapters.dynamodb_items import conditional_failed, from_item
from callsync.domain.closed_deals import DealState


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class DynamoDbWatchState:
    def __init__(self, table: Any, *, clock: Callable[[], float] = time.time) -> None:
        self._table = table
        self._clock = clock

    def _read(self, org_id: str, name: str) -> datetime | None:
        item = self._table.get_item(Key={"pk": f"watermark#{org_id}"}, ConsistentRead=True).get("Item")
        if not item or not item.get(name):
            return None
        return datetime.fromisoformat(str(item[name]).replace("Z", "+00:00"))

    def watermark(self, org_id: str) -> datetime | None:
        return self._read(org_id, "watermark")

    def baseline(self, org_id: str) -> datetime | None:
        return self._read(org_id, "baseline")

    def advance_watermark(self, org_id: str, value: datetime, *, baseline: datetime | None = None) -> None:
        values = {":w": _stamp(value), ":o": org_id, ":b": _stamp(baseline or value)}
        try:
            self._table.update_item(
                Key={"pk": f"watermark#{org_id}"},
                UpdateExpression="SET watermark = :w, org_id = :o, baseline = if_not_exists(baseline, :b)",
                ConditionExpression="attribute_not_exists(watermark) OR watermark < :w",
                ExpressionAttributeValues=values,
            )
        except ClientError as e:
            if not conditional_failed(e):
                raise  # a later watermark is already stored: nothing to do otherwise

    def deal(self, org_id: str, opportunity_id: str) -> DealState | None:
        item = self._table.get_item(Key={"pk": f"deal#{org_id}#{opportunity_id}"}, ConsistentRead=True).get("Item")
        if not item:
            return None
        item = from_item(item)
        return DealState(generation=int(item["generation"]), closed=bool(item["closed"]),
                         signature=str(item.get("signature") or ""))  # fmt: skip

    def remember(self, org_id: str, opportunity_id: str, state: DealState) -> None:
        self._table.put_item(
            Item={
                "pk": f"deal#{org_id}#{opportunity_id}",
                "org_id": org_id,
                "generation": state.generation,
                "closed": state.closed,
                "signature": state.signature,
                "updated_at": int(self._clock()),
            }
        )


class DynamoDbOrgDirectory:
    def __init__(self, settings_table: Any) -> None:
        self._table = settings_table

    def win_loss_orgs(self) -> list[str]:
        orgs: list[str] = []
        kwargs: dict[str, Any] = {"ProjectionExpression": "org_id, win_loss"}
        while True:
            page = self._table.scan(**kwargs)
            for item in page.get("Items", []):
                win_loss = item.get("win_loss") or {}
                if isinstance(win_loss, dict) and win_loss.get("enabled") is True and item.get("org_id"):
                    orgs.append(str(item["org_id"]))
            if "LastEvaluatedKey" not in page:
                return sorted(orgs)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
