"""``ports.Ledger`` on DynamoDB.

Partition key ``call_key`` ("org#call#revision"), sort key ``sk``: ``step#<step>``
for a StepReport, ``outcome`` for the run's Outcome. An entry is the model's JSON
plus ``call_key``, ``sk``, ``kind`` ("step" | "outcome") and ``recorded_at``.
A retried step overwrites its own entry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from callsync.adapters.dynamodb_items import from_item, to_item
from callsync.models.ledger import Outcome, StepReport


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def step_entry(call_key: str, report: StepReport) -> dict[str, Any]:
    return {
        "call_key": call_key,
        "sk": f"step#{report.step}",
        "kind": "step",
        "recorded_at": _now_iso(),
        **report.model_dump(mode="json"),
    }


def outcome_entry(call_key: str, outcome: Outcome) -> dict[str, Any]:
    return {
        "call_key": call_key,
        "sk": "outcome",
        "kind": "outcome",
        "recorded_at": _now_iso(),
        **outcome.model_dump(mode="json"),
    }


class DynamoDbLedger:
    def __init__(self, table: Any) -> None:
        self._table = table

    def record_step(self, call_key: str, report: StepReport) -> None:
        self._table.put_item(Item=to_item(step_entry(call_key, report)))

    def record_outcome(self, call_key: str, outcome: Outcome) -> None:
        self._table.put_item(Item=to_item(outcome_entry(call_key, outcome)))

    def entries(self, call_key: str) -> list[dict[str, Any]]:
        """Every entry of one call, in ``sk`` order (``outcome`` before ``step#...``)."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"KeyConditionExpression": Key("call_key").eq(call_key), "ConsistentRead": True}
        while True:
            page = self._table.query(**kwargs)
            items.extend(from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def all_entries(self) -> list[dict[str, Any]]:
        """Every entry in the table (a scan: for the local runner's report, not for Lambda)."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = self._table.scan(**kwargs)
            items.extend(from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return sorted(items, key=lambda i: (i["call_key"], i["sk"]))
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
