"""``ports.account_links.BackfillCheckpoints`` in the claims table (partition key ``pk`` only).

Item ``backfill#account-links#<org>#<file sha256>``: ``{"pk", "org_id", "checkpoint": {...},
"next_line", "updated_at"}``, no TTL. A save only moves ``next_line`` forward (conditional write),
so a slower run of the same file never takes a later checkpoint back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from callsync.adapters.dynamodb_items import conditional_failed, from_item, to_item
from callsync.models.backfill import BackfillCheckpoint


def _key(org_id: str, file_hash: str) -> dict[str, str]:
    return {"pk": f"backfill#account-links#{org_id}#{file_hash}"}


class DynamoDbBackfillCheckpoints:
    def __init__(self, table: Any, *, clock: Callable[[], float] = time.time) -> None:
        self._table = table
        self._clock = clock

    def get(self, org_id: str, file_hash: str) -> BackfillCheckpoint | None:
        item = self._table.get_item(Key=_key(org_id, file_hash), ConsistentRead=True).get("Item")
        if not item or "checkpoint" not in item:
            return None
        return BackfillCheckpoint.model_validate(from_item(item["checkpoint"]))

    def save(self, checkpoint: BackfillCheckpoint) -> None:
        try:
            self._table.put_item(
                Item={
                    **_key(checkpoint.org_id, checkpoint.file_hash),
                    "org_id": checkpoint.org_id,
                    "next_line": checkpoint.next_line,
                    "done": checkpoint.done,
                    "checkpoint": to_item(checkpoint.model_dump(mode="json")),
                    "updated_at": int(self._clock()),
                },
                ConditionExpression="attribute_not_exists(pk) OR next_line <= :n",
                ExpressionAttributeValues={":n": checkpoint.next_line},
            )
        except ClientError as e:
            if not conditional_failed(e):
                raise  # a later checkpoint of the same file is stored: keep it

    def clear(self, org_id: str, file_hash: str) -> None:
        self._table.delete_item(Key=_key(org_id, file_hash))
