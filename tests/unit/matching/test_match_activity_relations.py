"""The match step's read-ahead of candidate activities carries their relations with Shared Activities."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from callsync.adapters.salesforce_match import SalesforceMatchReader
from callsync.ports.match import MatchQuery

START = datetime(2026, 6, 3, 15, 0, tzinfo=UTC)


def activities_soql(kind: str, relations: bool) -> str:
    query = MatchQuery(
        emails=("jane@globex.com",),
        external_emails=("jane@globex.com",),
        started_at=START,
        activity_object=kind,
        activity_subjects=("Globex sync",),
        activity_relations=relations,
    )
    soql = SalesforceMatchReader(None).activities_soql(query)  # type: ignore[arg-type]
    assert soql is not None
    return soql


@pytest.mark.parametrize("kind", ["Task", "Event"])
def test_candidates_read_their_relations_when_shared_activities_is_on(kind: str) -> None:
    # Given Shared Activities on / When the candidate query is planned
    soql = activities_soql(kind, relations=True)
    # Then it reads the contacts each candidate already has, so LogActivity never attaches them twice
    assert f"(SELECT RelationId FROM {kind}Relations)" in soql


@pytest.mark.parametrize("kind", ["Task", "Event"])
def test_candidates_read_no_relations_without_shared_activities(kind: str) -> None:
    # Given Shared Activities off (TaskRelation does not exist) / When the candidate query is planned
    soql = activities_soql(kind, relations=False)
    # Then it names no relation object
    assert "Relations" not in soql


@pytest.mark.parametrize("kind", ["Task", "Event"])
def test_a_type_field_hidden_from_the_integration_user_is_not_selected(kind: str) -> None:
    from callsync.models.describe import ObjectDescribe

    # Given the activity object's cached describe without Type (field-level security hides it: SOQL naming
    # it fails with INVALID_FIELD, "No such column 'Type' on entity")
    shown = [
        "Id",
        "Subject",
        "ActivityDate",
        "WhoId",
        "WhatId",
        "OwnerId",
        "Description",
        "Status",
        "StartDateTime",
        "EndDateTime",
        "DurationInMinutes",
    ]
    describe = ObjectDescribe.from_salesforce({"name": kind, "fields": [{"name": f, "type": "string"} for f in shown]})
    query = MatchQuery(
        emails=("jane@globex.com",),
        external_emails=("jane@globex.com",),
        started_at=START,
        activity_object=kind,
        activity_subjects=("Globex sync",),
        activity_describe=describe,
    )
    # When the candidate query is planned
    soql = SalesforceMatchReader(None).activities_soql(query)  # type: ignore[arg-type]
    # Then Type is not in its SELECT, every visible field still is
    assert soql is not None
    select = soql.split(" FROM ")[0].removeprefix("SELECT ").split(", ")
    assert "Type" not in select
    assert {"Id", "Subject", "Description", "OwnerId"} <= set(select)
