"""``ports.revert.RecordReverter`` over ``ports.SalesforceApi``: read records back by id, update and delete them.

Reads: one composite request holds a GET ``sobjects/{Object}/{Id}?fields=...`` per record (a deleted or
invisible record answers 404: it is gone) and up to five queries for the records that point at the people
callsync created (Task/Event ``WhoId``, ``OpportunityContactRole.ContactId``, Shared Activities relations),
25 subrequests per composite. Writes: one composite request with an sObject Collections PATCH (≤200
records) and an sObject Collections DELETE (≤200 ids). Every SOQL value goes through ``format_soql``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from simple_salesforce.format import format_soql

from callsync.adapters.salesforce_answers import malformed, reads_answers
from callsync.adapters.salesforce_api import all_records, query_subrequest
from callsync.adapters.salesforce_errors import error_items, raise_for_subresponse
from callsync.domain.revert_plan import CurrentState, RecordRef, Usage
from callsync.models.describe import is_api_name
from callsync.ports import SalesforceApi
from callsync.ports.revert import WriteOutcome

MAX_SUBREQUESTS = 25
MAX_HEAVY = 5  # queries and sObject Collections subrequests per composite
MAX_COLLECTION = 200
GONE = frozenset({"ENTITY_IS_DELETED", "NOT_FOUND", "INVALID_CROSS_REFERENCE_KEY"})
RELATION_PARENTS = {"EventRelation": "EventId", "TaskRelation": "TaskId"}


def _name(value: str) -> str:
    if not is_api_name(value):
        raise ValueError(f"not a Salesforce API name: {value!r}")
    return value


def usage_queries(people: Sequence[str], relation_objects: Sequence[str]) -> list[tuple[str, str]]:
    """(referenceId, SOQL) of the queries that find what points at ``people``."""
    if not people:
        return []
    ids = list(people)
    contacts = [i for i in ids if i.startswith("003")]
    queries = [
        ("usesTask", format_soql("SELECT Id, WhoId FROM Task WHERE WhoId IN {}", ids)),
        ("usesEvent", format_soql("SELECT Id, WhoId FROM Event WHERE WhoId IN {}", ids)),
    ]
    if contacts:
        queries.append(
            (
                "usesRole",
                format_soql("SELECT Id, ContactId FROM OpportunityContactRole WHERE ContactId IN {}", contacts),
            )
        )
    for obj in relation_objects:
        parent = RELATION_PARENTS.get(obj)
        if parent:
            queries.append(
                (f"uses{obj}", format_soql(f"SELECT Id, RelationId, {parent} FROM {obj} WHERE RelationId IN {{}}", ids))  # noqa: S608
            )
    return queries[:MAX_HEAVY]


class SalesforceRecordReverter:
    def __init__(self, api: SalesforceApi) -> None:
        self._api = api

    @reads_answers("the revert's reads")
    def read(
        self, records: Sequence[RecordRef], people: Sequence[str], relation_objects: Sequence[str]
    ) -> CurrentState:
        state = CurrentState()
        pending: list[dict[str, Any]] = [
            query_subrequest(ref, soql) for ref, soql in usage_queries(people, relation_objects)
        ]
        by_ref: dict[str, RecordRef] = {}
        for n, record in enumerate(records):
            fields = ",".join(_name(f) for f in record.fields)
            ref = f"r{n}"
            by_ref[ref] = record
            url = f"sobjects/{_name(record.object)}/{quote(record.id, safe='')}?fields={quote(fields, safe=',')}"
            pending.append({"method": "GET", "url": url, "referenceId": ref})
        for start in range(0, len(pending), MAX_SUBREQUESTS):
            chunk = pending[start : start + MAX_SUBREQUESTS]
            for answer in self._api.composite(chunk):
                ref = str(answer.get("referenceId"))
                status = int(answer.get("httpStatusCode") or 0)
                if ref in by_ref:
                    record = by_ref[ref]
                    if status == 404:
                        state.records[record.id] = None
                        continue
                    raise_for_subresponse(answer, method="GET")
                    body = answer.get("body") or {}
                    state.records[record.id] = {k: v for k, v in body.items() if k != "attributes"}
                    continue
                raise_for_subresponse(answer, method="GET")
                for row in all_records(self._api, answer.get("body") or {}):
                    state.usages.append(_usage(ref, row))
        return state

    def write(
        self, updates: Sequence[dict[str, Any]], deletes: Sequence[str], creates: Sequence[dict[str, Any]] = ()
    ) -> WriteOutcome:
        subs: list[dict[str, Any]] = []
        sent_ids: dict[str, list[str]] = {}
        for n, start in enumerate(range(0, len(creates), MAX_COLLECTION)):
            records = list(creates[start : start + MAX_COLLECTION])
            sent_ids[f"create{n}"] = [f"create#{start + i}" for i in range(len(records))]
            body = {"allOrNone": False, "records": records}
            subs.append({"method": "POST", "url": "composite/sobjects", "referenceId": f"create{n}", "body": body})
        for n, start in enumerate(range(0, len(updates), MAX_COLLECTION)):
            records = list(updates[start : start + MAX_COLLECTION])
            sent_ids[f"update{n}"] = [str(r["Id"]) for r in records]
            body = {"allOrNone": False, "records": records}
            subs.append({"method": "PATCH", "url": "composite/sobjects", "referenceId": f"update{n}", "body": body})
        for n, start in enumerate(range(0, len(deletes), MAX_COLLECTION)):
            chunk_ids = list(deletes[start : start + MAX_COLLECTION])
            sent_ids[f"delete{n}"] = chunk_ids
            joined = ",".join(quote(i, safe="") for i in chunk_ids)
            subs.append(
                {
                    "method": "DELETE",
                    "url": f"composite/sobjects?ids={joined}&allOrNone=false",
                    "referenceId": f"delete{n}",
                }
            )
        outcome = WriteOutcome(created=[None] * len(creates))
        failures = outcome.failures
        for start in range(0, len(subs), MAX_HEAVY):
            chunk = subs[start : start + MAX_HEAVY]
            for answer in self._api.composite(chunk):
                raise_for_subresponse(answer, method="PATCH")
                ref = str(answer.get("referenceId"))
                ids = sent_ids[ref]
                results = answer.get("body")
                if not isinstance(results, list) or len(results) != len(ids):
                    raise malformed(f"subrequest {ref}", "not one save result per record")
                for record_id, result in zip(ids, results, strict=True):
                    if result.get("success"):
                        if record_id.startswith("create#"):
                            outcome.created[int(record_id[len("create#") :])] = str(result.get("id"))
                        continue
                    items = error_items(result.get("errors") or [])
                    if ref.startswith("delete") and items and all(i.get("errorCode") in GONE for i in items):
                        continue
                    failures[record_id] = (
                        "; ".join(f"{i.get('errorCode')}: {i.get('message')}" for i in items) or "refused by Salesforce"
                    )
        return outcome


def _usage(ref: str, row: dict[str, Any]) -> Usage:
    obj = ref[len("uses") :]
    if obj in ("Task", "Event"):
        return Usage(object=obj, id=str(row["Id"]), person_id=str(row["WhoId"]))
    if obj == "Role":
        return Usage(object="OpportunityContactRole", id=str(row["Id"]), person_id=str(row["ContactId"]))
    parent = row.get(RELATION_PARENTS.get(obj, ""))
    return Usage(
        object=obj, id=str(row["Id"]), person_id=str(row["RelationId"]), parent_id=str(parent) if parent else None
    )
