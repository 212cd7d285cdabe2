"""Revisions of one call in a field: the marked entry, replacing an earlier revision's write, a person's edit."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from callsync.domain.field_policies import decide
from callsync.domain.field_revisions import PriorWrite, call_mark, entry_text, own_span
from callsync.domain.person_edits import PersonEdit, person_edit
from callsync.models.describe import FieldDescribe
from callsync.models.fields import LastModified
from callsync.models.ledger import CallHistory, FieldChange, LedgerEntry, RecordChange, StepReport
from callsync.services.field_history import newer_revision_synced, prior_writes

DAY = date(2026, 11, 20)
MARK = call_mark("c1")
HEAD = f"[2026-11-20 #{MARK}]"
ALICE = PersonEdit("Alice Rep", datetime(2026, 11, 22, 9, 30, tzinfo=UTC))


def fd(type_: str, length: int = 32768) -> FieldDescribe:
    return FieldDescribe(name="F__c", type=type_, length=length, updateable=True, createable=True, nillable=True)


def test_the_mark_is_short_stable_and_per_call():
    # Given two calls, When their marks are made twice, Then each is six hex digits, stable, and distinct
    assert call_mark("c1") == MARK and len(MARK) == 6 and int(MARK, 16) >= 0
    assert call_mark("c2") != MARK


def test_an_entry_never_holds_the_separator_so_its_end_is_known():
    # Given texts with blank lines or " | ", Then the entry text has neither
    assert entry_text("one\n\ntwo\n \n\nthree", "\n\n") == "one\ntwo\nthree"
    assert entry_text("a | b", " | ") == "a / b"
    # And an entry is found only at the field's start or after a separator, up to the next separator
    text = f"Rep {HEAD} not an entry\n\n{HEAD} ours\n\n[2026-11-21 #abcdef] theirs"
    start, end = own_span(text, MARK, "\n\n") or (0, 0)
    assert text[start:end] == f"{HEAD} ours"
    assert own_span("Rep text", MARK, "\n\n") is None


def test_a_later_revision_replaces_its_entry_in_place_and_keeps_the_rest_byte_for_byte():
    # Given the rep's text, this call's entry and another call's entry after it
    before = f"Rep: slow\n\n{HEAD} Reporting takes two days\n\n[2026-11-21 #abcdef] Other call"
    # When revision 2 brings a new text
    decision = decide(fd("textarea"), before, "Reporting takes a week", policy="default", call_date=DAY, mark=MARK)
    # Then only this call's entry changed
    assert decision.write
    assert decision.after == f"Rep: slow\n\n{HEAD} Reporting takes a week\n\n[2026-11-21 #abcdef] Other call"
    assert "replaced this call's earlier entry" in decision.notes
    # And the same text again (a retry) writes nothing
    again = decide(fd("textarea"), decision.after, "Reporting takes a week", policy="default", call_date=DAY, mark=MARK)
    assert not again.write and again.notes == ("this call's entry is already there",)


def test_a_cut_entry_is_recognised_and_replaced_within_the_room_left():
    # Given a 60-character one-line field holding the rep's text and this call's cut entry
    field = fd("string", 60)
    first = decide(field, "Rep", "a long first text that will not fit in the field", policy="default", call_date=DAY,
                   mark=MARK)  # fmt: skip
    assert first.write and first.after.endswith("…") and len(first.after) == 60
    # When the same text comes again, Then nothing is written; a new text replaces the cut entry
    same = decide(field, first.after, "a long first text that will not fit in the field", policy="default",
                  call_date=DAY, mark=MARK)  # fmt: skip
    assert not same.write
    new = decide(field, first.after, "short", policy="default", call_date=DAY, mark=MARK)
    assert new.after == f"Rep | {HEAD} short"


def test_an_unmarked_entry_is_replaced_when_the_ledger_knows_it():
    # Given an entry written before entries were marked, and the ledger's record of it
    old = "[2026-11-20] Reporting takes two days"
    prior = PriorWrite(base="Rep: slow", last=f"Rep: slow\n\n{old}", revision=1)
    # When revision 2 runs, Then it replaces that entry with its marked one
    decision = decide(fd("textarea"), f"Rep: slow\n\n{old}\n\nlater", "A week", policy="default", call_date=DAY,
                      mark=MARK, prior=prior)  # fmt: skip
    assert decision.after == f"Rep: slow\n\n{HEAD} A week\n\nlater"


def test_an_entry_a_person_changed_or_removed_is_kept():
    # Given what revision 1 wrote, and a person who edited (then removed) the entry after the call
    prior = PriorWrite(base="Rep", last=f"Rep\n\n{HEAD} Two days", revision=1)
    edited = f"Rep\n\n{HEAD} Two days (Alice: actually three)"
    kept = decide(fd("textarea"), edited, "A week", policy="default", call_date=DAY, mark=MARK, prior=prior,
                  edit=ALICE)  # fmt: skip
    assert not kept.write and kept.policy == "keep" and kept.notes[0].startswith("kept: changed by Alice Rep on")
    removed = decide(fd("textarea"), "Rep", "A week", policy="default", call_date=DAY, mark=MARK, prior=prior,
                     edit=ALICE)  # fmt: skip
    assert not removed.write and "this call's entry was removed" in removed.notes[0]
    # And without a person's edit (another call's write), the entry is replaced
    replaced = decide(fd("textarea"), edited, "A week", policy="default", call_date=DAY, mark=MARK, prior=prior)
    assert replaced.after == f"Rep\n\n{HEAD} A week"


def test_a_value_this_call_wrote_is_decided_again_from_the_value_before_the_call():
    # Given a picklist revision 1 filled (empty before) and a NextStep it overwrote
    picklist = FieldDescribe(name="F__c", type="picklist", updateable=True, createable=True, nillable=True)
    filled = PriorWrite(base=None, last="Warm", revision=1)
    assert decide(picklist, "Warm", "Hot", policy="default", call_date=DAY, prior=filled).after == "Hot"
    overwritten = PriorWrite(base="Discovery", last="Pilot", revision=1)
    decision = decide(fd("string", 255), "Pilot", "Pilot with CFO", policy="overwrite", call_date=DAY,
                      prior=overwritten)  # fmt: skip
    assert decision.after == "Pilot with CFO" and "replaced this call's earlier value" in decision.notes
    # When a person changed it since, Then it is kept; when another call did, its policy applies
    kept = decide(fd("string", 255), "Alice's plan", "Pilot with CFO", policy="overwrite", call_date=DAY,
                  prior=overwritten, edit=ALICE)  # fmt: skip
    assert not kept.write and kept.notes == ("kept: changed by Alice Rep on 2026-11-22",)
    other = decide(fd("string", 255), "Other call", "Pilot with CFO", policy="overwrite", call_date=DAY,
                   prior=overwritten)  # fmt: skip
    assert other.after == "Pilot with CFO"


def test_a_multiselect_loses_only_what_an_earlier_revision_added_and_no_longer_says():
    # Given Gong (the rep's) and Chorus, Clari (added by revision 1)
    prior = PriorWrite(base="Gong", last="Gong;Chorus;Clari", revision=1)
    field = fd("multipicklist")
    # When revision 2 says Clari and Avoma
    decision = decide(field, "Gong;Chorus;Clari", ["Clari", "Avoma"], policy="default", call_date=DAY, prior=prior)
    # Then Chorus goes, Gong stays, Avoma is added
    assert decision.after == "Gong;Clari;Avoma" and decision.notes[0].startswith("removed Chorus")
    # And a person's change since keeps the field as they left it
    kept = decide(field, "Gong;Chorus", ["Avoma"], policy="default", call_date=DAY, prior=prior, edit=ALICE)
    assert not kept.write and kept.policy == "keep"


@pytest.mark.parametrize(
    ("by", "at", "person"),
    [
        ("005000000000002AAA", "2026-11-22T09:30:00+00:00", True),  # a person, after the call
        ("005000000000001", "2026-11-22T09:30:00+00:00", False),  # the integration user (15-character id)
        ("005000000000002AAA", "2026-11-19T09:30:00+00:00", False),  # before the call started
    ],
)
def test_a_persons_edit_is_one_after_the_call_by_someone_else(by, at, person):
    started = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    last = LastModified(by_id=by, by_name="Alice Rep", at=datetime.fromisoformat(at))
    edit = person_edit(last, integration_user_id="005000000000001AAA", since=started)
    assert (edit is not None) is person


def history(*reports: tuple[int, StepReport]) -> CallHistory:
    return CallHistory(entries=[LedgerEntry(call_key=f"acme#c1#{r}", revision=r, report=s) for r, s in reports])


def fields_report(*changes: FieldChange, action: str = "updated") -> StepReport:
    record = RecordChange(action=action, object="Opportunity", role="fields", key="Opportunity", fields=list(changes))
    return StepReport(step="SyncFields", changes=[record])


def test_a_call_older_than_a_persons_edit_keeps_the_values_it_would_replace():
    # Given a record a person changed after this (different, late) call started: ALICE, and no prior write
    def older(type_: str, before: object, new: object, policy: str):
        return decide(fd(type_, 255), before, new, policy=policy, call_date=DAY, mark=MARK, edit=ALICE)

    # When the call would overwrite a value, Then the value is kept, with who changed the record and when
    kept = older("string", "Alice's plan", "Send the MSA", "overwrite")
    assert (kept.write, kept.after, kept.policy, kept.notes) == (
        False, "Alice's plan", "keep", ("kept: changed by Alice Rep on 2026-11-22",)
    )  # fmt: skip
    chosen = older("multipicklist", "Gong", ["Chorus"], "overwrite")
    assert not chosen.write and chosen.after == "Gong"
    # And what does not replace a value still applies: filling an empty field, appending a dated entry,
    # adding multi-select values
    assert older("string", None, "Send the MSA", "overwrite").after == "Send the MSA"
    assert older("string", "", "Send the MSA", "fill_empty").write
    appended = older("textarea", "Alice's notes", "Budget approved", "append")
    assert appended.write and appended.after == f"Alice's notes\n\n{HEAD} Budget approved"
    assert older("multipicklist", "Gong", ["Chorus"], "union").after == "Gong;Chorus"
    # And the same overwrite without a person's edit (a newer call, started after it) replaces the value
    newer = decide(fd("string", 255), "Alice's plan", "Send the MSA", policy="overwrite", call_date=DAY, mark=MARK)
    assert newer.write and newer.after == "Send the MSA"


def test_prior_writes_chain_revisions_and_the_newest_revision_is_found():
    # Given revisions 1 and 2 that wrote NextStep, and revision 3 that only recorded a kept field
    ledger = history(
        (1, fields_report(FieldChange(field="NextStep", before="Discovery", after="Pilot"))),
        (2, fields_report(FieldChange(field="NextStep", before="Pilot", after="Pilot with CFO"))),
        (3, fields_report(FieldChange(field="NextStep", before="Alice", after="Alice", policy="keep"))),
    )
    # Then for revision 3 the base is revision 1's before and the last write revision 2's
    prior = prior_writes(ledger, 3)["Opportunity"]["nextstep"]
    assert (prior.base, prior.last, prior.revision) == ("Discovery", "Pilot with CFO", 2)
    # And revision 1 sees only itself; revision 3 is newer than 1 and 2
    assert prior_writes(ledger, 1)["Opportunity"]["nextstep"].last == "Pilot"
    assert newer_revision_synced(ledger, 1) == 3 and newer_revision_synced(ledger, 3) is None
    # And a failed write, or a value the ledger kept shortened, is no prior write
    failed = history((1, fields_report(FieldChange(field="NextStep", before="a", after="b"), action="failed")))
    assert prior_writes(failed, 2) == {}
    long = history((1, fields_report(FieldChange(field="Pain__c", before=None, after="x… [9000 characters] …y"))))
    assert prior_writes(long, 2) == {"Opportunity": {}}
