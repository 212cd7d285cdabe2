"""The revert rules (``domain.revert_plan``) over a typed ledger and Salesforce's current values."""

from __future__ import annotations

from callsync.domain.field_revisions import call_mark
from callsync.domain.revert_plan import (
    ENTRY_REMOVED,
    REMOVE_ENTRY,
    CurrentState,
    FieldWrites,
    Usage,
    plan_revert,
    same_value,
    written_records,
)
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


CALL = "c1"
MARK = call_mark(CALL)
MINE = f"[2026-06-03 #{MARK}] Pain from call one."
OTHER = "[2026-06-04 #0a0b0c] Pain from call two."


def pain_report(before: str | None, after: str, action: str = "updated") -> StepReport:
    change = RecordChange(
        action=action, object="Opportunity", id=OPP, role="fields",
        fields=[FieldChange(field="Pain__c", before=before, after=after)],
    )  # fmt: skip
    return StepReport(step="SyncFields", changes=[change])


def revert_of(plan_changes: list[RecordChange]) -> StepReport:
    return StepReport(step="Revert", changes=plan_changes)


def test_a_text_field_others_appended_to_since_loses_only_the_calls_entry() -> None:
    # Given the call appended its marked entry to "Seeded." and another call appended its own after it
    records = written_records(history((1, pain_report("Seeded.", f"Seeded.\n\n{MINE}"))))
    now = CurrentState(records={OPP: {"Id": OPP, "Pain__c": f"Seeded.\n\n{MINE}\n\n{OTHER}"}})
    # When the revert is planned
    plan = plan_revert(records, now, CALL)
    # Then only the call's entry goes: what was there before and the other call's entry stay byte for byte
    assert plan.updates == [{"attributes": {"type": "Opportunity"}, "Id": OPP, "Pain__c": f"Seeded.\n\n{OTHER}"}]
    assert [(c.action, c.fields[0].policy, c.fields[0].note) for c in plan.changes] == [
        ("reverted", REMOVE_ENTRY, ENTRY_REMOVED)
    ]


def test_a_one_line_field_loses_the_calls_entry_and_one_separator() -> None:
    # Given a one-line field where the call's entry sits between two others
    records = written_records(history((1, pain_report("[2026-06-01] Older", f"[2026-06-01] Older | {MINE}"))))
    now = CurrentState(records={OPP: {"Id": OPP, "Pain__c": f"[2026-06-01] Older | {MINE} | {OTHER}"}})
    # When the revert is planned / Then the entry and one " | " go
    (update,) = plan_revert(records, now, CALL).updates
    assert update["Pain__c"] == f"[2026-06-01] Older | {OTHER}"


def test_an_entry_a_person_edited_is_kept_with_the_field() -> None:
    # Given the call's entry, then a person changed the entry's own text
    records = written_records(history((1, pain_report("Seeded.", f"Seeded.\n\n{MINE}"))))
    edited = f"Seeded.\n\n{MINE} Confirmed by Raj.\n\n{OTHER}"
    # When the revert is planned / Then nothing is written and the field is kept, with why
    plan = plan_revert(records, CurrentState(records={OPP: {"Id": OPP, "Pain__c": edited}}), CALL)
    assert plan.updates == [] and [c.action for c in plan.changes] == ["kept"]


def test_a_second_revert_after_an_entry_removal_writes_nothing_and_reports_it_done() -> None:
    # Given a revert that took the call's entry out of a field others wrote to
    first = history((1, pain_report("Seeded.", f"Seeded.\n\n{MINE}")))
    now = CurrentState(records={OPP: {"Id": OPP, "Pain__c": f"Seeded.\n\n{MINE}\n\n{OTHER}"}})
    plan = plan_revert(written_records(first), now, CALL)
    recorded = CallHistory(entries=[*first.entries, LedgerEntry(call_key="acme#c1#1", revision=1,
                                                                report=revert_of(plan.changes))])  # fmt: skip
    # When it runs again on the field as the first left it
    again = plan_revert(
        written_records(recorded), CurrentState(records={OPP: {"Id": OPP, "Pain__c": f"Seeded.\n\n{OTHER}"}}), CALL
    )
    # Then nothing is written (the entry is not put back) and the field counts as reverted
    assert again.updates == [] and [c.action for c in again.changes] == ["reverted"]


def test_revision_2_after_others_wrote_is_reverted_without_bringing_revision_1_back() -> None:
    # Given revision 1 appended its entry, another call appended after it, and revision 2 replaced the entry in place
    mine_v2 = f"[2026-06-03 #{MARK}] Pain from call one, revised."
    records = written_records(
        history(
            (1, pain_report("Seeded.", f"Seeded.\n\n{MINE}")),
            (2, pain_report(f"Seeded.\n\n{MINE}\n\n{OTHER}", f"Seeded.\n\n{mine_v2}\n\n{OTHER}")),
        )
    )
    now = CurrentState(records={OPP: {"Id": OPP, "Pain__c": f"Seeded.\n\n{mine_v2}\n\n{OTHER}"}})
    # When the revert is planned / Then the field holds neither revision's entry
    (update,) = plan_revert(records, now, CALL).updates
    assert update["Pain__c"] == f"Seeded.\n\n{OTHER}"


def test_a_created_via_record_others_appended_to_stays_without_the_calls_entry() -> None:
    # Given the call created a Deal Review with its entry, and another call appended to it since
    review = "a0X5g0000000001AAA"
    created = RecordChange(
        action="created", object="Deal_Review__c", id=review, role="fields",
        fields=[FieldChange(field="Opportunity__c", after=OPP), FieldChange(field="Decision__c", after=MINE)],
    )  # fmt: skip
    records = written_records(history((1, StepReport(step="SyncFields", changes=[created]))))
    current = {"Id": review, "Opportunity__c": OPP, "Decision__c": f"{MINE}\n\n{OTHER}",
               "CreatedById": INTEGRATION, "LastModifiedById": INTEGRATION}  # fmt: skip
    # When the revert is planned
    plan = plan_revert(records, CurrentState(records={review: current}), CALL)
    # Then the record stays (another call's entry is on it), keeps its lookup, and loses the call's entry
    assert plan.deletes == []
    assert plan.updates == [{"attributes": {"type": "Deal_Review__c"}, "Id": review, "Decision__c": OTHER}]
    assert [c.action for c in plan.changes] == ["kept", "reverted"]
