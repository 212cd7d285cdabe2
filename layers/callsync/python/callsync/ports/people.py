"""What CreateContacts needs from Salesforce (adapter: ``callsync.adapters.salesforce_people``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from callsync.domain.contact_plan import NewRecord
from callsync.models.match import AccountInfo


@dataclass(frozen=True)
class SaveOutcome:
    """One record's result from the collections request, already interpreted by the adapter."""

    success: bool
    id: str | None = None
    error_code: str | None = None
    message: str = ""
    duplicate_of: tuple[str, str] | None = None  # (object, id) named by DUPLICATES_DETECTED
    retryable: bool = False
    error: Exception | None = field(default=None, compare=False)  # the callsync error to raise if retryable


class PeopleWriter(Protocol):
    def find_accounts(self, domains: list[str], names: list[str]) -> list[AccountInfo]:
        """Accounts whose Website contains one of ``domains`` or whose Name is one of ``names`` (one query)."""

    def find_people(self, emails: list[str]) -> dict[str, tuple[str, str]]:
        """email → (object, id) of existing Contacts (preferred) or unconverted Leads (one request)."""

    def create(self, records: list[NewRecord]) -> list[SaveOutcome]:
        """One sObject Collections request (allOrNone false); one outcome per record, same order."""
