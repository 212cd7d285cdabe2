"""Builders and an in-memory Salesforce (``FakeActivityStore``) for the LogActivity unit tests."""

from __future__ import annotations

import re
from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

from callsync.domain.activity_kind import title_words
from callsync.domain.activity_plan import call_ref
from callsync.errors import SalesforceRejected, SalesforceRowLocked, SalesforceUnavailable
from callsync.models.event import CallProcessed
from callsync.models.match import AccountInfo, ContactsResult, MatchResult, OpportunityInfo, Person
from callsync.models.settings import OrgSettings
from callsync.models.state import SyncState
from callsync.ports.activity import LookupRequest, LookupResult, SaveResult, WriteOutcome, WritePlan

from tests.support.fakes import FakeDescribeSource

CALL_START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
HOST = "005HOST"
BOB = "005BOB"
OWNER = "005OWNER"
OPP = "006OPP"
ACCOUNT = "001ACC"
JANE = "003JANE"


def make_call(**extra: Any) -> CallProcessed:
    body: dict[str, Any] = {
        "schema_version": 1,
        "org_id": "acme",
        "call_id": "c1",
        "title": "Globex weekly",
        "started_at": CALL_START.isoformat(),
        "duration_seconds": 1830,
        "medium": "video",
        "host_email": "alice@ourco.com",
        "participants": [{"email": "alice@ourco.com"}, {"email": "jane@globex.com"}],
        "summary": "We talked about the rollout.",
        "call_url": "https://app.example.com/calls/c1",
        "call_type": "discovery",
        **extra,
    }
    return CallProcessed.model_validate(body)


def make_settings(**extra: Any) -> OrgSettings:
    return OrgSettings.model_validate(
        {
            "org_id": "acme",
            "internal_domains": ["ourco.com"],
            "subject_prefix": "[Airspeed]",
            "activity_sync": {"enabled": True, "mode": "smart"},
            "notes_sync": {"enabled": False},
            "task_sync": {"enabled": False},
            **extra,
        }
    )


def user(email: str, uid: str | None) -> Person:
    return Person(email=email, object="User" if uid else None, id=uid)


def contact(email: str, cid: str) -> Person:
    return Person(email=email, object="Contact", id=cid, account_id=ACCOUNT)


def make_match(
    *,
    opportunity: bool = True,
    owner: str | None = OWNER,
    candidates: list[dict[str, Any]] | None = None,
    internal: list[Person] | None = None,
    others: int = 0,
    **extra: Any,
) -> MatchResult:
    fields: dict[str, Any] = {
        "internal": internal if internal is not None else [user("alice@ourco.com", HOST), user("bob@ourco.com", BOB)],
        "host_user_id": HOST if internal is None else None,
        "opportunity": OpportunityInfo(id=OPP, name="Globex deal", account_id=ACCOUNT, owner_id=owner)
        if opportunity
        else None,
        "account": AccountInfo(id=ACCOUNT, name="Globex"),
        "primary_contact": contact("jane@globex.com", JANE),
        "contacts": [contact(f"p{i}@globex.com", f"003P{i:03d}") for i in range(others)],
        "activity_candidates": candidates,
    }
    return MatchResult(**{**fields, **extra})


def make_state(
    call: CallProcessed | None = None,
    settings: OrgSettings | None = None,
    match: MatchResult | None = None,
    contacts: ContactsResult | None = None,
) -> SyncState:
    return SyncState(
        call=call or make_call(),
        settings=settings or make_settings(),
        match=match if match is not None else make_match(candidates=[]),
        contacts=contacts,
    )


