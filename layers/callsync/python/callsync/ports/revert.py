"""What ``callsync revert`` and ``callsync reassociate`` need from Salesforce (adapter:
``callsync.adapters.salesforce_records``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from callsync.domain.revert_plan import CurrentState, RecordRef


@dataclass
class WriteOutcome:
    failures: dict[str, str] = field(default_factory=dict)  # record id (or "create#<n>") -> Salesforce's error
    created: list[str | None] = field(default_factory=list)  # the new ids, in the order of ``creates``


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

    def write(
        self, updates: Sequence[dict[str, Any]], deletes: Sequence[str], creates: Sequence[dict[str, Any]] = ()
    ) -> WriteOutcome:
        """Send the updates and creates (sObject Collections records) and the deletes (ids, in order) in one
        composite request; a record already deleted is not a failure.

        Raises:
            RetryableError / PermanentError: the request as a whole failed.
        """
