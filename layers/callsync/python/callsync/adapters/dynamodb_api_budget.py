"""The API budget's state in the claims table: usage readings, held calls and per-org slots.

Items (storage keys stay here):

- ``api-usage#<org>``: ``{used, limit, read_at}``, the latest ``Sforce-Limit-Info`` reading; a reading
  replaces the stored one only when it is not older (conditional update), so concurrent functions never
  roll it back. Expires two days after its reading. ``pending: {key: {requests, until}}`` and ``version``:
  the reservations of admitted calls, added with an optimistic conditional update on ``version``.
- ``deferred#<org>``: ``{calls: {call_id: deferred_at}}``, the calls the guard holds (the resumer's list).
- ``org-slot#<org>#<n>`` for n < cap: one item per held slot ``{owner, expires_at}``. A slot is taken
  with a conditional put (free, or its holder's time is up) and given back with a conditional delete
  (only by its holder); a holder that dies leaves its slot to expire (``expires_at`` is checked in the
  condition, since DynamoDB's TTL deletes lazily).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from callsync.adapters.dynamodb_items import conditional_failed, from_item
from callsync.errors import OrgBusy
from callsync.models.api_budget import ApiUsage, Reservation, UsageState

USAGE_TTL_SECONDS = 2 * 86400
DEFAULT_ORG_CONCURRENCY = 10  # Salesforce allows 25 concurrent long-running requests per org, for every client


def usage_key(org_id: str) -> str:
    return f"api-usage#{org_id}"


def deferred_key(org_id: str) -> str:
    return f"deferred#{org_id}"


class DynamoDbApiUsage:
    """``ports.ApiUsageStore`` on the claims table."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def get(self, org_id: str) -> ApiUsage | None:
        item = self._table.get_item(Key={"pk": usage_key(org_id)}, ConsistentRead=True).get("Item")
        if not item:
            return None
        return ApiUsage(used=int(item["used"]), limit=int(item["limit"]), read_at=float(item["read_at"]))

    def state(self, org_id: str) -> UsageState:
        item = self._table.get_item(Key={"pk": usage_key(org_id)}, ConsistentRead=True).get("Item")
        if not item:
            return UsageState()
        usage = None
        if "used" in item:
            usage = ApiUsage(used=int(item["used"]), limit=int(item["limit"]), read_at=float(item["read_at"]))
        pending = {str(k): Reservation.model_validate(from_item(v)) for k, v in (item.get("pending") or {}).items()}
        return UsageState(usage=usage, pending=pending, version=int(item.get("version", 0)))

    def reserve(self, org_id: str, key: str, reservation: Reservation, *, version: int, drop: list[str]) -> bool:
        names = {"#k": key, **{f"#d{i}": k for i, k in enumerate(drop) if k != key}}
        entry = {"requests": reservation.requests, "until": Decimal(str(round(reservation.until, 3)))}
        removes = [f"pending.#d{i}" for i, k in enumerate(drop) if k != key]
        condition = "version = :v" if version else "attribute_not_exists(version)"
        values: dict[str, Any] = {":r": entry, ":one": 1} | ({":v": version} if version else {})
        update = "SET pending.#k = :r ADD version :one" + (f" REMOVE {', '.join(removes)}" if removes else "")
        if not version:  # no reservation yet: the map itself is created
            names = {}
            values = {":map": {key: entry}, ":one": 1}
            update = "SET pending = :map ADD version :one"
        try:
            self._table.update_item(
                Key={"pk": usage_key(org_id)},
                UpdateExpression=update,
                ConditionExpression=condition,
                **({"ExpressionAttributeNames": names} if names else {}),
                ExpressionAttributeValues=values,
            )
        except ClientError as e:
            if not conditional_failed(e):
                raise
            return False
        return True

    def record(self, org_id: str, usage: ApiUsage) -> None:
        read_at = Decimal(str(round(usage.read_at, 3)))
        try:
            self._table.update_item(
                Key={"pk": usage_key(org_id)},
                UpdateExpression="SET used = :u, #l = :l, read_at = :t, expires_at = :e",
                ConditionExpression="attribute_not_exists(pk) OR read_at <= :t",
                ExpressionAttributeNames={"#l": "limit"},
                ExpressionAttributeValues={
                    ":u": usage.used,
                    ":l": usage.limit,
                    ":t": read_at,
                    ":e": int(usage.read_at) + USAGE_TTL_SECONDS,
                },
            )
        except ClientError as e:
            if not conditional_failed(e):  # a newer reading is stored: keep it
                raise


