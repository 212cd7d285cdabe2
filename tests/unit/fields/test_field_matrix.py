"""Every describe type through the whole step: empty, filled, invalid, over-long, hidden and read-only fields."""

from __future__ import annotations

from typing import Any

import pytest
from callsync.domain.field_revisions import call_mark
from callsync.services.sync_fields import SyncFields
from fields_support import OPP, FakeFieldStore, field, match, obj, settings, state

from tests.support.fakes import FakeDescribeSource, FakeLedger

ENTRY = f"[2026-11-20 #{call_mark('c1')}]"  # the header of call c1's text entries

# type -> (valid insight value, value written to an empty field, a value in the field, invalid insight value)
TYPES: dict[str, tuple[Any, Any, Any, Any]] = {
    "string": ("Jane Doe", f"{ENTRY} Jane Doe", "Rep text", None),
    "textarea": ("Slow reports", f"{ENTRY} Slow reports", "Rep text", None),
    "email": ("ann@globex.com", "ann@globex.com", "rep@globex.com", "not-an-email"),
    "url": ("https://globex.com", "https://globex.com", "https://rep.example", None),
    "phone": ("+1 555 0100", "+1 555 0100", "+1 555 0199", None),
    "picklist": ("hot", "Hot", "Cold", "Lukewarm"),
    "multipicklist": (["gong"], "Gong", "Clari", ["Nope"]),
    "int": ("12", 12, 3, "twelve"),
    "double": ("2.5", 2.5, 1.0, "n/a"),
    "currency": ("$50k", 50000, 10000.0, "lots"),
    "percent": ("20%", 20, 10.0, "most"),
    "boolean": ("yes", True, False, "perhaps"),
    "date": ("2026-12-01", "2026-12-01", "2026-11-01", "soon"),
    "datetime": ("2026-12-01T09:00:00Z", "2026-12-01T09:00:00Z", "2026-11-01T09:00:00.000+0000", "later"),
}
DEFAULT_KEEPS = {"email", "picklist", "int", "double", "currency", "percent", "boolean", "date", "datetime"}


def run_one(
    type_: str,
    value: Any,
    current: Any,
    *,
    policy: str = "default",
    visible: bool = True,
    updateable: bool = True,
    length: int = 255,
):
    """Given one mapping insight x -> Opportunity.F__c of `type_`, When SyncFields runs, return (result, store)."""
    fields = [field("Other__c", "string")]
    if visible:
        fields.append(
            field("F__c", type_, length=length, updateable=updateable, picklist_values=["Hot", "Cold", "Gong", "Clari"])
        )
    store = FakeFieldStore({"Opportunity": [{"Id": OPP, "F__c": current}]})
    describes = FakeDescribeSource({"Opportunity": obj("Opportunity", *fields)})
    body = settings(
        [{"insight": "x", "object": "Opportunity", "field": "F__c", "policy": policy}], account_link_field=None
    )
    result = SyncFields(store, describes, FakeLedger()).run(
        state(match_result=match({OPP: {"F__c": current}}), settings_body=body, insights={"x": value})
    )
    (change,) = result.report.changes
    (field_change,) = change.fields
    return field_change, store.record("Opportunity", OPP)["F__c"], result


@pytest.mark.parametrize("type_", TYPES)
def test_an_empty_field_is_filled(type_):
    # Given an empty field, When a valid insight arrives, Then the field is filled (text with the dated entry)
    value, written, _, _ = TYPES[type_]
    change, stored, _ = run_one(type_, value, None)
    assert (stored, change.policy, change.before) == (written, "fill", None)


@pytest.mark.parametrize("type_", TYPES)
def test_a_filled_field_follows_the_default_policy(type_):
    # Given a field with a value, When the default policy decides, Then text appends, multipicklists union,
    # everything else keeps
    value, _, existing, _ = TYPES[type_]
    change, stored, _ = run_one(type_, value, existing)
    if type_ in DEFAULT_KEEPS:
        assert (stored, change.policy) == (existing, "keep")
    elif type_ == "multipicklist":
        assert (stored, change.policy) == ("Clari;Gong", "union")
    else:
        assert change.policy == "append" and stored.startswith(existing) and stored.endswith("] " + str(value))


@pytest.mark.parametrize("type_", [t for t, v in TYPES.items() if v[3] is not None])
def test_an_invalid_value_is_dropped_and_recorded(type_):
    # Given a value the field would reject, When synced, Then nothing is written and the ledger says why
    _, _, _, invalid = TYPES[type_]
    change, stored, result = run_one(type_, invalid, None)
    assert stored is None and "dropped" in change.note and result.records_updated == 0


@pytest.mark.parametrize("type_", ["string", "textarea", "email", "url", "phone"])
def test_an_over_long_value_is_truncated_or_dropped_and_recorded(type_):
    # Given a 50-character field and a longer value, Then text is cut (and noted); addresses are dropped
    long_value = {
        "email": "a" * 60 + "@globex.com",
        "url": "https://globex.com/" + "p" * 60,
        "phone": "+1 " + "5" * 60,
    }.get(type_, "word " * 30)
    change, stored, _ = run_one(type_, long_value, None, length=50)
    if type_ in {"email", "url", "phone"}:
        assert stored is None and "dropped" in change.note
    else:
        assert len(stored) == 50 and stored.endswith("…") and "truncated" in change.note


@pytest.mark.parametrize("type_", TYPES)
@pytest.mark.parametrize("policy", ["default", "append", "overwrite", "fill_empty", "union", "skip"])
def test_hidden_and_read_only_fields_are_never_written(type_, policy):
    # Given a hidden, then a read-only field, Then whatever the policy, it is skipped with the FLS fix
    value, _, existing, _ = TYPES[type_]
    hidden, stored, result = run_one(type_, value, existing, policy=policy, visible=False)
    assert hidden.policy == "skip" and "Opportunity.F__c is not visible" in hidden.note and stored == existing
    locked, stored, result = run_one(type_, value, existing, policy=policy, updateable=False)
    assert locked.policy == "skip" and "Opportunity.F__c is read-only" in locked.note and stored == existing
    assert "Set Field-Level Security" in result.report.warnings[0]


@pytest.mark.parametrize("type_", TYPES)
def test_overwrite_replaces_and_skip_never_writes(type_):
    # Given a filled field, Then overwrite replaces it with the plain value and skip leaves it
    value, written, existing, _ = TYPES[type_]
    _, stored, _ = run_one(type_, value, existing, policy="overwrite")
    plain = written if type_ not in {"string", "textarea"} else value
    assert stored == plain
    skipped, stored, _ = run_one(type_, value, existing, policy="skip")
    assert stored == existing and skipped.policy == "skip"
