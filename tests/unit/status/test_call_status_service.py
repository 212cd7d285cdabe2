"""``CallStatusService``: the ledger's history of a call mapped to its status (INTERFACES.md §4)."""

from __future__ import annotations

from callsync.models.event import call_key
from callsync.models.ledger import DeliveryReport, FieldChange, Outcome, RecordChange, StepReport
from callsync.services.call_status import CallStatusService

from tests.support.fakes import FakeLedger

ORG, CALL = "acme", "c1"
OPP = "0065g0000000002AAA"


def delivery(revision: int, status: str, *, received_at: str, reason: str | None = None) -> DeliveryReport:
    return DeliveryReport(
        step=f"delivery#m-{revision}-{received_at}",
        status=status,  # type: ignore[arg-type]
        message_id=f"m-{revision}",
        reason=reason,
        execution_arn=f"arn:aws:states:::execution:sm:{ORG}-{CALL}-{revision}" if status == "STARTED" else None,
        org_id=ORG,
        call_id=CALL,
        revision=revision,
        received_at=received_at,
    )


def synced_call(ledger: FakeLedger, revision: int = 1) -> None:
    """A run that matched the Opportunity, created a Contact, filled a field and logged an Event with a relation."""
    key = call_key(ORG, CALL, revision)
    ledger.record_step(key, delivery(revision, "STARTED", received_at="2026-06-03T15:00:00.000Z"))
    ledger.record_step(
        key,
        StepReport(
            step="MatchOpportunity",
            api_requests=2,
            changes=[
                RecordChange(
                    action="unchanged",
                    object="Opportunity",
                    id=OPP,
                    url=f"https://x/lightning/r/Opportunity/{OPP}/view",
                    label="Globex rollout",
                    note="matched: primary contact",
                ),
                RecordChange(action="skipped", object="Lead", label="x@y.com", note="Lead object not readable"),
            ],
        ),
    )
    ledger.record_step(
        key,
        StepReport(
            step="CreateContacts",
            api_requests=1,
            changes=[
                RecordChange(
                    action="created",
                    object="Contact",
                    id="003A",
                    label="Sam Lee",
                    fields=[FieldChange(field="LastName", after="Lee")],
                ),
                RecordChange(action="failed", object="Contact", label="Raj", note="DUPLICATES_DETECTED"),
            ],
        ),
    )
    ledger.record_step(
        key,
        StepReport(
            step="SyncFields",
            api_requests=1,
            warnings=["Metrics__c is read-only: grant edit"],
            changes=[
                RecordChange(
                    action="updated",
                    object="Opportunity",
                    id=OPP,
                    role="fields",
                    key="Opportunity",
                    fields=[FieldChange(field="NextStep", before="Demo", after="Pilot", policy="overwrite")],
                )
            ],
        ),
    )
    ledger.record_step(
        key,
        StepReport(
            step="LogActivity",
            api_requests=1,
            warnings=["Metrics__c is read-only: grant edit"],
            changes=[
                RecordChange(action="created", object="Event", id="00UA", role="activity", label="[callsync] Globex"),
                RecordChange(action="created", object="EventRelation", id="0REA", role="relation", key="003A"),
            ],
        ),
    )
    ledger.record_outcome(key, Outcome(status="SUCCEEDED", execution_arn="arn:x"))