class DynamoDbDeferredCalls:
    """``ports.DeferredCalls`` on the claims table (one item per org)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def add(self, org_id: str, call_id: str, deferred_at: float) -> None:
        key = {"pk": deferred_key(org_id)}
        stamp = Decimal(str(round(deferred_at, 3)))
        try:  # the map exists: add one entry (a retried attempt keeps the first stamp)
            self._table.update_item(
                Key=key,
                UpdateExpression="SET calls.#c = if_not_exists(calls.#c, :t)",
                ConditionExpression="attribute_exists(calls)",
                ExpressionAttributeNames={"#c": call_id},
                ExpressionAttributeValues={":t": stamp},
            )
            return
        except ClientError as e:
            if not conditional_failed(e):
                raise
        try:
            self._table.put_item(
                Item={**key, "calls": {call_id: stamp}}, ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as e:
            if not conditional_failed(e):
                raise
            self.add(org_id, call_id, deferred_at)  # created meanwhile by another function

    def remove(self, org_id: str, call_id: str) -> None:
        try:
            self._table.update_item(
                Key={"pk": deferred_key(org_id)},
                UpdateExpression="REMOVE calls.#c",
                ConditionExpression="attribute_exists(calls)",
                ExpressionAttributeNames={"#c": call_id},
            )
        except ClientError as e:
            if not conditional_failed(e):
                raise

    def list(self, org_id: str) -> list[str]:
        item = self._table.get_item(Key={"pk": deferred_key(org_id)}, ConsistentRead=True).get("Item") or {}
        calls = from_item(item.get("calls") or {})
        return [call for call, _ in sorted(calls.items(), key=lambda kv: (kv[1], kv[0]))]


class DynamoDbOrgSlots:
    """``ports.OrgSlots`` on the claims table: ``cap`` slot items per org (see module doc)."""

    def __init__(
        self,
        table: Any,
        *,
        cap: int = DEFAULT_ORG_CONCURRENCY,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        if not 1 <= cap <= 25:
            raise ValueError(f"the per-org concurrency cap must be 1 to 25, not {cap}")
        self._table = table
        self.cap = cap
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - spreads holders over slots, not security

    def acquire(self, org_id: str, holder: str, *, ttl_seconds: int) -> str:
        start = self._rng.randrange(self.cap)
        for i in range(self.cap):
            slot = f"org-slot#{org_id}#{(start + i) % self.cap}"
            now = int(self._clock())
            try:
                self._table.put_item(
                    Item={"pk": slot, "owner": holder, "claimed_at": now, "expires_at": now + ttl_seconds},
                    ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR #o = :o",
                    ExpressionAttributeNames={"#o": "owner"},
                    ExpressionAttributeValues={":now": now, ":o": holder},
                )
                return slot
            except ClientError as e:
                if not conditional_failed(e):
                    raise
        raise OrgBusy(
            f"org {org_id} already has {self.cap} Salesforce-bound invocations running (its concurrency cap): "
            "retried when a slot frees",
            code="org_concurrency",
        )

    def release(self, slot: str, holder: str) -> None:
        try:
            self._table.delete_item(
                Key={"pk": slot},
                ConditionExpression="#o = :o",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":o": holder},
            )
        except ClientError as e:
            if not conditional_failed(e):
                raise


def settings_org_ids(settings_table: Any) -> list[str]:
    """Every org id of the settings table (one paginated scan of the keys)."""
    orgs: list[str] = []
    kwargs: dict[str, Any] = {"ProjectionExpression": "org_id"}
    while True:
        page = settings_table.scan(**kwargs)
        orgs.extend(str(item["org_id"]) for item in page.get("Items", []) if item.get("org_id"))
        if "LastEvaluatedKey" not in page:
            return sorted(orgs)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
