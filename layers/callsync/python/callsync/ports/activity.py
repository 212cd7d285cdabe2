"""What LogActivity needs from Salesforce (adapter: ``callsync.adapters.salesforce_activity``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol


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
    follow_ups: list[RecordWrite] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.activity or self.relations or self.note or self.note_links or self.follow_ups)



@dataclass
class SaveResult:
    id: str | None
    ok: bool
    error: str | None = None  # "CODE: message"



@dataclass
class WriteOutcome:
    activity_id: str | None = None
    relations: dict[str, SaveResult] = field(default_factory=dict)  # contact id -> relation record
    note_id: str | None = None
    note_links: dict[str, SaveResult] = field(default_factory=dict)  # entity id -> link record
    follow_ups: dict[str, str] = field(default_factory=dict)  # key -> Task id



class StaleRecord(Exception):
    """An update targeted a record that no longer exists (deleted since an earlier sync)."""

    def __init__(self, record_id: str) -> None:
        super().__init__(f"record {record_id} no longer exists")
        self.record_id = record_id



class ActivityStore(Protocol):
    """Salesforce as LogActivity needs it (``adapters.salesforce_activity``)."""

    @property
    def instance_url(self) -> str: ...

    @property
    def api_requests(self) -> int: ...

    def lookup(self, request: LookupRequest) -> LookupResult:
        """Existing activities, follow-ups and note links: one composite request."""

    def write(self, plan: WritePlan) -> WriteOutcome:
        """Everything in one composite request with references, ``allOrNone``.

        Raises:
            StaleRecord: an update hit a deleted record (nothing was written).
            RetryableError / PermanentError: anything else (nothing was written).
        """

