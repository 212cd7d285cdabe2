"""What the deal-context service needs from Salesforce (adapter: ``callsync.adapters.salesforce_context``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from callsync.ports.match import MatchQuery, MatchRead


@dataclass(frozen=True)
class EmailPlan:
    since: datetime
    max: int
    fields: tuple[str, ...]  # visible EmailMessage fields, Id first


@dataclass(frozen=True)
class ContextReadPlan:
    """What the reader reads: the match query plus what the read side adds."""

    query: MatchQuery
    emails: EmailPlan | None = None
    opportunity_id: str | None = None
    account_id: str | None = None
    users: bool = True  # User readable
    leads: bool = True  # Lead readable
    accounts: bool = True
    contact_emails: bool = True  # EmailMessageRelation readable (how emails reach Contacts)


@dataclass
class ContextRead:
    match: MatchRead
    accounts: list[dict[str, Any]] = field(default_factory=list)
    emails_by_parent: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # parent id -> emails
    email_parents: set[str] = field(default_factory=set)  # ids read with the Emails subquery (all fetched)


class ContextReader(Protocol):
    def read_context(self, plan: ContextReadPlan) -> ContextRead:
        """Everything in one composite per 20 participants (two with the Contacts' emails: ≤5 queries each).

        Raises:
            RetryableError / PermanentError: from the Salesforce gateway.
        """

    def opportunity_emails(self, plan: ContextReadPlan, opportunity_id: str) -> list[dict[str, Any]]:
        """Emails related to one Opportunity (one query)."""