def test_a_synced_call_lists_each_record_once_with_what_callsync_did_and_its_fields() -> None:
    # Given a call the pipeline synced
    ledger = FakeLedger()
    synced_call(ledger)
    # When its status is asked for
    status = CallStatusService(ledger).run(ORG, CALL)
    # Then it ended SUCCEEDED, its API requests are the steps' sum, the warnings are listed once each
    assert (status.status, status.revision, status.api_requests, status.execution_arn) == ("SUCCEEDED", 1, 5, "arn:x")
    assert status.warnings[0] == "Metrics__c is read-only: grant edit"
    assert status.warnings.count("Metrics__c is read-only: grant edit") == 1
    # And the matched-then-updated Opportunity is one updated record, with its URL and its field before -> after
    actions = {(r.object, r.id): r.action for r in status.records}
    assert actions == {
        ("Opportunity", OPP): "updated",
        ("Contact", "003A"): "created",
        ("Event", "00UA"): "created",
        ("EventRelation", "0REA"): "linked",
    }
    opportunity = status.records[0]
    assert opportunity.url == f"https://x/lightning/r/Opportunity/{OPP}/view"
    assert opportunity.steps == ["MatchOpportunity", "SyncFields"]
    assert opportunity.fields["NextStep"].model_dump() == {
        "before": "Demo",
        "after": "Pilot",
        "policy": "overwrite",
        "note": None,
    }
    # And what was not written is a warning with its reason, not a record
    assert "CreateContacts: Contact 'Raj' failed: DUPLICATES_DETECTED" in status.warnings
    assert "MatchOpportunity: Lead 'x@y.com' skipped: Lead object not readable" in status.warnings


def test_the_latest_revision_is_the_default_and_another_can_be_asked_for() -> None:
    # Given two revisions of a call, the second one failed
    ledger = FakeLedger()
    synced_call(ledger, 1)
    key = call_key(ORG, CALL, 2)
    ledger.record_step(key, delivery(2, "STARTED", received_at="2026-06-04T15:00:00.000Z"))
    ledger.record_outcome(key, Outcome(status="FAILED", error="SalesforceUnavailable", cause="503 try later"))
    # When the status is asked for without a revision, then for revision 1
    latest, first = CallStatusService(ledger).run(ORG, CALL), CallStatusService(ledger).run(ORG, CALL, 1)
    # Then the latest says FAILED with the error and its cause; the first still says SUCCEEDED
    assert (latest.revision, latest.status, latest.error) == (2, "FAILED", "SalesforceUnavailable: 503 try later")
    assert latest.revisions == [1, 2] and latest.records == []
    assert (first.revision, first.status) == (1, "SUCCEEDED")


def test_an_unknown_call_or_revision_is_not_found_with_the_reason() -> None:
    # Given a ledger holding revision 1 of the call only
    ledger = FakeLedger()
    synced_call(ledger)
    # When an unknown call, then an unknown revision is asked for
    unknown = CallStatusService(ledger).run(ORG, "nope")
    missing = CallStatusService(ledger).run(ORG, CALL, 3)
    # Then both are NOT_FOUND, naming what is missing
    assert (unknown.status, unknown.reason) == ("NOT_FOUND", "no run of call nope (org acme) is in the ledger")
    assert missing.status == "NOT_FOUND"
    assert missing.reason == "revision 3 of call c1 (org acme) is not in the ledger (revisions: 1)"


def test_a_consumer_decision_is_the_status_when_no_execution_ran() -> None:
    # Given a revision the consumer skipped (autosync off), and one it started that has no outcome yet
    ledger = FakeLedger()
    ledger.record_step(
        call_key(ORG, CALL, 1),
        delivery(1, "SKIPPED", received_at="2026-06-03T15:00:00.000Z", reason="autosync is off for org acme"),
    )
    ledger.record_step(call_key(ORG, CALL, 2), delivery(2, "STARTED", received_at="2026-06-03T16:00:00.000Z"))
    # When each revision's status is asked for
    skipped, running = CallStatusService(ledger).run(ORG, CALL, 1), CallStatusService(ledger).run(ORG, CALL, 2)
    # Then the first is SKIPPED with the reason; the second is RUNNING with its execution
    assert (skipped.status, skipped.reason) == ("SKIPPED", "autosync is off for org acme")
    assert running.status == "RUNNING" and running.execution_arn == f"arn:aws:states:::execution:sm:{ORG}-{CALL}-2"


