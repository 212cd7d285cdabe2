"""What each enabled feature needs from the integration user (callsync.domain.permissions)."""

from __future__ import annotations

import pytest
from callsync.domain.permissions import (
    Check,
    Feature,
    blocking_failures,
    enabled_features,
    feature_works,
    field_permission_fix,
    object_permission_fix,
    permission_checks,
    required_objects,
    shared_activities_fix,
)
from callsync.models.describe import ObjectDescribe, OrgMetadata
from callsync.models.settings import OrgSettings

from tests.support.org_settings import CONTRACT_EXAMPLE
from tests.unit.permissions.describe_builders import (
    STANDARD_FIELDS,
    Describes,
    full_access_describes,
    hiding,
    make_describe,
)

ALL_ON = OrgSettings.model_validate(CONTRACT_EXAMPLE)  # every feature on
SHARED = OrgMetadata(objects=[*STANDARD_FIELDS, "TaskRelation"])
NOT_SHARED = OrgMetadata(objects=list(STANDARD_FIELDS))


def failed(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.ok]


def read_only_field(describes: Describes, obj: str, field: str) -> None:
    d = describes[obj]
    assert d is not None
    d.fields[field] = d.fields[field].model_copy(update={"createable": False, "updateable": False})


def test_an_org_with_every_permission_passes_every_check() -> None:
    # Given an org where the integration user may do everything and every feature on
    describes = full_access_describes()
    # When the checks run
    checks = permission_checks(ALL_ON, describes, SHARED)
    # Then every feature is checked and nothing fails
    assert {c.feature for c in checks} == set(enabled_features(ALL_ON))
    assert failed(checks) == []
    assert all(feature_works(checks, f) for f in Feature)


def test_a_hidden_mapped_field_degrades_field_sync_only_with_the_fls_fix() -> None:
    # Given Opportunity.Pain__c hidden by field-level security (the other mappings writable)
    describes = hiding("Opportunity.Pain__c")
    # When the checks run
    checks = permission_checks(ALL_ON, describes, SHARED)
    # Then field sync fails on that field, with the Field-Level Security path, and nothing else fails;
    # the check does not block field sync: that mapping is skipped and the others sync
    (problem,) = failed(checks)
    assert problem.feature is Feature.FIELD_SYNC and not problem.blocking
    assert problem.subject == "Opportunity.Pain__c"
    assert "not visible" in (problem.problem or "")
    assert problem.fix == field_permission_fix("Opportunity", "Pain__c")
    assert (
        "Setup → Object Manager → Opportunity → Fields & Relationships → Pain__c → Set Field-Level Security"
        in problem.fix
    )
    assert feature_works(checks, Feature.FIELD_SYNC)
    assert feature_works(checks, Feature.CALL_ACTIVITY)


def test_field_sync_cannot_work_when_every_mapping_fails() -> None:
    # Given settings whose only mapping is hidden
    settings = ALL_ON.model_copy(
        update={"field_sync": ALL_ON.field_sync.model_copy(update={"mappings": ALL_ON.field_sync.mappings[:1]})}
    )
    describes = hiding(f"Opportunity.{ALL_ON.field_sync.mappings[0].field}")
    # When the checks run / Then the failure blocks field sync
    checks = permission_checks(settings, describes, SHARED)
    assert [c.blocking for c in failed(checks)] == [True] and not feature_works(checks, Feature.FIELD_SYNC)


def test_a_read_only_mapped_field_fails_as_not_updateable() -> None:
    # Given Account.Airspeed_Link__c visible but read-only
    describes = full_access_describes()
    read_only_field(describes, "Account", "Airspeed_Link__c")
    # When the checks run
    checks = permission_checks(ALL_ON, describes, SHARED)
    # Then only the account link feature fails, on that field, and the fix says to clear Read-Only
    (problem,) = failed(checks)
    assert (problem.feature, problem.subject, problem.need) == (
        Feature.ACCOUNT_LINK,
        "Account.Airspeed_Link__c",
        "visible, updateable",
    )
    assert "clear Read-Only" in (problem.fix or "")


