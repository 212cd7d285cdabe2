"""The revert rules (``domain.revert_plan``) over a typed ledger and Salesforce's current values."""

from __future__ import annotations

from callsync.domain.revert_plan import CurrentState, FieldWrites, Usage, plan_revert, same_value, written_records
from callsync.models.ledger import CallHistory, FieldChange, LedgerEntry, RecordChange, StepReport

OPP = "0065g0000000002AAA"
TASK = "00T5g0000000001EAA"
SAM = "0035g0000000004AAA"
INTEGRATION = "0055g0000000003AAA"


def history(*reports: tuple[int, StepReport]) -> CallHistory:
    return CallHistory(
        entries=[LedgerEntry(call_key=f"acme#c1#{rev}", revision=rev, report=report) for rev, report in reports]
    )


def fields_report(before: str | None, after: str) -> StepReport:
    change = RecordChange(
        action="updated",
        object="Opportunity",
        id=OPP,
        role="fields",
        fields=[FieldChange(field="NextStep", before=before, after=after)],
    )
    return StepReport(step="SyncFields", changes=[change])


def test_a_field_written_by_two_revisions_goes_back_to_its_value_before_the_first() -> None:
    # Given revision 1 wrote A -> B and revision 2 wrote B -> C
    records = written_records(history((1, fields_report("A", "B")), (2, fields_report("B", "C"))))
    # When Salesforce still holds C
    plan = plan_revert(records, CurrentState(records={OPP: {"Id": OPP, "NextStep": "C"}}))
    # Then the field goes back to A
    assert plan.updates == [{"attributes": {"type": "Opportunity"}, "Id": OPP, "NextStep": "A"}]


def test_a_chain_broken_by_a_person_goes_back_to_the_persons_value() -> None:
    # Given revision 1 wrote A -> B, a person then set P, and revision 2 wrote P -> C
    writes = FieldWrites(writes=[("A", "B"), ("P", "C")])
    # Then a revert restores P, not A
    assert writes.restore_to == "P"


def test_a_field_changed_since_is_kept_and_nothing_is_written() -> None:
    # Given callsync wrote A -> B and Salesforce now holds X
    records = written_records(history((1, fields_report("A", "B"))))
    plan = plan_revert(records, CurrentState(records={OPP: {"Id": OPP, "NextStep": "X"}}))
    # Then the field is kept with its reason
    assert plan.updates == [] and [c.action for c in plan.changes] == ["kept"]
    assert plan.changes[0].note == "NextStep: changed since callsync wrote it"


def test_a_created_person_used_by_another_record_is_kept() -> None:
    # Given callsync created Sam, and a Task it did not create points at Sam
    created = RecordChange(
        action="created", object="Contact", id=SAM, fields=[FieldChange(field="LastName", after="Lee")]
    )
    records = written_records(history((1, StepReport(step="CreateContacts", changes=[created]))))
    now = CurrentState(
        records={SAM: {"Id": SAM, "LastName": "Lee", "CreatedById": INTEGRATION, "LastModifiedById": INTEGRATION}},
        usages=[Usage(object="Task", id=TASK, person_id=SAM)],
    )
    # When the revert is planned / Then Sam stays, and why
    plan = plan_revert(records, now)
    assert plan.deletes == [] and plan.changes[0].action == "kept"
    assert plan.changes[0].note == f"used by Task {TASK}, which callsync did not create for this call"


def test_values_compare_by_meaning() -> None:
    assert same_value(41, "41") and same_value("2026-06-03T15:00:00Z", "2026-06-03T15:00:00.000+0000")
    assert same_value("Gong;Chorus", "Chorus;Gong") and same_value(None, "")
    assert not same_value("A", "B") and not same_value(1, 2)
