"""What rides in the execution's state: long read-ahead values and candidates stay out of it."""

from __future__ import annotations

import json

from callsync.domain.state_budget import (
    CANDIDATES_BYTES,
    MODIFIERS_BYTES,
    VALUE_BYTES,
    bounded_candidates,
    bounded_modifiers,
    bounded_values,
)
from callsync.models.fields import FieldSyncResult
from callsync.models.ledger import StepReport


def test_long_values_are_left_out_and_counted_short_ones_kept() -> None:
    # Given a short value, one over the per-value budget, and many that together exceed the total
    values = {
        "006A": {"NextStep": "call back", "Pain__c": "p" * (VALUE_BYTES + 1)},
        "001A": {f"F{i}__c": "v" * 1500 for i in range(20)},
    }
    # When bounded
    kept, left_out = bounded_values(values)
    # Then the short one is kept, the long one and the overflow are left out (SyncFields reads them itself)
    assert kept["006A"] == {"NextStep": "call back"}
    assert 0 < len(kept["001A"]) < 20 and left_out == 1 + (20 - len(kept["001A"]))


def test_candidates_over_the_budget_are_not_carried() -> None:
    small = [{"Id": "00U1", "Description": "short"}]
    big = [{"Id": f"00U{i}", "Description": "d" * 2000} for i in range(CANDIDATES_BYTES // 2000 + 1)]
    assert bounded_candidates(small) == small
    assert bounded_candidates(big) is None and bounded_candidates(None) is None


def test_a_steps_report_is_not_part_of_its_state_output() -> None:
    # Given a step result whose report holds long before/after values
    result = FieldSyncResult(report=StepReport(step="SyncFields", warnings=["x" * 50_000]))
    # When it is dumped as the handler returns it / Then the report is not there (the ledger has it)
    assert "report" not in result.model_dump(mode="json")


def test_who_last_modified_each_record_rides_beside_its_values_within_the_budget() -> None:
    # Given values of many records, each with its modifier, and one record read without its modifier
    modifier = {"by_id": "005000000000001AAA", "by_name": "Alice Rep", "at": "2026-06-05T09:30:00Z"}
    values = {f"006{i:015d}": {"NextStep": "x"} for i in range(60)} | {"001A": {"Website": "w"}}
    modifiers = {i: modifier for i in values if i != "001A"}
    # When bounded
    kept_values, kept, left_out = bounded_modifiers(values, modifiers)
    # Then records whose modifier fits keep both; past the budget a record loses its values too (SyncFields
    # reads the two together); a record read without its modifier keeps its values
    assert 0 < len(kept) < 60 and left_out == 60 - len(kept)
    assert set(kept_values) == set(kept) | {"001A"}
    assert len(json.dumps(kept)) <= MODIFIERS_BYTES