def test_a_read_only_object_fails_writes_once_without_blaming_its_fields() -> None:
    # Given the integration user can only read Opportunity
    describes = full_access_describes()
    describes["Opportunity"] = make_describe("Opportunity", STANDARD_FIELDS["Opportunity"], access="read")
    # When the checks run
    checks = permission_checks(ALL_ON, describes, SHARED)
    # Then field sync fails on the object's edit permission, with a permission-set fix,
    # and the mapped fields are not blamed separately
    problems = failed(checks)
    assert [(c.feature, c.subject, c.need) for c in problems] == [(Feature.FIELD_SYNC, "Opportunity", "edit")]
    assert problems[0].fix == object_permission_fix("Opportunity", "edit")
    assert "Permission Sets" in problems[0].fix and "Read and Edit" in problems[0].fix
    # And reading it (core read) still works
    assert feature_works(checks, Feature.CORE_READ)


def test_an_invisible_object_is_one_failure_whose_fix_grants_what_the_feature_needs() -> None:
    # Given the via object Deal_Review__c is invisible to the integration user
    describes = full_access_describes()
    describes["Deal_Review__c"] = None
    # When the checks run
    problems = failed(permission_checks(ALL_ON, describes, SHARED))
    # Then one check fails, and its fix grants read, create and edit
    assert [(c.feature, c.subject) for c in problems] == [(Feature.FIELD_SYNC, "Deal_Review__c")]
    assert "not readable" in (problems[0].problem or "")
    assert "Read, Create and Edit" in (problems[0].fix or "")


def test_a_via_object_needs_its_lookup_createable() -> None:
    # Given the lookup Deal_Review__c.Opportunity__c is read-only
    describes = full_access_describes()
    read_only_field(describes, "Deal_Review__c", "Opportunity__c")
    # When the checks run
    problems = failed(permission_checks(ALL_ON, describes, SHARED))
    # Then field sync fails: a Deal Review cannot be created for the opportunity
    assert [(c.subject, c.need) for c in problems] == [("Deal_Review__c.Opportunity__c", "visible, createable")]


def test_missing_shared_activities_degrades_events_but_blocks_nothing() -> None:
    # Given an org without Shared Activities (EventRelation unusable)
    describes = full_access_describes()
    describes["EventRelation"] = None
    # When the checks run
    checks = permission_checks(ALL_ON, describes, NOT_SHARED)
    # Then one non-blocking failure says only the primary contact is linked, with the Activity Settings fix
    (problem,) = failed(checks)
    assert problem.feature is Feature.SHARED_ACTIVITIES and not problem.blocking
    assert problem.subject == "Shared Activities"
    assert "only the primary contact" in (problem.problem or "")
    assert problem.fix == shared_activities_fix()
    assert blocking_failures(checks) == []


def test_shared_activities_are_not_checked_when_calls_are_only_tasks() -> None:
    # Given the activity mode "tasks" in an org without Shared Activities and no Event access
    settings = ALL_ON.model_copy(update={"activity_sync": ALL_ON.activity_sync.model_copy(update={"mode": "tasks"})})
    describes = full_access_describes()
    describes["Event"] = describes["EventRelation"] = None
    # When the checks run
    checks = permission_checks(settings, describes, NOT_SHARED)
    # Then neither Event nor Shared Activities is required
    assert failed(checks) == []
    assert "Event" not in required_objects(settings)


def test_no_event_permission_fails_call_activity_in_smart_mode() -> None:
    # Given smart mode and an integration user who cannot see Event
    describes = full_access_describes()
    describes["Event"] = None
    # When the checks run
    checks = permission_checks(ALL_ON, describes, SHARED)
    # Then call activity cannot work; task sync (Task only) still can
    assert [(c.feature, c.subject) for c in blocking_failures(checks)] == [(Feature.CALL_ACTIVITY, "Event")]
    assert feature_works(checks, Feature.TASK_SYNC)


