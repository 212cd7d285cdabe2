"""``ports.Ledger`` on DynamoDB.

Storage (private to this module): the table's partition key ``call_key`` holds the *call* (``org#call``),
so every revision of a call is one partition and one query; the sort key ``sk`` is
``<revision, 10 digits>#step#<step>`` or ``<revision>#outcome``. An item keeps the entry's own key
(``entry_key`` = ``org#call#revision``), ``revision``, ``recorded_at`` and the body (``StepReport``,
``DeliveryReport`` or ``Outcome`` JSON) under ``body``. A retried step overwrites its own entry.

A key whose last part is not a revision (``rejected#<message id>``: a message naming no call) is its own
partition with revision 0.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from callsync.adapters.dynamodb_items import from_item, to_item
from callsync.models.event import call_key as make_call_key
from callsync.models.event import split_call_key
from callsync.models.ledger import CallHistory, DeliveryReport, LedgerEntry, Outcome, StepReport

DELIVERY_PREFIX = "delivery#"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def step_item(call_key: str, report: StepReport) -> dict[str, Any]:
    partition, revision = split_call_key(call_key)
    kind = "delivery" if isinstance(report, DeliveryReport) else "step"
    return {
        "call_key": partition,
        "sk": f"{revision:010d}#step#{report.step}",
        "entry_key": call_key,
        "revision": revision,
        "kind": kind,
        "recorded_at": _now_iso(),
        "body": report.model_dump(mode="json"),
    }


def outcome_item(call_key: str, outcome: Outcome) -> dict[str, Any]:
    partition, revision = split_call_key(call_key)
    return {
        "call_key": partition,
        "sk": f"{revision:010d}#outcome",
        "entry_key": call_key,
        "revision": revision,
        "kind": "outcome",
        "recorded_at": _now_iso(),
        "body": outcome.model_dump(mode="json"),
    }


def entry_from_item(item: dict[str, Any]) -> LedgerEntry:
    """The typed entry of a stored item (plain JSON values, as ``from_item`` gives them)."""
    body = item["body"]
    common = {
        "call_key": item["entry_key"],
        "revision": item.get("revision") or None,
        "recorded_at": item.get("recorded_at"),
    }
    kind = item.get("kind")
    if kind == "outcome":
        return LedgerEntry(**common, outcome=Outcome.model_validate(body))
    if kind == "delivery":
        return LedgerEntry(**common, delivery=DeliveryReport.model_validate(body))
    return LedgerEntry(**common, report=StepReport.model_validate(body))


class DynamoDbLedger:
    def __init__(self, table: Any) -> None:
        self._table = table

    def record_step(self, call_key: str, report: StepReport) -> None:
        self._table.put_item(Item=to_item(step_item(call_key, report)))

    def record_outcome(self, call_key: str, outcome: Outcome) -> None:
        self._table.put_item(Item=to_item(outcome_item(call_key, outcome)))

    def entries(self, call_key: str) -> list[LedgerEntry]:
        """Every entry of one revision of a call (one query), in sort order (the outcome, then steps by name)."""
        partition, revision = split_call_key(call_key)
        return self._query(Key("call_key").eq(partition) & Key("sk").begins_with(f"{revision:010d}#"))

    def history(self, org_id: str, call_id: str) -> CallHistory:
        """Every entry of every revision of the call: one query (one partition)."""
        partition, _ = split_call_key(make_call_key(org_id, call_id, 1))
        return CallHistory(entries=self._query(Key("call_key").eq(partition)))

    def all_entries(self) -> list[LedgerEntry]:
        """Every entry in the table (a scan: for the local runner's report, not for Lambda)."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = self._table.scan(**kwargs)
            items.extend(from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                items.sort(key=lambda i: (i["call_key"], i["sk"]))
                return [entry_from_item(i) for i in items]
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _query(self, condition: Any) -> list[LedgerEntry]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ConsistentRead": True}
        while True:
            page = self._table.query(**kwargs)
            items.extend(from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return [entry_from_item(i) for i in items]
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
