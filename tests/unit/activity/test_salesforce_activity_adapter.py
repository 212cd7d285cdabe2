"""The adapter's composite requests: references, limits, escaping, error mapping."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import unquote

import pytest
from callsync.adapters.salesforce_activity import SalesforceActivityStore
from callsync.errors import SalesforceRejected
from callsync.ports.activity import LookupRequest, RecordWrite, WritePlan


class RecordingApi:
    """ports.SalesforceApi that records composites and answers with canned sub-responses."""

    instance_url = "https://acme.my.salesforce.com"
    api_version = "62.0"

    def __init__(self, answer: Any = None) -> None:
        self.api_requests = 0
        self.composites: list[tuple[list[dict[str, Any]], bool]] = []
        self.answer = answer

    def composite(self, subrequests: list[dict[str, Any]], *, all_or_none: bool = False) -> list[dict[str, Any]]:
        self.api_requests += 1
        self.composites.append((subrequests, all_or_none))
        if self.answer is not None:
            return self.answer(subrequests)
        out = []
        for i, sub in enumerate(subrequests):
            if sub["method"] == "GET":
                body: Any = {"records": []}
            elif "composite/sobjects" in sub["url"]:
                body = [{"id": f"0RE{i}{n}", "success": True, "errors": []} for n in range(len(sub["body"]["records"]))]
            else:
                body = {"id": f"ID{i}", "success": True} if sub["method"] == "POST" else None
            out.append({"referenceId": sub["referenceId"], "httpStatusCode": 200 if body else 204, "body": body})
        return out


def plan(follow_ups: int = 2, relations: int = 3) -> WritePlan:
    return WritePlan(
        activity=RecordWrite("Event", {"Subject": "s", "Description": "see @{activity.id}"}),
        relations=[f"003{i:015d}" for i in range(relations)],
        note=RecordWrite("ContentNote", {"Title": "t", "Content": "PHA+"}),
        note_links=["006A", "003A"],
        follow_ups=[RecordWrite("Task", {"Subject": f"f{i}"}, key=f"k{i}") for i in range(follow_ups)],
    )


def test_one_composite_with_references() -> None:
    # Given a full plan / When written
    api = RecordingApi()
    outcome = SalesforceActivityStore(api).write(plan())
    subs, all_or_none = api.composites[0]
    # Then one request, each part on its own, relations and links point at the new records by reference
    assert api.api_requests == 1 and not all_or_none
    relations = next(s for s in subs if s["referenceId"] == "relations")
    assert relations["body"]["allOrNone"] is False
    assert {r["EventId"] for r in relations["body"]["records"]} == {"@{activity.id}"}
    links = [s for s in subs if s["referenceId"].startswith("link")]
    assert [s["body"]["ContentDocumentId"] for s in links] == ["@{note.id}", "@{note.id}"]
    assert all(s["body"]["ShareType"] == "V" for s in links)
    # And text that looks like a reference is defused
    activity = next(s for s in subs if s["referenceId"] == "activity")
    assert "@{activity.id}" not in activity["body"]["Description"]
    assert outcome.activity_id == "ID0" and len(outcome.relations) == 3 and set(outcome.follow_ups) == {"k0", "k1"}


def test_many_follow_ups_go_through_a_collection_within_limits() -> None:
    # Given 49 relations and 30 follow-ups / Then still one composite within 25 subrequests and 5 collections
    api = RecordingApi()
    outcome = SalesforceActivityStore(api).write(plan(follow_ups=30, relations=49))
    subs, _ = api.composites[0]
    assert len(subs) <= 25
    assert sum("composite/sobjects" in s["url"] for s in subs) <= 5
    assert len(outcome.follow_ups) == 30


def test_the_write_is_one_composite_whose_parts_stand_alone() -> None:
    # Given a call's activity, relations, note, links and follow-ups
    api = RecordingApi()
    SalesforceActivityStore(api).write(plan(follow_ups=30, relations=3))
    # Then the composite is not all-or-none, nor is any collection in it: Salesforce applies an outer
    # allOrNone to every collection inside ("allOrNone Parameters in Composite and Collections Requests",
    # REST API Developer Guide), so one refused relation or follow-up would undo the call's activity
    ((subs, all_or_none),) = api.composites
    assert all_or_none is False
    assert all(s["body"]["allOrNone"] is False for s in subs if "composite/sobjects" in s["url"])


def test_update_of_deleted_record_is_stale_and_the_rest_stands() -> None:
    # Given Salesforce says the activity to update is deleted, and saves the note
    def answer(subs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "referenceId": s["referenceId"],
                "httpStatusCode": 404,
                "body": [{"errorCode": "ENTITY_IS_DELETED", "message": "entity is deleted"}],
            }
            if s["method"] == "PATCH"
            else {"referenceId": s["referenceId"], "httpStatusCode": 201, "body": {"id": "069NOTE", "success": True}}
            for s in subs
        ]

    write = WritePlan(
        activity=RecordWrite("Task", {"Description": "d"}, id="00TGONE"),
        note=RecordWrite("ContentNote", {"Title": "t", "Content": "c"}),
    )
    outcome = SalesforceActivityStore(RecordingApi(answer)).write(write)
    # Then the deleted record is listed as stale, and the note is saved
    assert outcome.stale == ["00TGONE"] and outcome.activity is not None and not outcome.activity.ok
    assert outcome.note_id == "069NOTE"


def test_a_refused_part_is_returned_with_its_error_not_raised() -> None:
    # Given a validation rule rejects the follow-up Tasks, while the activity is saved
    def answer(subs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "referenceId": s["referenceId"],
                "httpStatusCode": 400,
                "body": [{"errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "no"}],
            }
            if s["referenceId"].startswith("followup")
            else {"referenceId": s["referenceId"], "httpStatusCode": 201, "body": {"id": "00TCALL", "success": True}}
            for s in subs
        ]

    write = WritePlan(
        activity=RecordWrite("Task", {"Subject": "s"}), follow_ups=[RecordWrite("Task", {"Subject": "f"}, key="k0")]
    )
    outcome = SalesforceActivityStore(RecordingApi(answer)).write(write)
    # Then the activity is saved and the follow-up refused with the error tree's class and Salesforce's code
    assert outcome.activity_id == "00TCALL"
    refused = outcome.follow_ups["k0"]
    assert not refused.ok and isinstance(refused.failure, SalesforceRejected)
    assert refused.failure.code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"


def test_lookup_is_one_composite_of_escaped_queries() -> None:
    # Given subjects with quotes and a backslash, related ids, follow-ups and a note title
    api = RecordingApi()
    request = LookupRequest(
        activity_kinds=["Event"],
        subjects=['[A] It\'s "q" \\ x'],
        dates=[date(2026, 11, 20)],
        window=(datetime(2026, 11, 19, 21, tzinfo=UTC), datetime(2026, 11, 21, 9, tzinfo=UTC)),
        related_ids=["006A", "003A"],
        shared_activities=True,
        follow_up_subjects=["Send 'pricing'"],
        note_title="[A] It's (2026-11-20)",
        note_entities=["006A", "003A"],
    )
    result = SalesforceActivityStore(api).lookup(request)
    subs, _ = api.composites[0]
    queries = [unquote(s["url"].split("?q=", 1)[1]) for s in subs]
    # Then one request with four queries, every value escaped, relations read with the events
    assert api.api_requests == 1 and len(queries) == 4
    # (the activity by the words of its title: quotes, backslash and brackets never reach the query)
    assert "Subject LIKE '%a%it%s%q%x%'" in queries[0]
    assert "(SELECT RelationId FROM EventRelations)" in queries[0]
    assert "Subject IN ('Send \\'pricing\\'')" in queries[1]
    # And the note is looked up per linked record with "=", the only title filter Salesforce accepts
    for query, entity in zip(queries[2:], ["006A", "003A"], strict=True):
        assert f"WHERE LinkedEntityId = '{entity}' AND ContentDocument.Title = '[A] It\\'s (2026-11-20)'" in query
    assert result.activities_queried


def test_long_follow_up_subject_lists_are_chunked() -> None:
    # Given 60 subjects of 250 characters / Then several queries, each URI well under 16 KB
    api = RecordingApi()
    subjects = [f"{i:03d}" + "é" * 247 for i in range(60)]
    SalesforceActivityStore(api).lookup(LookupRequest(follow_up_subjects=subjects))
    urls = [s["url"] for subs, _ in api.composites for s in subs]
    assert len(urls) > 1 and all(len(u) < 16_000 for u in urls)
    assert all(len(subs) <= 5 for subs, _ in api.composites)


def _activity_describe(name: str, *fields: str) -> dict[str, Any]:
    return {"name": name, "fields": [{"name": f, "type": "string"} for f in fields]}


@pytest.mark.parametrize("kind", ["Task", "Event"])
def test_a_field_the_describe_does_not_show_is_never_selected(kind: str) -> None:
    from tests.support.fakes import FakeDescribeSource

    # Given the activity object's describe without Type (hidden by field-level security: a SELECT naming
    # it fails with INVALID_FIELD) and Task's without Status
    visible = [
        "Id",
        "Subject",
        "WhoId",
        "WhatId",
        "AccountId",
        "OwnerId",
        "Description",
        "CreatedDate",
        "ActivityDate",
        "StartDateTime",
        "EndDateTime",
        "DurationInMinutes",
        "OwnerId",
    ]
    describes = FakeDescribeSource(
        {
            kind: _activity_describe(kind, *visible),
            "Task": _activity_describe("Task", *[f for f in visible if f != "Status"]),
        }
    )
    store = SalesforceActivityStore(RecordingApi(), describes=describes)
    request = LookupRequest(
        activity_kinds=[kind],
        subjects=["Globex weekly"],
        dates=[date(2026, 11, 20)],
        window=(datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)),
        related_ids=["006A"],
        follow_up_subjects=["Send the deck"],
    )
    # When the lookup queries are built
    ((activity_ref, activity_soql),) = store.activity_queries(request)
    ((_, follow_up_soql),) = store.follow_up_queries(request)
    # Then neither names a field the describe does not show; the visible ones are all there
    select = activity_soql.split(" FROM ")[0]
    assert "Type" not in select.replace("TaskSubtype", "")
    assert "Subject" in select and "Description" in select
    assert " Status" not in follow_up_soql.split(" FROM ")[0]
    assert activity_ref == f"activities{kind}"


def test_without_describes_the_select_is_unchanged() -> None:
    # Given no describe source (unit use) / Then the usual fields are selected
    request = LookupRequest(activity_kinds=["Task"], subjects=["s"], dates=[date(2026, 11, 20)], related_ids=["006A"])
    ((_, soql),) = SalesforceActivityStore(RecordingApi()).activity_queries(request)
    assert "Type, Description" in soql


def test_a_title_without_words_is_looked_up_by_its_exact_subject_escaped() -> None:
    # Given a title made of punctuation only (no word for a LIKE pattern)
    api = RecordingApi()
    request = LookupRequest(
        activity_kinds=["Task"], subjects=["' -- \\"], dates=[date(2026, 11, 20)], related_ids=["006A"]
    )
    # When the activity is looked up
    SalesforceActivityStore(api).lookup(request)
    query = unquote(api.composites[0][0][0]["url"].split("?q=", 1)[1])
    # Then the subject is compared exactly, every character escaped
    assert "Subject IN ('\\' -- \\\\')" in query


def test_the_activity_the_ledger_names_is_read_by_id_with_who_changed_it_last() -> None:
    # Given a lookup that must read the activity an earlier revision wrote, wherever it moved
    api = RecordingApi()
    request = LookupRequest(
        activity_kinds=["Event"],
        subjects=["Globex weekly"],
        window=(datetime(2026, 11, 19, 21, tzinfo=UTC), datetime(2026, 11, 21, 9, tzinfo=UTC)),
        related_ids=["006A"],
        activity_ids=["00U000000000001"],
    )
    # When it is looked up
    SalesforceActivityStore(api).lookup(request)
    query = unquote(api.composites[0][0][0]["url"].split("?q=", 1)[1])
    # Then one query finds it by the call's rules or by its Id, and reads who changed it last, and when
    assert "OR AccountId IN ('006A'))) OR Id IN ('00U000000000001')" in query
    assert "LastModifiedById, LastModifiedDate, " in query and ", LastModifiedBy.Name" in query