def test_a_replay_started_after_the_failure_is_running_until_it_records_its_outcome() -> None:
    # Given a revision that FAILED, and a replay delivery started after that outcome
    ledger = FakeLedger()
    key = call_key(ORG, CALL, 1)
    ledger.record_step(key, delivery(1, "STARTED", received_at="2026-06-03T15:00:00.000Z"))
    ledger.record_outcome(key, Outcome(status="FAILED", error="SalesforceUnavailable"))
    ledger.record_step(key, delivery(1, "STARTED", received_at="2999-01-01T00:00:00.000Z"))
    # When its status is asked for / Then the replay is RUNNING
    assert CallStatusService(ledger).run(ORG, CALL).status == "RUNNING"


def test_a_preview_run_shows_what_would_be_created_and_updated() -> None:
    # Given a preview run: a Contact that would be created (no id yet) and a field that would be updated
    ledger = FakeLedger()
    key = call_key(ORG, CALL, 1)
    ledger.record_step(
        key,
        StepReport(
            step="CreateContacts",
            changes=[
                RecordChange(
                    action="would_create",
                    object="Contact",
                    label="Sam Lee",
                    fields=[FieldChange(field="LastName", after="Lee")],
                ),
                RecordChange(action="would_create", object="Contact", label="Raj Patel"),
            ],
        ),
    )
    ledger.record_step(
        key,
        StepReport(
            step="SyncFields",
            changes=[
                RecordChange(
                    action="would_update",
                    object="Opportunity",
                    id=OPP,
                    fields=[FieldChange(field="NextStep", before="Demo", after="Pilot")],
                )
            ],
        ),
    )
    ledger.record_outcome(key, Outcome(status="PREVIEWED"))
    # When its status is asked for
    status = CallStatusService(ledger).run(ORG, CALL)
    # Then it is PREVIEWED; each record that would be created is listed on its own, without an id
    assert status.status == "PREVIEWED"
    assert [(r.object, r.id, r.label, r.action) for r in status.records] == [
        ("Contact", None, "Sam Lee", "would_create"),
        ("Contact", None, "Raj Patel", "would_create"),
        ("Opportunity", OPP, None, "would_update"),
    ]
    assert status.records[2].fields["NextStep"].before == "Demo"


def test_every_action_of_the_contract_is_shown_as_recorded() -> None:
    # Given changes recorded with the actions other features record (reverted, kept), built as the ledger reads them
    ledger = FakeLedger()
    key = call_key(ORG, CALL, 1)
    report = StepReport(step="Revert")
    report.changes = [
        RecordChange.model_construct(action=a, object="Opportunity", id=f"006{a}", fields=[])
        for a in ("reverted", "kept", "reused", "unchanged")
    ]
    ledger.record_step(key, report)
    # When the status is asked for / Then each record keeps its action
    actions = [r.action for r in CallStatusService(ledger).run(ORG, CALL).records]
    assert actions == ["reverted", "kept", "reused", "unchanged"]


def test_a_reverted_record_shows_reverted_not_what_the_pipeline_did() -> None:
    # Given a synced call whose created Event and Contact a revert then deleted, and whose Opportunity field it kept
    ledger = FakeLedger()
    synced_call(ledger)
    ledger.record_step(
        call_key(ORG, CALL, 1),
        StepReport(
            step="Revert",
            changes=[
                RecordChange(action="reverted", object="Event", id="00UA", role="activity", note="deleted"),
                RecordChange(action="reverted", object="Contact", id="003A", note="deleted"),
                RecordChange(action="kept", object="Opportunity", id=OPP, role="fields", note="NextStep changed since"),
            ],
        ),
    )
    # When its status is asked for
    status = CallStatusService(ledger).run(ORG, CALL)
    # Then each record shows what the revert did to it, with the revert's note
    actions = {(r.object, r.id): (r.action, r.note) for r in status.records}
    assert actions[("Event", "00UA")] == ("reverted", "deleted")
    assert actions[("Contact", "003A")] == ("reverted", "deleted")
    assert actions[("Opportunity", OPP)] == ("kept", "NextStep changed since")
    # And a record the revert did not touch keeps the pipeline's action
    assert actions[("EventRelation", "0REA")][0] == "linked"
