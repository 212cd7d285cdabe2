"""``ports.Claims`` on DynamoDB: first writer wins, with expiry.

Item ``{"pk": key, "owner", "claimed_at", "expires_at" (epoch seconds, the table's
TTL attribute), "value"?}``. A claim is a conditional put
``attribute_not_exists(pk) OR expires_at < :now`` (DynamoDB deletes expired items
lazily, so expiry is checked in the condition too).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from callsync.adapters.dynamodb_items import from_item
from callsync.errors import ConcurrentUpdate


def _conditional_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


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
                if not _conditional_failed(e):
                    raise
            held = self.get(key)
            if held is not None:
                return str(held["owner"])
        raise ConcurrentUpdate(f"claim {key} keeps changing hands", code="claim")

    def resolve(self, key: str, value: str) -> None:
        """Attach ``value`` (e.g. the created record id) to the claim.

        Raises:
            ConcurrentUpdate: the claim no longer exists.
        """
        try:
            self._table.update_item(
                Key={"pk": key},
                UpdateExpression="SET #v = :v",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#v": "value"},
                ExpressionAttributeValues={":v": value},
            )
        except ClientError as e:
            if _conditional_failed(e):
                raise ConcurrentUpdate(f"claim {key} is not held", code="claim") from e
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
            if not _conditional_failed(e):
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
