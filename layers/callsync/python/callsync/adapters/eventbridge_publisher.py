"""``services.watch_closed_deals.EventPublisher`` on EventBridge ``PutEvents``.

One entry per close: ``Source`` = ``callsync``, ``DetailType`` = ``deal.closed``, ``Detail`` =
``DealClosed`` JSON, on the bus named by ``EVENT_BUS_NAME``. ``PutEvents`` answers 200 even
when some entries fail: any ``FailedEntryCount`` (throttling, internal errors) is raised as a
``RetryableError`` naming the closes, so the claims stay unresolved and the next cycle
publishes them again after the lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from callsync.errors import RetryableError
from callsync.models.read_side import DealClosed

SOURCE = "callsync"
DETAIL_TYPE = "deal.closed"
MAX_ENTRIES = 10


class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str) -> None:
        self._client = client
        self._bus = bus_name

    def entries(self, events: Sequence[DealClosed]) -> list[dict[str, Any]]:
        return [
            {
                "Source": SOURCE,
                "DetailType": DETAIL_TYPE,
                "Detail": event.model_dump_json(),
                "EventBusName": self._bus,
            }
            for event in events
        ]

    def publish(self, events: Sequence[DealClosed]) -> None:
        """Put ≤10 events in one request.

        Raises:
            RetryableError: the request failed or some entries were refused.
        """
        if not events:
            return
        if len(events) > MAX_ENTRIES:
            raise ValueError(f"PutEvents takes at most {MAX_ENTRIES} entries, got {len(events)}")
        try:
            answer = self._client.put_events(Entries=self.entries(events))
        except (ClientError, BotoCoreError) as e:
            raise RetryableError(f"EventBridge PutEvents failed: {type(e).__name__}", code="PutEvents") from e
        if answer.get("FailedEntryCount"):
            failed = [
                f"{event.close_id} ({entry.get('ErrorCode')})"
                for event, entry in zip(events, answer.get("Entries") or [], strict=False)
                if entry.get("ErrorCode")
            ]
            raise RetryableError(f"EventBridge refused {answer['FailedEntryCount']} deal.closed event(s): "
                                 f"{', '.join(failed)}", code="FailedEntry")  # fmt: skip
