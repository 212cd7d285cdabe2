"""Org settings v1: one item per ``org_id`` in the settings table (INTERFACES.md §2)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Policy = Literal["default", "append", "overwrite", "fill_empty", "union", "skip"]
ActivityMode = Literal["tasks", "events", "smart"]
MATCHED_OBJECTS = ("Opportunity", "Account", "Contact")  # found by MatchOpportunity; other objects need a via


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class FieldMapping(_Model):
    """One insight → one Salesforce field.

    ``object`` is Opportunity, Account, Contact, or any other object reached
    through ``via`` (its lookup field pointing at the matched Opportunity/Account).
    """

    insight: str = Field(min_length=1)
    object: str = Field(min_length=1)
    field: str = Field(min_length=1)
    policy: Policy = "default"
    via: str | None = None

    @model_validator(mode="after")
    def _via_for_other_objects(self) -> FieldMapping:
        if self.object not in MATCHED_OBJECTS and not self.via:
            raise ValueError(
                f"mapping for {self.object}.{self.field} needs 'via': the lookup field on {self.object} "
                "that points at the matched Opportunity or Account"
            )
        return self


class FieldSync(_Model):
    enabled: bool = False
    mappings: list[FieldMapping] = Field(default_factory=list)


class ActivitySync(_Model):
    enabled: bool = True
    mode: ActivityMode = "smart"


class Toggle(_Model):
    enabled: bool = False


class EmailContext(_Model):
    enabled: bool = False
    days: int = Field(default=90, ge=1)
    max: int = Field(default=20, ge=1)


class WinLoss(_Model):
    enabled: bool = False
    loss_reason_field: str | None = None
    lookback_days: int = Field(default=7, ge=1)


def _domain_list(values: list[str], what: str) -> list[str]:
    """Domains compared case-insensitively: stripped, lower-cased, a leading ``@`` dropped, no duplicates."""
    cleaned: dict[str, None] = {}
    for raw in values:
        domain = raw.strip().lower().removeprefix("@")
        if not domain or "@" in domain or " " in domain or "." not in domain:
            raise ValueError(f"{what}: {raw!r} is not a domain (e.g. example.com)")
        cleaned.setdefault(domain, None)
    return list(cleaned)


class Exclusions(_Model):
    """Calls that write nothing to Salesforce (the run ends SKIPPED with the reason)."""

    internal_only: bool = True  # no external participant
    private: bool = True  # the event is marked ``private``
    domains: list[str] = Field(default_factory=list)  # a participant of one of these domains (or a subdomain)
    title_keywords: list[str] = Field(default_factory=list)  # case-insensitive, anywhere in the title

    @field_validator("domains")
    @classmethod
    def _domains(cls, values: list[str]) -> list[str]:
        return _domain_list(values, "exclusions.domains")

    @field_validator("title_keywords")
    @classmethod
    def _keywords(cls, values: list[str]) -> list[str]:
        cleaned = [" ".join(v.split()) for v in values]
        if any(not v for v in cleaned):
            raise ValueError("exclusions.title_keywords: a keyword cannot be empty")
        return cleaned


class ApiBudget(_Model):
    max_share: float = Field(default=0.8, gt=0, le=1)  # of the org's daily API allocation


class OrgSettings(_Model):
    org_id: str = Field(min_length=1)
    internal_domains: list[str] = Field(default_factory=list)
    autosync: bool = True
    subject_prefix: str = "[callsync]"
    field_sync: FieldSync = Field(default_factory=FieldSync)
    activity_sync: ActivitySync = Field(default_factory=ActivitySync)
    contact_creation: Toggle = Field(default_factory=Toggle)
    notes_sync: Toggle = Field(default_factory=Toggle)
    task_sync: Toggle = Field(default_factory=Toggle)
    account_link_field: str | None = None
    # Read side (deal context, closed deals)
    prep_fields: list[str] = Field(default_factory=list)
    email_context: EmailContext = Field(default_factory=EmailContext)
    win_loss: WinLoss = Field(default_factory=WinLoss)
    # Version 1.1
    exclusions: Exclusions = Field(default_factory=Exclusions)
    protect_human_edits: bool = True
    api_budget: ApiBudget = Field(default_factory=ApiBudget)
    preview: bool = False
    # Domains of personal mailboxes added to the built-in list (domain.contact_plan.PERSONAL_DOMAINS).
    personal_domains: list[str] = Field(default_factory=list)

    @field_validator("personal_domains")
    @classmethod
    def _personal_domains(cls, values: list[str]) -> list[str]:
        return _domain_list(values, "personal_domains")

    @property
    def internal_domain_set(self) -> frozenset[str]:
        return frozenset(d.strip().lower() for d in self.internal_domains)

    def mapped_fields(self, object_name: str) -> list[str]:
        """API names of the fields mapped on ``object_name`` (order kept, no duplicates)."""
        seen: dict[str, None] = {}
        for mapping in self.field_sync.mappings:
            if mapping.object == object_name:
                seen.setdefault(mapping.field, None)
        return list(seen)
