"""What MatchOpportunity needs from Salesforce (adapter: ``callsync.adapters.salesforce_match``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from callsync.domain.matching import MatchInput
from callsync.models.describe import ObjectDescribe
from callsync.models.fields import LastModified
from callsync.models.match import AccountInfo, OpportunityInfo


@dataclass(frozen=True)
class MappedFields:
    """Visible mapped fields per object (canonical API names), read along with the records."""

    opportunity: tuple[str, ...] = ()
    account: tuple[str, ...] = ()
    contact: tuple[str, ...] = ()


@dataclass(frozen=True)
class MatchQuery:
    """What to read for one call."""

    emails: tuple[str, ...]  # every valid participant, then the action items' assignees (Users are looked up for all)
    external_emails: tuple[str, ...]  # the ones that do not look internal (Contacts/Leads/Opportunities)
    started_at: datetime
    fields: MappedFields = MappedFields()
    activity_object: str | None = None  # Task | Event | None (activity sync off: no candidates)
    activity_subjects: tuple[str, ...] = ()
    # Shared Activities on: read each candidate's Task/EventRelations too, so LogActivity does not
    # attach a contact the existing activity already has (DUPLICATE_VALUE).
    activity_relations: bool = False
    activity_describe: ObjectDescribe | None = None  # the activity object's fields: hidden ones are never selected
    # An explicit association to read by id along with the rest ("Opportunity" | "Account", record id):
    # ``crm_overrides`` or a stored ``callsync reassociate`` choice (``domain.association``).
    association: tuple[str, str] | None = None


@dataclass
class MatchRead:
    """What the reader found: rule input, current field values by record id, activity candidates."""

    data: MatchInput
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    activities: list[dict[str, Any]] | None = None
    # The explicitly associated records as read (None: the id does not exist or is not visible).
    chosen_opportunity: OpportunityInfo | None = None
    chosen_account: AccountInfo | None = None
    modified: dict[str, LastModified] = field(default_factory=dict)  # who last modified a record with values


class MatchReader(Protocol):
    def read(self, query: MatchQuery) -> MatchRead:
        """Read everything in as few requests as possible (one composite per 20 emails).

        Raises:
            RetryableError / PermanentError: from the Salesforce gateway.
        """
