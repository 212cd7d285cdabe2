"""The revert service (``services.revert``) with fakes: it holds the pipeline's leases from its read to its write,
waits for a call that is writing the same records, and records itself in the ledger."""

from __future__ import annotations

import pytest
from callsync.domain.field_targets import fields_lease_key, target_key
from callsync.errors import ConcurrentUpdate
from callsync.models.ledger import FieldChange, RecordChange, StepReport
from callsync.services.create_contacts import claim_key
from callsync.services.revert import RevertCall

from tests.support.fakes import FakeClaims, FakeLeases, FakeLedger, FakeRecordReverter

OPP = "0065g0000000002AAA"
FIELDS_LEASE = f"acme#fields#{OPP}"


def synced_ledger() -> FakeLedger:
    ledger = FakeLedger()
    change = RecordChange(
        action="updated",
        object="Opportunity",
        id=OPP,
        role="fields",
        fields=[FieldChange(field="NextStep", before="Discovery", after="Security review")],
    )
    ledger.record_step("acme#c1#1", StepReport(step="SyncFields", changes=[change]))
    return ledger


def test_revert_reads_and_writes_under_the_records_fields_lease_and_gives_it_back_stamped() -> None:
    # Given a call that wrote NextStep on the Opportunity
    ledger, leases = synced_ledger(), FakeLeases()
    held_at_read: list[str | None] = []
    salesforce = FakeRecordReverter(
        {OPP: {"Id": OPP, "NextStep": "Security review"}},
        on_read=lambda: held_at_read.append(leases.items.get(FIELDS_LEASE, {}).get("owner")),
    )
    # When it is reverted
    result = RevertCall(ledger, salesforce, leases=leases).run("acme", "c1")
    # Then the read happened under the Opportunity's fields lease, the write put the value back,
    # and the lease was given back stamped as written (the next writer re-reads)
    assert held_at_read == ["revert#acme#c1#1"]
    assert result.status == "REVERTED" and salesforce.records[OPP]["NextStep"] == "Discovery"
    assert "owner" not in leases.items[FIELDS_LEASE] and "written_at" in leases.items[FIELDS_LEASE]
    # And the ledger holds the revert as the call's Revert step
    report = ledger.history("acme", "c1").step(1, "Revert")
    assert report is not None and [c.action for c in report.changes] == ["reverted"]


def test_revert_waits_for_a_call_writing_the_same_record_and_gives_up_without_writing() -> None:
    # Given another call's SyncFields holds the Opportunity's fields lease for longer than the revert waits
    ledger, leases = synced_ledger(), FakeLeases()
    leases.acquire(FIELDS_LEASE, "acme#other-call#1", ttl_seconds=90)
    salesforce = FakeRecordReverter({OPP: {"Id": OPP, "NextStep": "Security review"}})
    # When the call is reverted / Then it raises ConcurrentUpdate (run it again) and wrote nothing
    with pytest.raises(ConcurrentUpdate):
        RevertCall(ledger, salesforce, leases=leases, lease_wait_seconds=0.2).run("acme", "c1")
    assert salesforce.writes == [] and ledger.history("acme", "c1").step(1, "Revert") is None


def test_revert_holds_the_leases_syncfields_takes_for_via_records_and_the_records_it_deletes() -> None:
    """SyncFields leases a via-record by its parent (``fields_lease_key``: its id is unknown before the lookup)
    and a created Contact by its id; a revert deleting them holds those very keys from its read to its write."""
    # Given a call matched to the Opportunity, that created a Contact and a via-record under the Opportunity
    ledger, leases = FakeLedger(), FakeLeases()
    matched = RecordChange(action="unchanged", object="Opportunity", id=OPP, note="matched: primary contact")
    contact = RecordChange(
        action="created", object="Contact", id="0035g00000000X1AAA", fields=[FieldChange(field="LastName", after="Lee")]
    )
    pilot = RecordChange(
        action="created",
        object="Pilot__c",
        id="a015g00000000P1AAA",
        role="fields",
        key=target_key("Pilot__c", "Opportunity__c"),
        fields=[FieldChange(field="Seats__c", after="120")],
    )
    ledger.record_step("acme#c1#1", StepReport(step="MatchOpportunity", changes=[matched]))
    ledger.record_step("acme#c1#1", StepReport(step="CreateContacts", changes=[contact]))
    ledger.record_step("acme#c1#1", StepReport(step="SyncFields", changes=[pilot]))
    held_at_read: list[str] = []
    salesforce = FakeRecordReverter(
        {
            "0035g00000000X1AAA": {"Id": "0035g00000000X1AAA", "LastName": "Lee"},
            "a015g00000000P1AAA": {"Id": "a015g00000000P1AAA", "Seats__c": "120"},
        },
        on_read=lambda: held_at_read.extend(k for k, v in leases.items.items() if v.get("owner")),
    )
    # When it is reverted
    result = RevertCall(ledger, salesforce, leases=leases).run("acme", "c1")
    # Then at the read it held SyncFields' key of the via-record (by its parent), and the keys of both
    # records it deletes (by id), with the call's LogActivity lease
    assert fields_lease_key("acme", "Pilot__c", None, "Opportunity__c", OPP) in held_at_read
    assert "acme#fields#Pilot__c:Opportunity__c:0065g0000000002AAA" in held_at_read
    assert {"acme#fields#0035g00000000X1AAA", "acme#fields#a015g00000000P1AAA"} <= set(held_at_read)
    assert "log-activity#acme#c1" in held_at_read
    # And both created records were deleted
    assert result.status == "REVERTED" and salesforce.records == {}


def test_revert_forgets_the_claim_of_a_person_it_deletes_and_leaves_a_newer_claim_alone() -> None:
    # Given a call that created Sam (its claim names the Contact) and another person whose claim a later
    # call has since resolved to another record
    ledger, claims = FakeLedger(), FakeClaims()
    sam = RecordChange(
        action="created",
        object="Contact",
        id="0035g00000000S1AAA",
        fields=[FieldChange(field="Email", after="sam.lee@globex.com")],
    )
    raj = RecordChange(
        action="created", object="Lead", id="00Q5g00000000R1AAA", fields=[FieldChange(field="Email", after="raj@x.io")]
    )
    ledger.record_step("acme#c1#1", StepReport(step="CreateContacts", changes=[sam, raj]))
    for email, owner, value in (
        ("sam.lee@globex.com", "acme#c1#1", "Contact:0035g00000000S1AAA"),
        ("raj@x.io", "acme#c9#1", "Lead:00Q5g00000000R9AAA"),
    ):
        claims.take(claim_key("acme", email), owner, ttl_seconds=60)
        claims.resolve(claim_key("acme", email), value, ttl_seconds=3600)
    salesforce = FakeRecordReverter({r.id or "": {"Id": r.id} for r in (sam, raj)})
    # When the call is reverted
    result = RevertCall(ledger, salesforce, claims=claims).run("acme", "c1")
    # Then both people are deleted, Sam's claim is gone, and the claim naming another record stays
    assert result.status == "REVERTED" and salesforce.records == {}
    assert claims.get(claim_key("acme", "sam.lee@globex.com")) is None
    kept = claims.get(claim_key("acme", "raj@x.io"))
    assert kept is not None and kept["value"] == "Lead:00Q5g00000000R9AAA"
