"""What ``callsync revert`` and ``callsync reassociate`` need from Salesforce (adapter:
``callsync.adapters.salesforce_records``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from callsync.domain.revert_plan import CurrentState, RecordRef


class RecordReverter(Protocol):
    def read(
        self, records: Sequence[RecordRef], people: Sequence[str], relation_objects: Sequence[str]
    ) -> CurrentState:
        """The records as they are now (None for a deleted or invisible one) and the records that point at
        ``people`` (Tasks/Events by WhoId, contact roles, and relations of ``relation_objects``): one
        composite request per 25 reads.

        Raises:
            RetryableError / PermanentError: from the Salesforce gateway.
        """

    def write(self, updates: Sequence[dict[str, Any]], deletes: Sequence[str]) -> dict[str, str]:
        """Send the updates (sObject Collections records) and the deletes (ids, in order) in one composite
        request; returns the failures by record id (a record already deleted is not a failure).

        Raises:
            RetryableError / PermanentError: the request as a whole failed.
        """
