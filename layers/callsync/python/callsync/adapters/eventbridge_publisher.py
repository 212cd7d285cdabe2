"""``services.watch_closed_deals.EventPublisher`` on EventBridge ``PutEvents``.

One entry per close: ``Source`` = ``callsync``, ``DetailType`` = ``deal.closed``, ``Detail`` =
``DealClosed`` JSON, on the bus named by ``EVENT_BUS_NAME``. ``PutEvents`` answers 200 even
when some entries fail (throttling, internal errors): those are returned by close id (the
entries answer in request order), the service gives their claims back and the next cycle
publishes them. A failed request is a ``RetryableError``.
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

    def publish(self, events: Sequence[DealClosed]) -> list[str]:
        """Put ≤10 events in one request; the close ids of the refused entries.

        Raises:
            RetryableError: the request failed (nothing was delivered).
        """
        if not events:
            return []
        if len(events) > MAX_ENTRIES:
            raise ValueError(f"PutEvents takes at most {MAX_ENTRIES} entries, got {len(events)}")
        try:
            answer = self._client.put_events(Entries=self.entries(events))
        except (ClientError, BotoCoreError) as e:
            raise RetryableError(f"EventBridge PutEvents failed: {type(e).__name__}", code="PutEvents") from e
        if not answer.get("FailedEntryCount"):
            return []
        entries = list(answer.get("Entries") or [])
        if len(entries) != len(events):  # cannot tell which ones went out: treat the request as failed
            raise RetryableError("EventBridge PutEvents answered an unexpected number of entries", code="PutEvents")
        return [event.close_id for event, entry in zip(events, entries, strict=True) if entry.get("ErrorCode")]
