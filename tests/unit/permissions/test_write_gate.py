"""The write gate: what a step checks from the cached describes before it writes a feature's records."""

from __future__ import annotations

from callsync.domain.permissions import Feature, write_gate
from describe_builders import STANDARD_FIELDS, full_access_describes, make_describe


def test_a_feature_the_user_can_save_passes() -> None:
    # Given full access, When the call activity's Event is gated, Then nothing stops it
    assert write_gate(Feature.CALL_ACTIVITY, ["Event"], full_access_describes()) is None


def test_read_only_object_stops_the_feature_with_doctors_fix() -> None:
    # Given Event readable but not createable
    describes = full_access_describes()
    describes["Event"] = make_describe("Event", STANDARD_FIELDS["Event"], access="read")
    # When gated
    check = write_gate(Feature.CALL_ACTIVITY, ["Event"], describes)
    # Then the check names the object, the permission and the fix doctor prints
    assert check is not None and not check.ok
    assert (check.subject, check.need) == ("Event", "create")
    assert check.problem == "the integration user cannot create Event records."
    assert check.fix is not None and "Object Settings → Event" in check.fix and "Read and Create" in check.fix
    assert check.skipped().feature == "call activity"


def test_an_invisible_object_stops_the_feature() -> None:
    # Given ContentDocumentLink invisible to the integration user
    describes = full_access_describes()
    describes["ContentDocumentLink"] = None
    # When notes are gated (the note and its links), Then the link object stops them
    check = write_gate(Feature.NOTES, ["ContentNote", "ContentDocumentLink"], describes)
    assert check is not None and check.subject == "ContentDocumentLink" and check.need == "read"


def test_a_field_salesforce_requires_on_save_stops_the_feature() -> None:
    # Given Event createable, but StartDateTime read-only (field-level security)
    describes = full_access_describes()
    event = describes["Event"]
    assert event is not None
    event.fields["StartDateTime"].createable = False
    # When gated, Then StartDateTime stops it (Salesforce would refuse the save without it)
    check = write_gate(Feature.CALL_ACTIVITY, ["Event"], describes)
    assert check is not None and check.subject == "Event.StartDateTime" and check.need == "createable"


def test_an_optional_field_does_not_stop_the_feature() -> None:
    # Given Event.Type read-only: the Event is saved without it (a per-field warning), so the gate passes
    describes = full_access_describes()
    event = describes["Event"]
    assert event is not None
    event.fields["Type"].createable = False
    assert write_gate(Feature.CALL_ACTIVITY, ["Event"], describes) is None
