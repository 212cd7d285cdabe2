"""What the account-link backfill needs: Account reads and writes in Salesforce, and a checkpoint store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from callsync.models.backfill import AccountLink, BackfillCheckpoint


class AccountLinkStore(Protocol):
    def find(self, field: str, account_ids: Sequence[str], domains: Sequence[str]) -> list[AccountLink]:
        """Accounts whose Id is in ``account_ids`` or whose Website may have one of ``domains``, with ``field``.

        Batched: one composite request for an ordinary batch of 200 lines. May return Accounts whose
        Website only contains the domain; the caller compares normalised domains.
        """

    def fill(self, field: str, updates: Mapping[str, str]) -> dict[str, str | None]:
        """Set ``field`` on each Account (id → value): one sObject Collections request per 200, allOrNone false.

        Returns Account id → None when saved, else Salesforce's error (``CODE: message``).
        """

    @property
    def api_requests(self) -> int:
        """Salesforce requests made so far (as Salesforce counts them)."""

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """``(used, allocation)`` of the org's daily API requests from the last answer's Sforce-Limit-Info."""


class BackfillCheckpoints(Protocol):
    def get(self, org_id: str, file_hash: str) -> BackfillCheckpoint | None: ...

    def save(self, checkpoint: BackfillCheckpoint) -> None:
        """Store the checkpoint unless a later one (larger ``next_line``) of the same file is stored."""

    def clear(self, org_id: str, file_hash: str) -> None: ...
