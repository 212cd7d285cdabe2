"""What MatchOpportunity and CreateContacts hand to later steps.

Later steps read these fields: add fields freely, but do not rename or drop them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from callsync.models.fields import LastModified
from callsync.models.ledger import StepReport


class Person(BaseModel):
    """A call participant resolved to a Salesforce record (or not)."""

    email: str  # lower-cased
    name: str | None = None
    company: str | None = None
    object: Literal["Contact", "Lead", "User"] | None = None
    id: str | None = None
    account_id: str | None = None  # Contacts only
    created: bool = False  # created by callsync for this call
    is_host: bool = False


class AccountInfo(BaseModel):
    id: str
    name: str | None = None
    website: str | None = None
    owner_id: str | None = None


class OpportunityInfo(BaseModel):
    id: str
    name: str | None = None
    account_id: str | None = None
    owner_id: str | None = None
    stage_name: str | None = None
    is_closed: bool = False
    is_won: bool = False
    created_date: datetime | None = None
    close_date: str | None = None
    last_activity_date: str | None = None
    last_modified_date: datetime | None = None
    account: AccountInfo | None = None  # its Account's parent fields, as read with it


class MatchResult(BaseModel):
    internal: list[Person] = Field(default_factory=list)  # host included; Users resolved when they exist
    external: list[Person] = Field(default_factory=list)  # every valid external participant, resolved or not
    skipped_emails: list[str] = Field(default_factory=list)  # malformed, with a ledger warning
    host_user_id: str | None = None
    opportunity: OpportunityInfo | None = None
    account: AccountInfo | None = None
    primary_contact: Person | None = None
    contacts: list[Person] = Field(default_factory=list)  # other external Contacts (not the primary)
    leads: list[Person] = Field(default_factory=list)
    unknown: list[Person] = Field(default_factory=list)  # external, found neither as Contact nor Lead
    # External people found neither as Contact nor Lead for whom no record may be created (a personal
    # email address and no company: domain.contact_plan.uncreatable); the report says why.
    not_created: list[Person] = Field(default_factory=list)
    # Active Users named as an action item's assignee who were not on the call (they own their follow-ups).
    assignees: list[Person] = Field(default_factory=list)
    accounts_seen: list[AccountInfo] = Field(default_factory=list)  # for contact creation's Account match
    reason: str = ""
    # How the Opportunity was chosen: link is primary | role | account; tier is 1 (open before the
    # call), 2 (closed on the call's day), 3 (created within 14 days after); candidates = how many
    # Opportunities were considered.
    link: Literal["primary", "role", "account"] | None = None
    tier: int | None = None
    candidates: int = 0
    # Read ahead for later steps so they need not query again:
    # record id -> {field API name: current value} for the mapped fields of the matched records.
    current_values: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # record id -> who last modified it (for the records in current_values): SyncFields keeps a person's
    # edit made after the call started from this call's replacing policies (domain.person_edits).
    last_modified: dict[str, LastModified] = Field(default_factory=dict)
    # Existing Tasks/Events that may already represent this call (None = not fetched).
    activity_candidates: list[dict[str, Any]] | None = None
    # When the read-ahead's request went out (UTC); None when nothing was read (older payloads too).
    read_at: datetime | None = None
    # The step's report goes to the ledger, not into the execution's state (domain.state_budget).
    report: StepReport = Field(default_factory=lambda: StepReport(step="MatchOpportunity"), exclude=True)


class ContactsResult(BaseModel):
    created: list[Person] = Field(default_factory=list)  # new Contacts/Leads
    reused: list[Person] = Field(default_factory=list)  # found through DUPLICATES_DETECTED or a claim
    failed: list[Person] = Field(default_factory=list)  # Salesforce refused them (see the report)
    enabled: bool = True  # contact_creation.enabled

    @property
    def people(self) -> list[Person]:
        """Every Contact/Lead this step resolved, to be linked to the activity."""
        return [*self.created, *self.reused]

    # The step's report goes to the ledger, not into the execution's state (domain.state_budget).
    report: StepReport = Field(default_factory=lambda: StepReport(step="CreateContacts"), exclude=True)
