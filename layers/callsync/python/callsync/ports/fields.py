"""What SyncFields needs from Salesforce (adapter: ``callsync.adapters.salesforce_fields``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from callsync.models.fields import ReadOutcome, RecordRead, RecordWrite, WriteOutcome


class FieldStore(Protocol):
    """What SyncFields needs from Salesforce: one batched read, one batched write."""

    @property
    def instance_url(self) -> str: ...

    @property
    def integration_user_id(self) -> str | None:
        """The Salesforce user callsync writes as (from the org's OAuth identity); None when unknown."""

    @property
    def api_requests(self) -> int:
        """Salesforce API requests made so far (as counted against the daily limit)."""

    def read(self, reads: Sequence[RecordRead]) -> dict[str, ReadOutcome]:
        """Current values for each read, keyed by ``RecordRead.key``; one request for all of them.

        A read by ``via`` returns the newest record (LastModifiedDate) whose ``via``
        equals ``parent_id``, or ``record=None``. A failed query is returned as
        ``ReadOutcome.error``.

        Raises:
            RetryableError: the request as a whole failed transiently.
        """

    def write(self, writes: Sequence[RecordWrite]) -> dict[str, WriteOutcome]:
        """Apply updates and creates in one request (not all-or-none), outcome per ``RecordWrite.key``.

        Raises:
            RetryableError: the request as a whole failed transiently (nothing was written).
        """
