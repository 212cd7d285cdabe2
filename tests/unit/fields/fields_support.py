"""Test support for SyncFields: a FakeFieldStore, describes, and a call state builder."""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy
from typing import Any

from callsync.errors import CallsyncError, SalesforceRejected
from callsync.models.describe import FieldDescribe, ObjectDescribe
from callsync.models.fields import LastModified, ReadOutcome, RecordRead, RecordWrite, WriteOutcome
from callsync.models.match import AccountInfo, ContactsResult, MatchResult, OpportunityInfo, Person
from callsync.models.state import SyncState

INSTANCE = "https://acme.my.salesforce.com"
OPP, ACC, CON = "006000000000001AAA", "001000000000001AAA", "003000000000001AAA"
INTEGRATION_USER = "005000000000INTAAA"


class FakeFieldStore:
    """Records by object in memory; one request per read and per write, like the adapter."""

    instance_url = INSTANCE
    integration_user_id = INTEGRATION_USER

    def __init__(self, records: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.records: dict[str, list[dict[str, Any]]] = deepcopy(records or {})
        self.api_requests = 0
        self.reads: list[list[RecordRead]] = []
        self.writes: list[list[RecordWrite]] = []
        self.fail_next_write: dict[str, CallsyncError] = {}  # target key -> error, once
        self.fail_read: dict[str, CallsyncError] = {}
        self._clock = 0
        self._ids = 0

    def record(self, object_name: str, record_id: str) -> dict[str, Any]:
        return next(r for r in self.records.get(object_name, []) if r["Id"] == record_id)

    def read(self, reads: Sequence[RecordRead]) -> dict[str, ReadOutcome]:
        self.api_requests += 1
        self.reads.append(list(reads))
        out: dict[str, ReadOutcome] = {}
        for read in reads:
            if read.key in self.fail_read:
                out[read.key] = ReadOutcome(error=self.fail_read[read.key])
                continue
            rows = self.records.get(read.object, [])
            if read.record_id is not None:
                rows = [r for r in rows if r["Id"] == read.record_id]
            else:
                rows = sorted(
                    (r for r in rows if r.get(read.via or "") == read.parent_id),
                    key=lambda r: r.get("LastModifiedDate", 0),
                    reverse=True,
                )
            row = rows[0] if rows else None
            # who last modified the record: a row's "_modified" (a person's edit), else nobody told
            modified = (row.get("_modified") or LastModified()) if read.last_modified and row is not None else None
            out[read.key] = ReadOutcome(
                record=None if row is None else {"Id": row["Id"], **{f: row.get(f) for f in read.fields}},
                last_modified=modified,
            )
        return out

    def write(self, writes: Sequence[RecordWrite]) -> dict[str, WriteOutcome]:
        self.api_requests += 1
        self.writes.append(list(writes))
        out: dict[str, WriteOutcome] = {}
        for write in writes:
            error = self.fail_next_write.pop(write.key, None)
            if error is not None:
                out[write.key] = WriteOutcome(error=error)
                continue
            self._clock += 1
            if write.record_id is None:
                self._ids += 1
                row = {"Id": f"a00{self._ids:015d}", **write.values, "LastModifiedDate": self._clock}
                self.records.setdefault(write.object, []).append(row)
                out[write.key] = WriteOutcome(record_id=row["Id"])
            else:
                row = self.record(write.object, write.record_id)
                row.update(write.values, LastModifiedDate=self._clock)
                out[write.key] = WriteOutcome(record_id=write.record_id)
        return out


def rejected(message: str = "FIELD_CUSTOM_VALIDATION_EXCEPTION: Stage needs a Next Step") -> SalesforceRejected:
    return SalesforceRejected(message, code="FIELD_CUSTOM_VALIDATION_EXCEPTION")


def field(name: str, type_: str, **kw: Any) -> FieldDescribe:
    base: dict[str, Any] = {
        "name": name,
        "type": type_,
        "createable": True,
        "updateable": True,
        "length": 255 if type_ in {"string", "url", "email", "phone"} else 0,
    }
    if type_ == "textarea":
        base["length"] = 32768
    base.update(kw)
    return FieldDescribe(**base)


def obj(name: str, *fields: FieldDescribe, updateable: bool = True, createable: bool = True) -> ObjectDescribe:
    return ObjectDescribe(
        name=name,
        updateable=updateable,
        createable=createable,
        fields={f.name: f for f in (field("Id", "id", createable=False, updateable=False), *fields)},
    )


def describes(**overrides: ObjectDescribe | None) -> dict[str, ObjectDescribe | None]:
    """The org's describes: Opportunity, Account, Contact and a Deal_Review__c via-object."""
    base: dict[str, ObjectDescribe | None] = {
        "Opportunity": obj(
            "Opportunity",
            field("Pain__c", "textarea"),
            field("Amount", "currency"),
            field("Competitors__c", "multipicklist", picklist_values=["Gong", "Chorus", "Clari"]),
            field("Forecast__c", "picklist", picklist_values=["Hot", "Warm", "Cold"]),
            field("NextStep", "string", length=255),
            field("Locked__c", "string", updateable=False, createable=False),
        ),
        "Account": obj(
            "Account",
            field("Airspeed_Link__c", "url"),
            field("Industry", "picklist", picklist_values=["Tech", "Retail"]),
        ),
        "Contact": obj("Contact", field("Champion_Notes__c", "textarea"), field("Title", "string", length=80)),
        "Deal_Review__c": obj(
            "Deal_Review__c",
            field(
                "Name", "string", length=80, nillable=False, createable=False, updateable=False, defaultedOnCreate=True
            ),
            field("Opportunity__c", "reference", referenceTo=["Opportunity"], nillable=False),
            field("Metrics__c", "textarea"),
        ),
    }
    base.update(overrides)
    return base


def call(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schema_version": 1,
        "org_id": "acme",
        "call_id": "c1",
        "title": "Globex discovery",
        "started_at": "2026-11-20T15:00:00Z",
        "duration_seconds": 1800,
        "medium": "video",
        "host_email": "alice@ourco.com",
        "participants": [{"email": "alice@ourco.com"}, {"email": "ann@globex.com", "name": "Ann"}],
        "summary": "Discovery call",
        "call_url": "https://app.example.com/calls/c1",
        "company": {"name": "Globex", "url": "https://app.example.com/companies/globex"},
        "insights": {
            "pain": "Reporting takes two days",
            "budget": "$50k",
            "competitors": ["gong", "Nope"],
            "forecast": "hot",
            "champion": "Ann pushes for it",
            "metrics": "Cut reporting to 1 hour",
        },
    }
    body.update(overrides)
    return body


MAPPINGS = [
    {"insight": "pain", "object": "Opportunity", "field": "Pain__c"},
    {"insight": "budget", "object": "Opportunity", "field": "Amount"},
    {"insight": "competitors", "object": "Opportunity", "field": "Competitors__c"},
    {"insight": "forecast", "object": "Opportunity", "field": "Forecast__c"},
    {"insight": "champion", "object": "Contact", "field": "Champion_Notes__c"},
    {"insight": "metrics", "object": "Deal_Review__c", "field": "Metrics__c", "via": "Opportunity__c"},
]


def settings(mappings: list[dict[str, Any]] | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "org_id": "acme",
        "internal_domains": ["ourco.com"],
        "field_sync": {"enabled": True, "mappings": MAPPINGS if mappings is None else mappings},
        "account_link_field": "Airspeed_Link__c",
    }
    body.update(overrides)
    return body


def match(
    current_values: dict[str, dict[str, Any]] | None = None,
    *,
    opportunity: bool = True,
    primary: bool = True,
    last_modified: dict[str, LastModified] | None = None,
) -> MatchResult:
    """The match step's result; its read-ahead carries who last modified each record read (by default: the
    integration user, long ago, so nobody's edit)."""
    return MatchResult(
        opportunity=OpportunityInfo(id=OPP, name="Globex - 500 seats", account_id=ACC) if opportunity else None,
        account=AccountInfo(id=ACC, name="Globex"),
        primary_contact=Person(email="ann@globex.com", name="Ann", object="Contact", id=CON, account_id=ACC)
        if primary
        else None,
        current_values=current_values or {},
        last_modified=last_modified if last_modified is not None else {i: LastModified() for i in current_values or {}},
    )


def state(
    *,
    match_result: MatchResult | None = None,
    contacts: ContactsResult | None = None,
    settings_body: dict[str, Any] | None = None,
    **call_overrides: Any,
) -> SyncState:
    return SyncState.model_validate(
        {
            "call": call(**call_overrides),
            "settings": settings_body or settings(),
            "match": (match_result or match()).model_dump(mode="json"),
            "contacts": contacts.model_dump(mode="json") if contacts else None,
        }
    )


def org_records(**extra: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Salesforce's records: the matched Opportunity/Account/Contact with what reps typed."""
    records = {
        "Opportunity": [
            {
                "Id": OPP,
                "Pain__c": "Rep: slow month-end",
                "Amount": 10000.0,
                "Competitors__c": "Clari",
                "Forecast__c": None,
                "NextStep": None,
                "Locked__c": None,
            }
        ],
        "Account": [{"Id": ACC, "Airspeed_Link__c": None, "Industry": "Tech"}],
        "Contact": [{"Id": CON, "Champion_Notes__c": None, "Title": "VP"}],
        "Deal_Review__c": [],
    }
    records.update(extra)
    return records


def read_ahead(store: FakeFieldStore) -> dict[str, dict[str, Any]]:
    """What the match step would have read ahead: every stored field of the three matched records."""
    return {
        OPP: {k: v for k, v in store.record("Opportunity", OPP).items() if k not in ("Id", "_modified")},
        ACC: {k: v for k, v in store.record("Account", ACC).items() if k not in ("Id", "_modified")},
        CON: {k: v for k, v in store.record("Contact", CON).items() if k not in ("Id", "_modified")},
    }
