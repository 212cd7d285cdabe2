"""``ports.Leases`` on DynamoDB (the claims table).

Item ``{"pk": key, "owner"?, "acquired_at", "expires_at", "written_at"?}``. ``owner`` is present while the
lease is held; ``expires_at`` (epoch seconds, the table's TTL attribute) ends a dead holder's hold, and after a
release keeps the item (and its ``written_at`` stamp) for ``STAMP_RETENTION_SECONDS``. Acquiring is one
conditional ``UpdateItem`` returning the previous item, so the new holder learns, in the same request, when
the record was last written under the lease and whether the previous holder gave it back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from callsync.adapters.dynamodb_items import conditional_failed
from callsync.models.lease import LeaseGrant

STAMP_RETENTION_SECONDS = 86_400  # longer than any execution can run: an older stamp is before every read


class DynamoDbLeases:
    def __init__(self, table: Any, *, clock: Callable[[], float] = time.time) -> None:
        self._table = table
        self._clock = clock

    def acquire(self, key: str, owner: str, *, ttl_seconds: float) -> LeaseGrant | None:
        now = self._clock()
        try:
            answer = self._table.update_item(
                Key={"pk": key},
                UpdateExpression="SET #o = :o, acquired_at = :now, expires_at = :exp",
                ConditionExpression="attribute_not_exists(pk) OR attribute_not_exists(#o) OR #o = :o "
                "OR expires_at < :now",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={
                    ":o": owner,
                    ":now": Decimal(f"{now:.3f}"),
                    ":exp": Decimal(f"{now + ttl_seconds:.3f}"),
                },
                ReturnValues="ALL_OLD",
            )
        except ClientError as e:
            if conditional_failed(e):
                return None
            raise
        previous = answer.get("Attributes") or {}
        written = previous.get("written_at")
        return LeaseGrant(
            key=key,
            last_written_at=float(written) if written is not None else None,
            taken_over="owner" in previous,
        )

    def release(self, key: str, owner: str, *, written: bool) -> None:
        now = self._clock()
        keep = Decimal(f"{now + STAMP_RETENTION_SECONDS:.3f}")
        if written:  # stamped whoever holds it now: a write sent under an expired lease is still a write
            self._table.update_item(
                Key={"pk": key},
                UpdateExpression="SET written_at = :now, expires_at = :keep",
                ExpressionAttributeValues={":now": Decimal(f"{now:.3f}"), ":keep": keep},
            )
        try:
            self._table.update_item(
                Key={"pk": key},
                UpdateExpression="REMOVE #o SET expires_at = :keep",
                ConditionExpression="#o = :o",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":o": owner, ":keep": keep},
            )
        except ClientError as e:
            if not conditional_failed(e):
                raise
