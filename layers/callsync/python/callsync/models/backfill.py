"""The account-link backfill: its input lines, what happened to each, its checkpoint and its summary."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LinkLine(_Model):
    """One valid line of COMPANIES.jsonl: an Account chosen by id or by website domain, and its URL."""

    line: int = Field(ge=1)
    account_id: str | None = None
    domain: str | None = None  # normalised (``website_domain``): no scheme, no ``www.``, lower case
    url: str


class InvalidLine(_Model):
    """A line that cannot be used, and why (the message names the field)."""

    line: int = Field(ge=1)
    reason: str


class LineStatus(StrEnum):
    FILLED = "filled"  # the link field of at least one matching Account was empty and is now set
    ALREADY_SET = "already_set"  # every matching Account already had a link (or an earlier line set it)
    NO_MATCH = "no_match"  # no Account has this id / website domain
    INVALID = "invalid"  # the line itself is unusable
    FAILED = "failed"  # Salesforce refused the write of at least one matching Account


class LineOutcome(_Model):
    line: int
    status: LineStatus
    account_ids: tuple[str, ...] = ()
    reason: str | None = None


class AccountLink(_Model):
    """An Account as the backfill reads it: its Website and the current value of the link field."""

    id: str
    website: str | None = None
    link: str | None = None


class BackfillCounts(_Model):
    """Lines per status (a line that matched several Accounts counts once)."""

    filled: int = 0
    already_set: int = 0
    no_match: int = 0
    invalid: int = 0
    failed: int = 0

    def plus(self, outcomes: list[LineOutcome]) -> BackfillCounts:
        counts = self.model_dump()
        for outcome in outcomes:
            counts[outcome.status.value] += 1
        return BackfillCounts(**counts)


class BackfillCheckpoint(_Model):
    """How far a backfill of one file (by content hash) got: every line before ``next_line`` is settled."""

    org_id: str
    file_hash: str
    next_line: int = 1
    counts: BackfillCounts = Field(default_factory=BackfillCounts)
    problems: tuple[LineOutcome, ...] = ()  # invalid and failed lines so far
    batches: int = 0
    api_requests: int = 0
    done: bool = False


class BackfillStatus(StrEnum):
    COMPLETED = "COMPLETED"  # every line settled
    DEFERRED = "DEFERRED"  # stopped before exceeding api_budget.max_share; run again to resume
    INTERRUPTED = "INTERRUPTED"  # Salesforce or AWS failed mid-way; run again to resume
    ALREADY_DONE = "ALREADY_DONE"  # this file's backfill had already completed (--restart runs it again)


class BackfillSummary(_Model):
    org_id: str
    file_hash: str
    status: BackfillStatus
    reason: str | None = None
    lines: int  # non-blank lines in the file
    resumed_from_line: int | None = None  # set when an earlier run's checkpoint was used
    next_line: int  # the first line not settled yet (lines + 1 when complete)
    counts: BackfillCounts
    problems: tuple[LineOutcome, ...] = ()
    api_requests: int = 0  # Salesforce requests of this run
    api_usage: tuple[int, int] | None = None  # (used, allocation) from the last Sforce-Limit-Info seen
