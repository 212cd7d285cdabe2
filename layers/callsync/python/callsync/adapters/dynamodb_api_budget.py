"""The API budget's state in the claims table: usage readings, held calls and per-org slots.

Items (storage keys stay here):

- ``api-usage#<org>``: ``{used, limit, read_at}``, the latest ``Sforce-Limit-Info`` reading; a reading
  replaces the stored one only when it is not older (conditional update), so concurrent functions never
  roll it back. Expires two days after its reading. ``pending: {key: {requests, until}}`` and ``version``:
  the reservations of admitted calls, added with an optimistic conditional update on ``version``.
- ``deferred#<org>#<n>`` for n < ``HELD_SHARDS``: ``{calls: {call_id: deferred_at}}``, the calls the guard
  holds (the resumer's list), at most ``HELD_PER_SHARD`` per item so that no item nears DynamoDB's 400 KB.
  A call held again moves on by ``HELD_AGAIN_STEP``; the resumer releases a call only if its stamp is still
  the one it listed, so a replay held again meanwhile stays. A call goes to its home shard (a hash of its
  id), else to the next shard with room (a conditional update on ``size(calls)``); with every shard full the
  guard fails the call with ``HeldListFull``. (``size()`` of a map is its number of elements: DynamoDB
  Developer Guide, "Condition and filter expressions, operators, and functions"; BatchGetItem takes up to
  100 keys and answers at most 16 MB, the rest as ``UnprocessedKeys``: DynamoDB API Reference, BatchGetItem.)
- ``org-slot#<org>#<n>`` for n < cap: one item per held slot ``{owner, expires_at}``. A slot is taken
  with a conditional put (free, or its holder's time is up) and given back with a conditional delete
  (only by its holder); a holder that dies leaves its slot to expire (``expires_at`` is checked in the
  condition, since DynamoDB's TTL deletes lazily).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from callsync.adapters.dynamodb_items import conditional_failed, from_item
from callsync.domain.api_budget import HELD_AGAIN_STEP
from callsync.errors import OrgBusy, PermanentError
from callsync.models.api_budget import ApiUsage, Reservation, UsageState

USAGE_TTL_SECONDS = 2 * 86400
# The held list of an org is HELD_SHARDS items of at most HELD_PER_SHARD calls each (35,000 calls): an item
# stays under DynamoDB's 400 KB even when every call id is 255 four-byte characters (350 x ~1,050 bytes), and
# the resumer reads every shard with one BatchGetItem (at most 100 keys).
HELD_SHARDS = 100
HELD_PER_SHARD = 350
DEFAULT_ORG_CONCURRENCY = 10  # Salesforce allows 25 concurrent long-running requests per org, for every client


def usage_key(org_id: str) -> str:
    return f"api-usage#{org_id}"


def deferred_key(org_id: str, shard: int) -> str:
    return f"deferred#{org_id}#{shard}"


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


STEP = Decimal(str(HELD_AGAIN_STEP))


def _stamp(at: float) -> Decimal:
    return Decimal(str(round(at, 3)))


class HeldListFull(PermanentError):
    """Every shard of an org's held list is full (``HELD_SHARDS * HELD_PER_SHARD`` calls)."""


