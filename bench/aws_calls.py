"""Counts the AWS API calls (DynamoDB, Secrets Manager, ...) that handlers make, for the cost estimate.

Instrumentation for the benchmark only: it wraps ``botocore``'s one entry point for every
API call and counts a call only while a ``counting()`` block is open in the same thread (so
the runner's own polling and the Step Functions interpreter are not counted).
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import BaseClient

DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
DYNAMODB_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})


class AwsCallCounter:
    """``install()`` once, then ``with counter.counting() as calls:`` → ``{"dynamodb.PutItem": n, ...}``.

    DynamoDB writes also add ``dynamodb.WRU`` (one per started KB of the item sent, an
    estimate of on-demand write units) and reads ``dynamodb.RRU`` (one per request: items
    here are well under 4 KB; a Query returning more is under-counted).
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._original: Any = None

    def install(self) -> None:
        if self._original is not None:
            return
        original = BaseClient._make_api_call
        counter = self

        def counted(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            calls: Counter[str] | None = getattr(counter._local, "calls", None)
            if calls is not None:
                service = client.meta.service_model.service_name
                calls[f"{service}.{operation_name}"] += 1
                if service == "dynamodb" and operation_name in DYNAMODB_WRITES:
                    size = len(json.dumps(api_params, default=str))
                    calls["dynamodb.WRU"] += max(1, math.ceil(size / 1024))
                elif service == "dynamodb" and operation_name in DYNAMODB_READS:
                    calls["dynamodb.RRU"] += 1
            return original(client, operation_name, api_params)

        self._original = original
        BaseClient._make_api_call = counted  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            BaseClient._make_api_call = self._original  # type: ignore[method-assign]
            self._original = None

    @contextmanager
    def counting(self) -> Iterator[Counter[str]]:
        previous = getattr(self._local, "calls", None)
        calls: Counter[str] = Counter()
        self._local.calls = calls
        try:
            yield calls
        finally:
            self._local.calls = previous
            if previous is not None:
                previous.update(calls)
