"""Preview mode's write boundary (``services.preview``) and its outcome: what is recorded, what is never written."""

from __future__ import annotations

import json
from pathlib import Path

from callsync.models.event import call_key
from callsync.models.ledger import RecordChange, StepReport
from callsync.services.preview import PLACEHOLDER, PreviewClaims, PreviewLedger
from callsync.services.record_outcome import OutcomeInput, RecordOutcome

from tests.support.fakes import FakeClaims, FakeLedger

CALL = json.loads((Path(__file__).resolve().parents[3] / "events/demo_event.json").read_text())
KEY = call_key("acme", "c1", 1)


def test_the_preview_ledger_records_would_be_writes_without_placeholder_ids() -> None:
    # Given a step's report as a service writes it when its writes were answered without a request
    report = StepReport(
        step="CreateContacts",
        changes=[
            RecordChange(
                action="created", object="Contact", id=f"{PLACEHOLDER}Contact:1", url="https://x/preview", label="Sam"
            ),
            RecordChange(action="updated", object="Opportunity", id="006A", url="https://x/006A"),
            RecordChange(action="reused", object="Contact", id="003B"),
            RecordChange(action="failed", object="Lead", note="no permission"),
        ],
    )
    ledger = FakeLedger()
    # When the preview ledger records it
    PreviewLedger(ledger).record_step(KEY, report)
    # Then the writes are would-be writes, the placeholder id and its URL are gone, the rest is as reported
    (stored,) = [e.report for e in ledger.entries(KEY) if e.report is not None]
    assert [(c.action, c.id, c.url) for c in stored.changes] == [
        ("would_create", None, None),
        ("would_update", "006A", "https://x/006A"),
        ("reused", "003B", None),
        ("failed", None, None),
    ]
    # And a later step looking for records of a role in Salesforce does not find the would-be ones
    stored.changes.append(RecordChange(action="would_create", object="Event", role="activity"))
    assert stored.with_role("activity") == []


def test_preview_claims_reuse_a_person_another_call_created_and_take_nothing() -> None:
    # Given the org-wide claims: one person created by another call, one nobody holds
    claims = FakeClaims()
    claims.take("acme#sam@globex.com", "other-call", ttl_seconds=60)
    claims.resolve("acme#sam@globex.com", "Contact:003S")
    before = {k: claims.get(k) for k in ("acme#sam@globex.com", "acme#raj@globex.com")}
    preview = PreviewClaims(claims)
    # When a previewed call takes both, resolves and releases them
    known = preview.take("acme#sam@globex.com", "preview-call", ttl_seconds=90)
    free = preview.take("acme#raj@globex.com", "preview-call", ttl_seconds=90)
    preview.resolve("acme#raj@globex.com", f"Contact:{PLACEHOLDER}1")
    preview.release("acme#raj@globex.com", "preview-call")
    # Then the created person is reused, the other is its to "create", and the claims are as they were
    assert (known.holder, known.value) == ("other-call", "Contact:003S")
    assert free.holder == "preview-call"
    assert {k: claims.get(k) for k in before} == before


def test_a_preview_run_that_got_through_is_previewed_and_a_failed_one_failed() -> None:
    # Given the outcome task's input in preview mode
    ledger = FakeLedger()
    # When a run that got through and one that failed are recorded
    previewed, _ = RecordOutcome(ledger).run(OutcomeInput(status="SUCCEEDED", call=CALL, preview=True))
    failed, _ = RecordOutcome(ledger).run(
        OutcomeInput(status="FAILED", call=CALL, preview=True, error={"Error": "SalesforceUnavailable"})
    )
    # Then the first is PREVIEWED, the second still FAILED
    assert (previewed.status, failed.status) == ("PREVIEWED", "FAILED")


def test_a_previewed_org_runs_its_calls_even_with_autosync_off() -> None:
    from callsync.models.settings import OrgSettings
    from callsync.services.start_sync import Message, StartSync

    from tests.support.fakes import FakeSettingsStore
    from tests.unit.pipeline.consumer_doubles import FakeDeadLetters, FakeExecutions

    # Given two orgs with autosync off, one of them in preview
    settings = FakeSettingsStore([
        OrgSettings(org_id="acme", internal_domains=["acme.io"], autosync=False, preview=True),
        OrgSettings(org_id="umbrella", internal_domains=["umbrella.io"], autosync=False),
    ])  # fmt: skip
    executions = FakeExecutions()
    consumer = StartSync(settings=settings, ledger=FakeLedger(), executions=executions, dead_letters=FakeDeadLetters())
    # When a call of each arrives
    previewed = consumer.handle(Message("m-1", json.dumps(CALL)))
    skipped = consumer.handle(Message("m-2", json.dumps({**CALL, "org_id": "umbrella"})))
    # Then the previewed org's call starts (it will write nothing); the other is SKIPPED because autosync is off
    assert previewed.status == "STARTED" and list(executions.started) == ["acme-zoom-8841-2026-06-03-1"]
    assert skipped.status == "SKIPPED" and skipped.report.reason == "autosync is off for org umbrella"
