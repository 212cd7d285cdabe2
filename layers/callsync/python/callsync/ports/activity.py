"""What LogActivity needs from Salesforce (adapter: ``callsync.adapters.salesforce_activity``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from callsync.errors import CallsyncError, RetryableError


@dataclass
class RecordWrite:
    """One record to create (``id`` None) or update."""

    object: str
    fields: dict[str, Any]
    id: str | None = None
    key: str | None = None  # follow-up key


@dataclass
class LookupRequest:
    """What to look for in Salesforce, in one composite of ≤5 queries."""

    activity_kinds: list[str] = field(default_factory=list)  # Task / Event; empty: no activity query
    subjects: list[str] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)  # Task ActivityDate
    window: tuple[datetime, datetime] | None = None  # Event StartDateTime
    related_ids: list[str] = field(default_factory=list)
    activity_ids: list[str] = field(default_factory=list)  # records the ledger names: read whatever they became
    shared_activities: bool = False  # read Task/EventRelations with the candidates
    follow_up_subjects: list[str] = field(default_factory=list)
    note_title: str | None = None
    note_entities: list[str] = field(default_factory=list)


@dataclass
class LookupResult:
    activities: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)  # Task: Id, Subject, Description
    note_links: list[dict[str, Any]] = field(default_factory=list)  # ContentDocumentLink: ContentDocumentId, ...
    activities_queried: bool = False  # False: ``activities`` says nothing (not looked up)


@dataclass
class WritePlan:
    activity: RecordWrite | None = None
    relations: list[str] = field(default_factory=list)  # contact ids to attach to the activity
    note: RecordWrite | None = None
    note_links: list[str] = field(default_factory=list)  # entity ids to link the note to
    note_id: str | None = None  # the existing note ``note_links`` point to when ``note`` is not rewritten
    follow_ups: list[RecordWrite] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.activity or self.relations or self.note or self.note_links or self.follow_ups)


@dataclass
class SaveResult:
    """One record's answer within the write: saved (``ok``, its ``id``), or refused with Salesforce's error."""

    id: str | None
    ok: bool
    error: str | None = None  # "CODE: message"
    failure: CallsyncError | None = None  # the refusal in callsync's error tree (retryable or permanent)

    @property
    def retryable(self) -> bool:
        return isinstance(self.failure, RetryableError)


@dataclass
class WriteOutcome:
    """Each part of the write on its own: one refused part never undoes another (``allOrNone: false``)."""

    activity: SaveResult | None = None
    relations: dict[str, SaveResult] = field(default_factory=dict)  # contact id -> relation record
    note: SaveResult | None = None
    note_links: dict[str, SaveResult] = field(default_factory=dict)  # entity id -> link record
    follow_ups: dict[str, SaveResult] = field(default_factory=dict)  # key -> Task
    stale: list[str] = field(default_factory=list)  # update targets deleted in Salesforce since they were known

    @property
    def activity_id(self) -> str | None:
        return self.activity.id if self.activity is not None and self.activity.ok else None

    @property
    def note_id(self) -> str | None:
        return self.note.id if self.note is not None and self.note.ok else None

    def refusals(self) -> list[SaveResult]:
        parts = [
            self.activity,
            self.note,
            *self.relations.values(),
            *self.note_links.values(),
            *self.follow_ups.values(),
        ]
        return [p for p in parts if p is not None and not p.ok]


class ActivityStore(Protocol):
    """Salesforce as LogActivity needs it (``adapters.salesforce_activity``)."""

    @property
    def instance_url(self) -> str: ...

    @property
    def api_requests(self) -> int: ...

    @property
    def integration_user_id(self) -> str | None:
        """The User callsync writes as (a record last changed by anyone else was changed by a person); None: unknown."""

    def lookup(self, request: LookupRequest) -> LookupResult:
        """Existing activities, follow-ups and note links: one composite request."""

    def write(self, plan: WritePlan) -> WriteOutcome:
        """Everything in one composite request with references, each part saved or refused on its own.

        The activity comes first; relations reference it, note links reference the note (the one written
        here, else the existing ``plan.note_id``). A refused part is
        returned in the outcome (with its error), and what depends on it is refused with it; the rest stays
        written. An update whose record was deleted is listed in ``stale``.

        Raises:
            RetryableError / PermanentError: the request as a whole failed (nothing was written).
        """
