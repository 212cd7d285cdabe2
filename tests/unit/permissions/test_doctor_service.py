"""callsync.services.doctor over a fake describe source."""

from __future__ import annotations

from callsync.domain.permissions import Feature, required_objects
from callsync.models.settings import OrgSettings
from callsync.services.doctor import diagnose

from tests.support.fakes import FakeDescribeSource
from tests.unit.permissions.describe_builders import full_access_describes

SETTINGS = OrgSettings.model_validate(
    {
        "org_id": "acme",
        "activity_sync": {"enabled": True, "mode": "events"},
        "notes_sync": {"enabled": True},
        "field_sync": {"enabled": True, "mappings": [{"insight": "pain", "object": "Opportunity", "field": "Pain__c"}]},
    }
)


def visible(describes: dict) -> dict:
    return {k: v for k, v in describes.items() if v is not None}


def test_doctor_asks_for_every_required_describe_in_one_batch() -> None:
    # Given an org where everything is allowed
    source = FakeDescribeSource(visible(full_access_describes()))
    # When doctor runs
    report = diagnose(SETTINGS, source)
    # Then it asked for the required objects once, and every enabled feature works
    assert source.calls == [required_objects(SETTINGS)]
    assert report.ok
    assert [f.feature for f in report.features] == [
        Feature.CORE_READ,
        Feature.FIELD_SYNC,
        Feature.CALL_ACTIVITY,
        Feature.SHARED_ACTIVITIES,
        Feature.NOTES,
    ]


def test_an_invisible_notes_object_fails_the_report_and_only_notes() -> None:
    # Given ContentDocumentLink is invisible
    describes = full_access_describes()
    describes["ContentDocumentLink"] = None
    # When doctor runs
    report = diagnose(SETTINGS, FakeDescribeSource(visible(describes)))
    # Then the report fails because of notes only
    assert not report.ok
    assert [f.feature for f in report.features if not f.works] == [Feature.NOTES]
    doc = report.to_json()
    notes = next(f for f in doc["features"] if f["feature"] == "notes")
    assert notes["works"] is False
    assert [c["subject"] for c in notes["checks"] if not c["ok"]] == ["ContentDocumentLink"]


def test_missing_shared_activities_is_degraded_not_failed() -> None:
    # Given an org without Shared Activities
    describes = full_access_describes()
    describes["EventRelation"] = None
    # When doctor runs
    report = diagnose(SETTINGS, FakeDescribeSource(visible(describes), shared_activities=False))
    # Then the report passes, with shared activities marked degraded
    shared = report.feature(Feature.SHARED_ACTIVITIES)
    assert shared is not None and shared.works and shared.degraded
    assert report.ok
    assert report.to_json()["ok"] is True