def _describe(name: str, fields: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    base = [{"name": "Id", "type": "id"}]
    return {
        "name": name,
        "createable": True,
        "updateable": True,
        **extra,
        "fields": [{"createable": True, "updateable": True, **f} for f in base + fields],
    }


def _pick(name: str, values: list[str], **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "picklist", "picklistValues": [{"value": v, "active": True} for v in values], **extra}


COMMON = [
    {"name": n, "type": t}
    for n, t in (
        ("Subject", "combobox"),
        ("Description", "textarea"),
        ("ActivityDate", "date"),
        ("OwnerId", "reference"),
        ("WhatId", "reference"),
        ("WhoId", "reference"),
    )
]


def describes(
    *,
    task_status: list[str] | None = None,
    types: list[str] | None = None,
    shared: bool = True,
    note: bool = True,
    hidden: tuple[str, ...] = (),
) -> FakeDescribeSource:
    types = types if types is not None else ["Call", "Discovery", "Demo"]
    status = task_status if task_status is not None else ["Not Started", "In Progress", "Completed"]
    task = [
        *COMMON,
        _pick("Type", types),
        _pick("Status", status),
        _pick("TaskSubtype", ["Task", "Email", "Call"], updateable=False),
        {"name": "CallDurationInSeconds", "type": "int"},
    ]
    event = [
        *COMMON,
        _pick("Type", types),
        {"name": "StartDateTime", "type": "datetime"},
        {"name": "EndDateTime", "type": "datetime"},
        {"name": "DurationInMinutes", "type": "int"},
    ]
    out: dict[str, Any] = {
        "Task": _describe("Task", [f for f in task if f["name"] not in hidden]),
        "Event": _describe("Event", [f for f in event if f["name"] not in hidden]),
    }
    if note:
        out["ContentNote"] = _describe(
            "ContentNote", [{"name": "Title", "type": "string"}, {"name": "Content", "type": "base64"}]
        )
        out["ContentDocumentLink"] = _describe(
            "ContentDocumentLink",
            [{"name": n, "type": "reference"} for n in ("ContentDocumentId", "LinkedEntityId")]
            + [{"name": "ShareType", "type": "picklist"}],
        )
    return FakeDescribeSource(out, shared_activities=shared)


INTEGRATION_USER = "005000000000INT"


def now_stamp() -> str:
    """A Salesforce datetime of now (what a write stamps as ``LastModifiedDate``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class Crash(Exception):
    """The Lambda died after Salesforce committed (timeout, out of memory)."""


class FakeActivityStore:
    """Salesforce as LogActivity sees it: records by id, one request per lookup/write.

    ``lookup`` filters like the adapter's SOQL (subject case-insensitively,
    related ids, note title + linked entity); ``write`` applies a plan
    atomically. ``crash_after_write`` commits and then raises ``Crash``;
    ``fail_next`` raises an error before committing.
    """

    instance_url = "https://acme.my.salesforce.com"
    integration_user_id = INTEGRATION_USER

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.api_requests = 0
        self.lookups: list[LookupRequest] = []
        self.writes: list[WritePlan] = []
        self.crash_after_write = False
        self.fail_next: Exception | None = None
        self.refuse: dict[str, tuple[str, str]] = {}  # object -> (errorCode, message): every save of it refused
        self._n = 0

    def new_id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n:012d}"

    def add(self, obj: str, **fields: Any) -> str:
        prefix = {"Task": "00T", "Event": "00U", "ContentNote": "069"}.get(obj, "0XX")
        rid = self.new_id(prefix)
        self.records[rid] = {"attributes": {"type": obj}, "Id": rid, **fields}
        return rid

    def of(self, obj: str) -> list[dict[str, Any]]:
        return [r for r in self.records.values() if r["attributes"]["type"] == obj]

    def lookup(self, request: LookupRequest) -> LookupResult:
        self.api_requests += 1
        self.lookups.append(request)
        word_lists = [w for w in (title_words(s) for s in request.subjects) if w]
        words = min(word_lists, key=len) if word_lists else []
        like = re.compile(".*".join(re.escape(w) for w in words), re.IGNORECASE)  # Subject LIKE '%w%w%'
        related = set(request.related_ids)
        result = LookupResult(activities_queried=bool(request.activity_kinds))
        for kind in request.activity_kinds:
            for r in self.of(kind):
                linked = {r.get("WhoId"), r.get("WhatId")} | {x["RelationId"] for x in self._relations(r["Id"])}
                found = words and like.search(str(r.get("Subject", ""))) and (not related or linked & related)
                if found or r["Id"] in request.activity_ids:
                    record = deepcopy(r)
                    if request.shared_activities:
                        record[f"{kind}Relations"] = {"records": self._relations(r["Id"])}
                    result.activities.append(record)
        wanted = {s.casefold() for s in request.follow_up_subjects}
        result.follow_ups = [deepcopy(r) for r in self.of("Task") if str(r.get("Subject", "")).casefold() in wanted]
        if request.note_title:
            for link in self.of("ContentDocumentLink"):
                note = self.records.get(link["ContentDocumentId"])
                if note and note["Title"] == request.note_title and link["LinkedEntityId"] in request.note_entities:
                    result.note_links.append(
                        {"ContentDocumentId": note["Id"], "LinkedEntityId": link["LinkedEntityId"]}
                    )
        return result

    def _relations(self, parent: str) -> list[dict[str, Any]]:
        return [
            {"RelationId": r["RelationId"]}
            for obj in ("TaskRelation", "EventRelation")
            for r in self.of(obj)
            if r.get("TaskId", r.get("EventId")) == parent
        ]

    def write(self, plan: WritePlan) -> WriteOutcome:
        """Each part saved or refused on its own (``allOrNone: false``), like the adapter."""
        self.api_requests += 1
        self.writes.append(deepcopy(plan))
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        out = WriteOutcome()
        if plan.activity is not None:
            out.activity = self._save(plan.activity.object, plan.activity.fields, plan.activity.id, out)
            parent = "EventId" if plan.activity.object == "Event" else "TaskId"
            for contact_id in plan.relations:
                if out.activity_id is None:
                    out.relations[contact_id] = self._dependent_refused()
                    continue
                rid = self.add(f"{plan.activity.object}Relation", **{parent: out.activity_id, "RelationId": contact_id})
                out.relations[contact_id] = SaveResult(rid, True)
        if plan.note is not None:
            out.note = self._save("ContentNote", plan.note.fields, plan.note.id, out)
        note_id = out.note_id if plan.note is not None else plan.note_id  # links on their own: the existing note
        for entity in plan.note_links:
            out.note_links[entity] = (
                SaveResult(self.add("ContentDocumentLink", ContentDocumentId=note_id, LinkedEntityId=entity), True)
                if note_id
                else self._dependent_refused()
            )
        for w in plan.follow_ups:
            out.follow_ups[str(w.key)] = self._save("Task", w.fields, w.id, out)
        if self.crash_after_write:
            self.crash_after_write = False
            raise Crash("the function died after the write")
        return out

    def _save(self, obj: str, fields: dict[str, Any], rid: str | None, out: WriteOutcome) -> SaveResult:
        refusal = self.refuse.get(obj)
        if refusal is not None:
            code, message = refusal
            error = (
                SalesforceRowLocked(message, code=code)
                if code == "UNABLE_TO_LOCK_ROW"
                else SalesforceRejected(message, code=code)
            )
            return SaveResult(None, False, f"{code}: {message}", error)
        if rid and rid not in self.records:
            out.stale.append(rid)
            return SaveResult(None, False, "ENTITY_IS_DELETED: entity is deleted", SalesforceRejected("deleted"))
        stamp = {"LastModifiedById": INTEGRATION_USER, "LastModifiedDate": now_stamp()}
        if rid:
            self.records[rid].update(deepcopy(fields), **stamp)
            return SaveResult(rid, True)
        return SaveResult(self.add(obj, **deepcopy(fields), **stamp), True)

    @staticmethod
    def _dependent_refused() -> SaveResult:
        return SaveResult(None, False, "INVALID_FIELD: a referenced part was refused", SalesforceRejected("reference"))


def unavailable() -> SalesforceUnavailable:
    return SalesforceUnavailable(
        "Salesforce is unavailable for composite request (HTTP 503)", code="SERVER_UNAVAILABLE"
    )


def marker_of(call: CallProcessed, key: str | None = None) -> str:
    return call_ref(call, key)