class DynamoDbDeferredCalls:
    """``ports.DeferredCalls`` on the claims table: ``HELD_SHARDS`` bounded shard items per org (module doc)."""

    def __init__(self, table: Any, *, shards: int = HELD_SHARDS, per_shard: int = HELD_PER_SHARD) -> None:
        self._table = table
        self._shards = shards
        self._per_shard = per_shard

    def _keys(self, org_id: str, call_id: str) -> list[str]:
        """The org's shard keys in the order a call is placed: its home shard first, then the next ones."""
        home = int.from_bytes(hashlib.sha256(call_id.encode()).digest()[:4], "big") % self._shards
        return [deferred_key(org_id, (home + i) % self._shards) for i in range(self._shards)]

    def add(self, org_id: str, call_id: str, deferred_at: float) -> None:
        """Hold the call (a call held again keeps its first stamp): in its home shard, else the next with room.

        Raises:
            HeldListFull: every shard of the org holds ``per_shard`` calls.
        """
        stamp = _stamp(deferred_at)
        for pk in self._keys(org_id, call_id):
            if self._add_to(pk, call_id, stamp):
                return
        raise HeldListFull(
            f"the API budget's held list of org {org_id} is full ({self._shards * self._per_shard} calls): "
            "the call cannot be held; raise the org's max_share or replay held calls once its window frees",
            code="held_list_full",
        )

    def _add_to(self, pk: str, call_id: str, stamp: Decimal) -> bool:
        """Whether the shard holds the call now (False: it is full)."""
        try:  # the map exists: add one entry if the shard has room (a call in it already moves on one step)
            self._table.update_item(
                Key={"pk": pk},
                UpdateExpression="SET calls.#c = if_not_exists(calls.#c, :before) + :step",
                ConditionExpression="attribute_exists(calls.#c) OR (attribute_exists(calls) AND size(calls) < :n)",
                ExpressionAttributeNames={"#c": call_id},
                ExpressionAttributeValues={":before": stamp - STEP, ":step": STEP, ":n": self._per_shard},
            )
            return True
        except ClientError as e:
            if not conditional_failed(e):
                raise
        try:
            self._table.put_item(
                Item={"pk": pk, "calls": {call_id: stamp}}, ConditionExpression="attribute_not_exists(pk)"
            )
            return True
        except ClientError as e:
            if not conditional_failed(e):
                raise
        item = self._table.get_item(Key={"pk": pk}, ConsistentRead=True).get("Item") or {}
        calls = item.get("calls") or {}
        if call_id in calls or len(calls) < self._per_shard:  # created meanwhile by another function
            return self._add_to(pk, call_id, stamp)
        return False

    def remove(self, org_id: str, call_id: str, *, if_stamp: float | None = None) -> None:
        """Release the call (with ``if_stamp``: only if it was not held again since): from its home shard,
        else from the shard that holds it (one read of them all)."""
        keys = self._keys(org_id, call_id)
        if self._remove_from(keys[0], call_id, if_stamp):
            return
        for pk, calls in self._shard_items(org_id).items():
            if call_id in calls and pk != keys[0]:
                self._remove_from(pk, call_id, if_stamp)

    def _remove_from(self, pk: str, call_id: str, if_stamp: float | None) -> bool:
        condition = "attribute_exists(calls.#c)" if if_stamp is None else "calls.#c = :t"
        values = {} if if_stamp is None else {"ExpressionAttributeValues": {":t": _stamp(if_stamp)}}
        try:
            self._table.update_item(
                Key={"pk": pk},
                UpdateExpression="REMOVE calls.#c",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#c": call_id},
                **values,
            )
        except ClientError as e:
            if not conditional_failed(e):
                raise
            return False
        return True

    def held(self, org_id: str) -> list[tuple[str, float]]:
        """The org's held calls and their stamps, oldest first (one BatchGetItem of its shards)."""
        calls: dict[str, float] = {}
        for shard in self._shard_items(org_id).values():
            calls.update({call: float(stamp) for call, stamp in shard.items()})
        return sorted(calls.items(), key=lambda kv: (kv[1], kv[0]))

    def list(self, org_id: str) -> list[str]:
        return [call for call, _ in self.held(org_id)]

    def _shard_items(self, org_id: str) -> dict[str, dict[str, Any]]:
        """``{shard key: calls}`` of every shard of the org that exists (consistent reads)."""
        name = self._table.name
        keys = [{"pk": deferred_key(org_id, n)} for n in range(self._shards)]
        found: dict[str, dict[str, Any]] = {}
        request: dict[str, Any] = {name: {"Keys": keys, "ConsistentRead": True}}
        while request:  # up to 100 keys a request; a large answer comes back in parts (UnprocessedKeys)
            # the table resource's client: items and keys in Python types, as the table's own calls
            response = self._table.meta.client.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(name, []):
                found[str(item["pk"])] = dict(item.get("calls") or {})
            request = response.get("UnprocessedKeys") or {}
        return found


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
