"""``ports.Claims`` on DynamoDB: first writer wins, with expiry.

Item ``{"pk": key, "owner", "claimed_at", "expires_at" (epoch seconds, the table's
TTL attribute), "value"?, "resolved_at"? (epoch seconds the value was attached)}``. A claim is a conditional put
``attribute_not_exists(pk) OR expires_at < :now`` (DynamoDB deletes expired items
lazily, so expiry is checked in the condition too).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from callsync.adapters.dynamodb_items import conditional_failed, from_item
from callsync.errors import ConcurrentUpdate
from callsync.models.lease import ClaimTaken


class DynamoDbClaims:
    def __init__(self, table: Any, *, clock: Callable[[], float] = time.time) -> None:
        self._table = table
        self._clock = clock

    def claim(self, key: str, owner: str, *, ttl_seconds: int = 3600) -> str:
        """Claim ``key`` for ``owner``; the owner holding it afterwards (``owner`` or an earlier one)."""
        for _ in range(3):
            now = int(self._clock())
            try:
                self._table.put_item(
                    Item={"pk": key, "owner": owner, "claimed_at": now, "expires_at": now + ttl_seconds},
                    ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                    ExpressionAttributeValues={":now": now},
                )
                return owner
            except ClientError as e:
                if not conditional_failed(e):
                    raise
            held = self.get(key)
            if held is not None:
                return str(held["owner"])
        raise ConcurrentUpdate(f"claim {key} keeps changing hands", code="claim")

    def take(self, key: str, owner: str, *, ttl_seconds: int) -> ClaimTaken:
        """One conditional ``UpdateItem`` returning the item it replaced; a ``get`` when another owner holds it."""
        for _ in range(3):
            now = int(self._clock())
            try:
                answer = self._table.update_item(
                    Key={"pk": key},
                    UpdateExpression="SET #o = :o, claimed_at = :now, expires_at = :exp REMOVE #v",
                    ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR #o = :o",
                    ExpressionAttributeNames={"#o": "owner", "#v": "value"},
                    ExpressionAttributeValues={":o": owner, ":now": now, ":exp": now + ttl_seconds},
                    ReturnValues="ALL_OLD",
                )
            except ClientError as e:
                if not conditional_failed(e):
                    raise
                held = self.get(key)
                if held is None:
                    continue  # gone between the two requests: try again
                value, resolved_at = held.get("value"), held.get("resolved_at")
                return ClaimTaken(
                    holder=str(held["owner"]),
                    value=None if value is None else str(value),
                    resolved_at=None if resolved_at is None else float(resolved_at),
                )
            previous = from_item(answer.get("Attributes") or {})
            old_value = previous.get("value")
            return ClaimTaken(
                holder=owner,
                previous_owner=None if previous.get("owner") is None else str(previous["owner"]),
                previous_value=None if old_value is None else str(old_value),
            )
        raise ConcurrentUpdate(f"claim {key} keeps changing hands", code="claim")

    def resolve(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        """Attach ``value`` (e.g. the created record id) to the claim; ``ttl_seconds`` sets a new expiry.

        Raises:
            ConcurrentUpdate: the claim no longer exists.
        """
        expression = "SET #v = :v, resolved_at = :now"
        values: dict[str, Any] = {":v": value, ":now": int(self._clock())}
        if ttl_seconds is not None:
            expression += ", expires_at = :exp"
            values[":exp"] = int(self._clock()) + ttl_seconds
        try:
            self._table.update_item(
                Key={"pk": key},
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#v": "value"},
                ExpressionAttributeValues=values,
            )
        except ClientError as e:
            if conditional_failed(e):
                raise ConcurrentUpdate(f"claim {key} is not held", code="claim") from e
            raise

    def forget(self, key: str, value: str) -> None:
        """Delete the claim if it still holds ``value`` (a conditional delete: a newer value stays)."""
        try:
            self._table.delete_item(
                Key={"pk": key},
                ConditionExpression="#v = :v",
                ExpressionAttributeNames={"#v": "value"},
                ExpressionAttributeValues={":v": value},
            )
        except ClientError as e:
            if not conditional_failed(e):
                raise

    def release(self, key: str, owner: str) -> None:
        """Delete the claim if ``owner`` still holds it (a lease given back early)."""
        try:
            self._table.delete_item(
                Key={"pk": key},
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":owner": owner},
            )
        except ClientError as e:
            if not conditional_failed(e):
                raise

    def get(self, key: str) -> dict[str, Any] | None:
        """The live claim on ``key`` (None when absent or expired)."""
        item = self._table.get_item(Key={"pk": key}, ConsistentRead=True).get("Item")
        if item is None:
            return None
        claim = from_item(item)
        if claim.get("expires_at", 0) < int(self._clock()):
            return None
        return dict(claim)