def test_a_hidden_task_type_degrades_call_activity_without_blocking_it() -> None:
    # Given Task.Type hidden
    describes = hiding("Task.Type")
    # When the checks run
    checks = permission_checks(ALL_ON, describes, SHARED)
    # Then a non-blocking failure explains the consequence
    (problem,) = failed(checks)
    assert (problem.subject, problem.blocking) == ("Task.Type", False)
    assert "call type is left blank" in (problem.problem or "")
    assert feature_works(checks, Feature.CALL_ACTIVITY)


@pytest.mark.parametrize(
    ("obj", "feature"),
    [("ContentNote", Feature.NOTES), ("ContentDocumentLink", Feature.NOTES), ("Lead", Feature.CONTACT_CREATION)],
)
def test_read_only_objects_fail_the_features_that_create_them(obj: str, feature: Feature) -> None:
    # Given read-only access to an object a feature creates
    describes = full_access_describes()
    describes[obj] = make_describe(obj, STANDARD_FIELDS[obj], access="read")
    # When the checks run
    checks = permission_checks(ALL_ON, describes, SHARED)
    # Then exactly that feature fails, on creating that object
    assert [(c.feature, c.subject, c.need) for c in blocking_failures(checks)] == [(feature, obj, "create")]


def test_disabled_features_are_not_checked() -> None:
    # Given only the defaults (activity sync on, everything else off) and no notes objects
    settings = OrgSettings(org_id="acme")
    describes = full_access_describes()
    describes["ContentNote"] = describes["ContentDocumentLink"] = None
    # When the checks run
    checks = permission_checks(settings, describes, SHARED)
    # Then notes, field sync and contact creation are not checked at all
    assert enabled_features(settings) == [Feature.CORE_READ, Feature.CALL_ACTIVITY, Feature.SHARED_ACTIVITIES]
    assert failed(checks) == []


def test_email_message_blocks_only_when_email_context_is_on() -> None:
    # Given EmailMessage invisible
    describes = full_access_describes()
    describes["EmailMessage"] = None
    # When the checks run with email context off, then on
    off = permission_checks(ALL_ON, describes, SHARED)
    on_settings = ALL_ON.model_copy(update={"email_context": ALL_ON.email_context.model_copy(update={"enabled": True})})
    on = permission_checks(on_settings, describes, SHARED)
    # Then it is reported both times but blocks core read only when email context is on
    assert [c.subject for c in failed(off)] == ["EmailMessage"] and blocking_failures(off) == []
    assert [c.subject for c in blocking_failures(on)] == ["EmailMessage"]


def test_field_names_compare_case_insensitively() -> None:
    # Given a mapping spelled in another case than the describe
    settings = ALL_ON.model_copy(
        update={
            "field_sync": ALL_ON.field_sync.model_copy(
                update={"mappings": [ALL_ON.field_sync.mappings[0].model_copy(update={"field": "pain__C"})]}
            )
        }
    )
    # When the checks run
    checks = permission_checks(settings, full_access_describes(), SHARED)
    # Then the field is found and reported under its API name
    assert failed(checks) == []
    assert "Opportunity.Pain__c" in {c.subject for c in checks}


def test_the_message_carries_problem_and_fix() -> None:
    # Given a failed check
    check = Check(
        feature=Feature.NOTES,
        subject="ContentNote",
        need="create",
        ok=False,
        problem="the integration user cannot create ContentNote records.",
        fix=object_permission_fix("ContentNote", "create"),
    )
    # Then its message is what steps put in warnings
    assert check.message.startswith("notes: the integration user cannot create ContentNote records. Fix: Setup → ")


def test_required_objects_cover_every_checked_object() -> None:
    # Given every feature on
    # When the checks run on exactly the required describes
    needed = required_objects(ALL_ON)
    describes: dict[str, ObjectDescribe | None] = {k: v for k, v in full_access_describes().items() if k in needed}
    # Then nothing is missing
    assert failed(permission_checks(ALL_ON, describes, SHARED)) == []
