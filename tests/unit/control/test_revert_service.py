"""The revert service (``services.revert``) with fakes: it holds the pipeline's leases from its read to its write,
waits for a call that is writing the same records, and records itself in the ledger."""

from __future__ import annotations

import pytest
from callsync.errors import ConcurrentUpdate
from callsync.models.ledger import FieldChange, RecordChange, StepReport
from callsync.services.revert import RevertCall

from tests.support.fakes import FakeLeases, FakeLedger, FakeRecordReverter

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
