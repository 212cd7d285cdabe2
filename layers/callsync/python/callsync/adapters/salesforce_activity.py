"""``services.log_activity.ActivityStore`` over ``ports.SalesforceApi``.

- ``lookup``: one composite of ≤5 queries (existing activities, follow-up
  Tasks by subject, note links by title: one per linked record, the only
  ContentDocumentLink filter on a title Salesforce accepts); more only if the
  subject lists must be chunked. Every value goes through ``format_soql``;
  every page of every answer (child relation results too) is read; a SELECT
  names only the fields the cached describe shows (a hidden ``Type`` would fail
  the query with INVALID_FIELD).
- ``write``: one composite with references and ``allOrNone``: the activity,
  its relations (one sObject Collections subrequest, ``allOrNone`` false so an
  already-attached or refused contact does not undo the call), the note, its
  ContentDocumentLinks (to the note written in the same request, or on their
  own to the existing note, ``WritePlan.note_id``) and the follow-up Tasks (single subrequests while they
  fit in 25; one collection beyond).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from simple_salesforce.format import format_soql

from callsync.adapters.activity_soql import LAST_MODIFIED, LAST_MODIFIED_BY_NAME, subject_filter
from callsync.adapters.salesforce_answers import reads_answers
from callsync.adapters.salesforce_api import all_records
from callsync.adapters.salesforce_errors import (
    error_items,
    raise_for_save_result,
    raise_for_subresponse,
    raise_for_subresponses,
)
from callsync.domain.activity_plan import visible_select
from callsync.domain.reference_text import defuse, stored_forms
from callsync.errors import CallsyncError, SalesforceUnavailable
from callsync.models.describe import ObjectDescribe
from callsync.ports import DescribeSource, SalesforceApi
from callsync.ports.activity import (
    LookupRequest,
    LookupResult,
    RecordWrite,
    SaveResult,
    WriteOutcome,
    WritePlan,
)

MAX_SUBREQUESTS = 25
MAX_HEAVY = 5  # queries + collections per composite
MAX_QUERY_CHARS = 12_000  # encoded SOQL per GET (URIs stay < 16 KB)
GONE_CODES = frozenset({"ENTITY_IS_DELETED", "NOT_FOUND"})


def _safe(value: Any) -> Any:
    """Text from the call cannot be taken for a composite reference (``domain.reference_text``)."""
    return defuse(value) if isinstance(value, str) else value


def _body(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: _safe(v) for k, v in fields.items()}


def _chunks(values: list[str], template: str, *args: Any) -> Iterable[list[str]]:
    """Split ``values`` so that each formatted query stays under MAX_QUERY_CHARS once encoded."""
    chunk: list[str] = []
    for value in values:
        trial = [*chunk, value]
        if chunk and len(quote(format_soql(template, trial, *args), safe="")) > MAX_QUERY_CHARS:
            yield chunk
            trial = [value]
        chunk = trial
    if chunk:
        yield chunk


class SalesforceActivityStore:
    """LogActivity's reads and writes, each one composite request."""

    def __init__(
        self, api: SalesforceApi, *, api_version: str = "62.0", describes: DescribeSource | None = None
    ) -> None:
        self.api = api
        self.data_path = f"/services/data/v{getattr(api, 'api_version', api_version)}/"
        self._describes = describes

    def _select(self, object_name: str, wanted: list[str]) -> str:
        """``wanted`` as a SELECT list, without the fields the integration user cannot see."""
        describe: ObjectDescribe | None = None
        if self._describes is not None:  # cached by the match step: no request
            describe = self._describes.describe([object_name]).get(object_name)
        return ", ".join(visible_select(wanted, describe))

    @property
    def instance_url(self) -> str:
        return self.api.instance_url

    @property
    def api_requests(self) -> int:
        return self.api.api_requests

    @property
    def integration_user_id(self) -> str | None:
        user = getattr(self.api, "integration_user_id", None)
        return str(user) if user else None

    # -- lookup -------------------------------------------------------------------------------

    def activity_queries(self, request: LookupRequest) -> list[tuple[str, str]]:
        """Per activity object: the records that may represent the call (``subject_filter``: the words of the
        title, the rules decide exactly), at its date, related to its records; or the ones the ledger names."""
        out: list[tuple[str, str]] = []
        if not request.subjects and not request.activity_ids:
            return out
        related = request.related_ids
        for kind in request.activity_kinds:
            if kind not in ("Task", "Event"):  # names below are ours, values all go through format_soql
                raise ValueError(f"not an activity object: {kind!r}")
            children = ""
            if request.shared_activities:
                children = f", (SELECT RelationId FROM {kind}Relations)"  # noqa: S608
            wanted = ["Id", "Subject", "WhoId", "WhatId", "AccountId", "OwnerId", "Type", "Description", "CreatedDate"]
            wanted += LAST_MODIFIED
            if kind == "Task":
                wanted += ["ActivityDate", "Status"]
                when = format_soql("ActivityDate IN {}", list(request.dates))
            else:
                wanted += ["ActivityDate", "StartDateTime", "EndDateTime", "DurationInMinutes"]
                start, end = request.window or (None, None)
                when = format_soql("StartDateTime >= {} AND StartDateTime <= {}", start, end)
            clauses: list[str] = []
            if request.subjects and related:
                clauses.append(
                    f"({subject_filter(request.subjects)} AND {when}"
                    + format_soql(" AND (WhatId IN {ids} OR WhoId IN {ids} OR AccountId IN {ids}))", ids=related)
                )
            if request.activity_ids:
                clauses.append(format_soql("Id IN {}", list(request.activity_ids)))
            if not clauses:
                continue
            where = " OR ".join(clauses)
            fields = self._select(kind, wanted)
            if "LastModifiedById" in fields.split(", "):
                fields += f", {LAST_MODIFIED_BY_NAME}"
            out.append(
                (
                    f"activities{kind}",
                    f"SELECT {fields}{children} FROM {kind} WHERE {where} "  # noqa: S608
                    "ORDER BY CreatedDate ASC LIMIT 50",
                )
            )
        return out

    def follow_up_queries(self, request: LookupRequest) -> list[tuple[str, str]]:
        fields = self._select("Task", ["Id", "Subject", "Description", "Status", "ActivityDate", "OwnerId"])
        template = (
            f"SELECT {fields} FROM Task "  # noqa: S608 (API names from describe, values via format_soql)
            "WHERE Subject IN {} ORDER BY CreatedDate DESC LIMIT 200"
        )
        return [
            (f"followups{i}", format_soql(template, chunk))
            for i, chunk in enumerate(_chunks(stored_forms(request.follow_up_subjects), template))
        ]

    def note_queries(self, request: LookupRequest) -> list[tuple[str, str]]:
        """One query per linked record: Salesforce accepts a filter on ``ContentDocument.Title`` only
        next to ``LinkedEntityId = <one id>`` (``IN`` is refused as an implementation restriction)."""
        if not request.note_title:
            return []
        template = (
            "SELECT ContentDocumentId, LinkedEntityId FROM ContentDocumentLink "
            "WHERE LinkedEntityId = {} AND ContentDocument.Title = {}"
        )
        return [
            (f"notes{i}", format_soql(template, entity, request.note_title))
            for i, entity in enumerate(dict.fromkeys(request.note_entities))
        ]

    @reads_answers("the activity lookup")
    def lookup(self, request: LookupRequest) -> LookupResult:
        queries = self.activity_queries(request) + self.follow_up_queries(request) + self.note_queries(request)
        result = LookupResult(activities_queried=bool(self.activity_queries(request)))
        for start in range(0, len(queries), MAX_HEAVY):
            batch = queries[start : start + MAX_HEAVY]
            subs = [
                {"method": "GET", "url": f"{self.data_path}query/?q={quote(q, safe='')}", "referenceId": ref}
                for ref, q in batch
            ]
            responses = self.api.composite(subs)
            raise_for_subresponses(responses, methods={ref: "GET" for ref, _ in batch})
            for response in responses:
                ref = str(response.get("referenceId"))
                records = all_records(self.api, response.get("body") or {})  # every page, children complete
                if ref.startswith("activities"):
                    result.activities += records
                elif ref.startswith("followups"):
                    result.follow_ups += records
                elif ref.startswith("notes"):
                    result.note_links += records
        return result

    # -- write --------------------------------------------------------------------------------

    def subrequests(self, plan: WritePlan) -> list[dict[str, Any]]:
        """The composite's subrequests, in dependency order."""
        subs: list[dict[str, Any]] = []
        activity_ref: str | None = None
        if plan.activity is not None:
            subs.append(self._save("activity", plan.activity))
            activity_ref = plan.activity.id or "@{activity.id}"
        if plan.relations:
            kind = plan.activity.object if plan.activity else None
            if kind is None or activity_ref is None:
                raise ValueError("relations need the activity in the same plan")
            parent = "EventId" if kind == "Event" else "TaskId"
            records = []
            for contact_id in plan.relations:
                record: dict[str, Any] = {
                    "attributes": {"type": f"{kind}Relation"},
                    parent: activity_ref,
                    "RelationId": contact_id,
                }
                if kind == "Event":
                    record.update(IsParent=True, IsInvitee=False)
                records.append(record)
            subs.append(
                {
                    "method": "POST",
                    "url": f"{self.data_path}composite/sobjects",
                    "referenceId": "relations",
                    "body": {"allOrNone": False, "records": records},
                }
            )
        note_ref = plan.note_id  # a link to a note that stays as it is references it by id
        if plan.note is not None:
            subs.append(self._save("note", plan.note))
            note_ref = plan.note.id or "@{note.id}"
        for i, entity_id in enumerate(plan.note_links):
            if note_ref is None:
                raise ValueError("note links need the note in the same plan or the existing note's id")
            subs.append(
                {
                    "method": "POST",
                    "url": f"{self.data_path}sobjects/ContentDocumentLink",
                    "referenceId": f"link{i}",
                    "body": {"ContentDocumentId": note_ref, "LinkedEntityId": entity_id, "ShareType": "V"},
                }
            )
        if len(subs) + len(plan.follow_ups) <= MAX_SUBREQUESTS:
            subs += [self._save(f"followup{i}", w) for i, w in enumerate(plan.follow_ups)]
        else:
            subs += self._follow_up_collections(plan.follow_ups)
        return subs

    def _save(self, ref: str, write: RecordWrite) -> dict[str, Any]:
        if write.id:
            return {
                "method": "PATCH",
                "url": f"{self.data_path}sobjects/{write.object}/{write.id}",
                "referenceId": ref,
                "body": _body(write.fields),
            }
        return {
            "method": "POST",
            "url": f"{self.data_path}sobjects/{write.object}",
            "referenceId": ref,
            "body": _body(write.fields),
        }

    def _follow_up_collections(self, writes: list[RecordWrite]) -> list[dict[str, Any]]:
        subs = []
        for method, ref, group in (
            ("POST", "followups_new", [w for w in writes if not w.id]),
            ("PATCH", "followups_upd", [w for w in writes if w.id]),
        ):
            for n in range(0, len(group), 200):
                records = [
                    {"attributes": {"type": "Task"}, **({"Id": w.id} if w.id else {}), **_body(w.fields)}
                    for w in group[n : n + 200]
                ]
                subs.append(
                    {
                        "method": method,
                        "url": f"{self.data_path}composite/sobjects",
                        "referenceId": f"{ref}{n // 200}",
                        "body": {"allOrNone": False, "records": records},
                    }
                )
        return subs

    @reads_answers("the activity write")
    def write(self, plan: WritePlan) -> WriteOutcome:
        """One composite, ``allOrNone: false``: each part is saved or refused on its own.

        Salesforce applies a composite's ``allOrNone: true`` to every collection inside it too ("allOrNone
        Parameters in Composite and Collections Requests", REST API Developer Guide), so one refused relation
        or follow-up would undo the call's activity and note. Here the activity, the note, each link and each
        follow-up are their own subrequests (collections with ``allOrNone: false`` beyond 25 subrequests);
        a subrequest that references a refused one (``@{activity.id}``) is refused with it.
        """
        subs = self.subrequests(plan)
        responses = self.api.composite(subs, all_or_none=False)
        by_ref = {str(r.get("referenceId")): r for r in responses}
        methods = {s["referenceId"]: s["method"] for s in subs}
        outcome = WriteOutcome()
        if plan.activity is not None:
            outcome.activity = self._part(by_ref, "activity", methods, plan.activity, outcome)
        if plan.relations:
            kind = plan.activity.object if plan.activity else "Task"
            outcome.relations = dict(
                zip(
                    plan.relations,
                    self._collection(by_ref.get("relations"), len(plan.relations), f"{kind}Relation"),
                    strict=True,
                )
            )
        if plan.note is not None:
            outcome.note = self._part(by_ref, "note", methods, plan.note, outcome)
        for i, entity_id in enumerate(plan.note_links):
            outcome.note_links[entity_id] = self._part(by_ref, f"link{i}", methods, None, outcome)
        if any(s["referenceId"].startswith("followups_") for s in subs):
            self._collection_follow_ups(plan, by_ref, outcome)
        else:
            for i, w in enumerate(plan.follow_ups):
                outcome.follow_ups[str(w.key)] = self._part(by_ref, f"followup{i}", methods, w, outcome)
        return outcome

    @staticmethod
    def _part(
        by_ref: dict[str, Any], ref: str, methods: dict[str, str], write: RecordWrite | None, outcome: WriteOutcome
    ) -> SaveResult:
        """One subrequest's answer; an update of a deleted record is also listed in ``outcome.stale``."""
        response = by_ref.get(ref)
        if response is None:
            return SaveResult(
                None,
                False,
                "no answer for this part",
                SalesforceUnavailable(f"composite answered without subrequest {ref}"),
            )
        status = int(response.get("httpStatusCode") or 0)
        if 200 <= status < 300:
            return SaveResult((write.id if write is not None else None) or _created_id(response), True)
        items = error_items(response.get("body"))
        if write is not None and write.id and {i.get("errorCode") for i in items} & GONE_CODES:
            outcome.stale.append(write.id)
        try:
            raise_for_subresponse(response, method=methods.get(ref))
        except CallsyncError as e:
            return SaveResult(None, False, _detail(items), e)
        return SaveResult(None, False, _detail(items))

    @staticmethod
    def _collection(response: dict[str, Any] | None, count: int, object_name: str) -> list[SaveResult]:
        """Per record of a collections subrequest; all refused alike when the subrequest itself was."""
        status = int((response or {}).get("httpStatusCode") or 0)
        if response is None or not 200 <= status < 300:
            items = error_items((response or {}).get("body"))
            try:
                raise_for_subresponse(response or {"httpStatusCode": 500}, method="POST")
            except CallsyncError as e:
                return [SaveResult(None, False, _detail(items), e)] * count
            return [SaveResult(None, False, _detail(items))] * count
        body = response.get("body")
        results = list(body) if isinstance(body, list) else []
        out = [_save_result(r, object_name) for r in results[:count]]
        return out + [SaveResult(None, False, "no result for this record")] * (count - len(out))

    def _collection_follow_ups(self, plan: WritePlan, by_ref: dict[str, Any], outcome: WriteOutcome) -> None:
        for method_ref, group in (
            ("followups_new", [w for w in plan.follow_ups if not w.id]),
            ("followups_upd", [w for w in plan.follow_ups if w.id]),
        ):
            for n in range(0, len(group), 200):
                chunk = group[n : n + 200]
                for w, saved in zip(
                    chunk, self._collection(by_ref.get(f"{method_ref}{n // 200}"), len(chunk), "Task"), strict=True
                ):
                    outcome.follow_ups[str(w.key)] = SaveResult(saved.id or w.id, saved.ok, saved.error, saved.failure)
                    if not saved.ok and w.id and saved.error and any(c in saved.error for c in GONE_CODES):
                        outcome.stale.append(w.id)


def _detail(items: list[dict[str, Any]]) -> str:
    return "; ".join(f"{i.get('errorCode')}: {i.get('message')}" for i in items) or "refused"


def _created_id(response: dict[str, Any] | None) -> str | None:
    body = (response or {}).get("body")
    return str(body["id"]) if isinstance(body, dict) and body.get("id") else None


def _save_result(saved: dict[str, Any], object_name: str) -> SaveResult:
    if saved.get("success"):
        return SaveResult(str(saved.get("id")), True)
    items = error_items(saved.get("errors") or [])
    try:
        raise_for_save_result(saved, object_name)
    except CallsyncError as e:
        return SaveResult(saved.get("id"), False, _detail(items), e)
    return SaveResult(saved.get("id"), False, _detail(items))
