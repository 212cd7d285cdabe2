"""Settings, ledger, claims and leases against moto DynamoDB tables with the template's key schemas."""

from __future__ import annotations

import pytest
from callsync.adapters.dynamodb_claims import DynamoDbClaims
from callsync.adapters.dynamodb_leases import DynamoDbLeases
from callsync.adapters.dynamodb_ledger import DynamoDbLedger
from callsync.adapters.dynamodb_settings import DynamoDbSettingsStore
from callsync.errors import ConcurrentUpdate, InvalidSettings, SettingsNotFound
from callsync.models.lease import ClaimTaken, LeaseGrant
from callsync.models.ledger import FieldChange, Outcome, RecordChange, StepReport
from callsync.models.settings import OrgSettings

pytestmark = pytest.mark.integration


def test_settings_round_trip(aws, config):
    # Given settings with nested mappings stored
    store = DynamoDbSettingsStore(aws.resource("dynamodb").Table(config.settings_table))
    settings = OrgSettings.model_validate(
        {
            "org_id": "acme",
            "internal_domains": ["ourco.com"],
            "field_sync": {
                "enabled": True,
                "mappings": [{"insight": "pain", "object": "Opportunity", "field": "Pain__c"}],
            },
            "email_context": {"enabled": True, "days": 30, "max": 5},
        }
    )
    store.put(settings)
    # When read back / Then it is equal
    assert store.get("acme") == settings


def test_missing_settings_name_the_org(aws, config):
    store = DynamoDbSettingsStore(aws.resource("dynamodb").Table(config.settings_table))
    with pytest.raises(SettingsNotFound, match="acme"):
        store.get("acme")


def test_invalid_settings_name_the_org_and_field(aws, config):
    # Given a hand-edited item with a bad policy
    store = DynamoDbSettingsStore(aws.resource("dynamodb").Table(config.settings_table))
    store.put_raw(
        "acme",
        {
            "field_sync": {
                "enabled": True,
                "mappings": [{"insight": "pain", "object": "Opportunity", "field": "Pain__c", "policy": "sometimes"}],
            }
        },
    )
    # When read / Then the error names org and field path
    with pytest.raises(InvalidSettings) as caught:
        store.get("acme")
    assert "acme" in str(caught.value) and "field_sync.mappings[0].policy" in str(caught.value)


def test_ledger_entries_per_call_with_floats_and_overwrite_on_retry(aws, config):
    # Given a ledger and a step report carrying a float value
    ledger = DynamoDbLedger(aws.resource("dynamodb").Table(config.ledger_table))
    change = RecordChange(
        action="updated",
        object="Opportunity",
        id="006A",
        fields=[FieldChange(field="Amount", before=1000.5, after=2500.25, policy="overwrite")],
    )
    ledger.record_step("acme#c1#1", StepReport(step="SyncFields", changes=[change], api_requests=1))
    # When the step is retried and records again, and the run ends
    ledger.record_step("acme#c1#1", StepReport(step="SyncFields", changes=[change], api_requests=2))
    ledger.record_outcome("acme#c1#1", Outcome(status="SUCCEEDED", execution_arn="arn:x"))
    ledger.record_step("acme#c2#1", StepReport(step="MatchOpportunity"))
    # Then the revision has one typed entry per step plus its outcome, floats and ints come back as such
    entries = ledger.entries("acme#c1#1")
    assert [(e.kind, e.step) for e in entries] == [("outcome", None), ("step", "SyncFields")]
    step = entries[1].report
    assert step is not None and step.api_requests == 2 and step.progress == "finished"
    assert step.changes[0].fields[0].before == 1000.5 and step.changes[0].fields[0].after == 2500.25
    assert entries[0].outcome == Outcome(status="SUCCEEDED", execution_arn="arn:x")
    # and the scan sees every call, in the flat shape `callsync run --out` lists
    assert [(e["call_key"], e["sk"]) for e in (x.as_json() for x in ledger.all_entries())] == [
        ("acme#c1#1", "outcome"),
        ("acme#c1#1", "step#SyncFields"),
        ("acme#c2#1", "step#MatchOpportunity"),
    ]


def test_one_query_gives_every_revision_and_attempt_of_a_call(aws, config):
    # Given revisions 1 and 2 of a call (revision 2 still pending) and another call
    ledger = DynamoDbLedger(aws.resource("dynamodb").Table(config.ledger_table))
    activity = RecordChange(action="created", object="Event", id="00U1", role="activity")
    ledger.record_step("acme#c1#1", StepReport(step="LogActivity", changes=[activity]))
    ledger.record_outcome("acme#c1#1", Outcome(status="SUCCEEDED"))
    ledger.record_step("acme#c1#2", StepReport(step="LogActivity", progress="pending", changes=[activity]))
    ledger.record_step("acme#c10#1", StepReport(step="LogActivity"))
    # When the call's history is read
    history = ledger.history("acme", "c1")
    # Then it holds both revisions of that call only, typed, with each step's progress and roles
    assert history.revisions() == [1, 2]
    assert {e.call_key for e in history.entries} == {"acme#c1#1", "acme#c1#2"}
    first, second = history.step(1, "LogActivity"), history.step(2, "LogActivity")
    assert first is not None and first.progress == "finished" and first.with_role("activity")[0].id == "00U1"
    assert second is not None and second.progress == "pending"


def test_claims_first_writer_wins_until_expiry(aws, config):
    now = [1_000_000.0]
    claims = DynamoDbClaims(aws.resource("dynamodb").Table(config.claims_table), clock=lambda: now[0])
    # Given A claimed a key
    assert claims.claim("acme#bob@globex.com", "exec-A", ttl_seconds=60) == "exec-A"
    # When B claims it / Then A still holds it
    assert claims.claim("acme#bob@globex.com", "exec-B", ttl_seconds=60) == "exec-A"
    # When A resolves it / Then the value is visible
    claims.resolve("acme#bob@globex.com", "003XYZ")
    held = claims.get("acme#bob@globex.com")
    assert held is not None and held["owner"] == "exec-A" and held["value"] == "003XYZ"
    assert held["expires_at"] == 1_000_060
    # When the claim expired (TTL not yet applied by DynamoDB) / Then B can take it
    now[0] += 61
    assert claims.get("acme#bob@globex.com") is None
    assert claims.claim("acme#bob@globex.com", "exec-B", ttl_seconds=60) == "exec-B"


def test_resolving_an_unknown_claim_is_a_concurrent_update(aws, config):
    claims = DynamoDbClaims(aws.resource("dynamodb").Table(config.claims_table))
    with pytest.raises(ConcurrentUpdate):
        claims.resolve("acme#nobody", "003")


def test_a_lease_is_released_only_by_its_holder(aws, config):
    claims = DynamoDbClaims(aws.resource("dynamodb").Table(config.claims_table))
    # Given A holds the lease
    assert claims.claim("log-activity#acme#c1", "acme#c1#1", ttl_seconds=300) == "acme#c1#1"
    # When B tries to release it / Then A still holds it
    claims.release("log-activity#acme#c1", "acme#c1#2")
    assert claims.get("log-activity#acme#c1")["owner"] == "acme#c1#1"
    # When A releases it / Then B can take it at once
    claims.release("log-activity#acme#c1", "acme#c1#1")
    assert claims.claim("log-activity#acme#c1", "acme#c1#2", ttl_seconds=300) == "acme#c1#2"


def test_a_record_lease_has_one_holder_until_given_back_and_tells_the_next_one_when_it_was_written(aws, config):
    # Given a lease on a record held by one call
    now = [1_000.0]
    leases = DynamoDbLeases(aws.resource("dynamodb").Table(config.claims_table), clock=lambda: now[0])
    first = leases.acquire("acme#fields#006A", "acme#c1#1", ttl_seconds=90)
    assert first == LeaseGrant(key="acme#fields#006A", last_written_at=None, taken_over=False)
    # When another call asks for it / Then it is refused while held
    assert leases.acquire("acme#fields#006A", "acme#c2#1", ttl_seconds=90) is None
    # When the holder gives it back after writing at t=1005, and a stranger's release changes nothing
    now[0] = 1_005.0
    leases.release("acme#fields#006A", "acme#c2#1", written=False)
    assert leases.acquire("acme#fields#006A", "acme#c3#1", ttl_seconds=90) is None
    leases.release("acme#fields#006A", "acme#c1#1", written=True)
    # Then the next call gets it, with the write time, and its earlier read is judged by it
    grant = leases.acquire("acme#fields#006A", "acme#c2#1", ttl_seconds=90)
    assert grant == LeaseGrant(key="acme#fields#006A", last_written_at=1_005.0, taken_over=False)
    assert not grant.read_is_current(1_004.0, skew_seconds=1.0)
    assert grant.read_is_current(1_006.5, skew_seconds=1.0)


def test_a_lease_whose_holder_died_is_taken_over_after_its_ttl(aws, config):
    # Given a holder that never gave its lease back
    now = [1_000.0]
    leases = DynamoDbLeases(aws.resource("dynamodb").Table(config.claims_table), clock=lambda: now[0])
    leases.acquire("acme#fields#006A", "acme#dead#1", ttl_seconds=90)
    # When another call asks before and after the TTL
    now[0] = 1_089.0
    assert leases.acquire("acme#fields#006A", "acme#c2#1", ttl_seconds=90) is None
    now[0] = 1_091.0
    grant = leases.acquire("acme#fields#006A", "acme#c2#1", ttl_seconds=90)
    # Then the lease is taken over, and the new holder knows it (nothing read before can be trusted)
    assert grant is not None and grant.taken_over
    assert not grant.read_is_current(1_090.0, skew_seconds=1.0)


def test_taking_a_claim_says_who_holds_it_and_what_it_replaced(aws, config):
    # Given a person's claim taken by one call
    now = [1_000.0]
    claims = DynamoDbClaims(aws.resource("dynamodb").Table(config.claims_table), clock=lambda: now[0])
    assert claims.take("person#acme#a@x.com", "acme#c1#1", ttl_seconds=90) == ClaimTaken(holder="acme#c1#1")
    # When another call takes it while unresolved, then after it was resolved
    assert claims.take("person#acme#a@x.com", "acme#c2#1", ttl_seconds=90) == ClaimTaken(holder="acme#c1#1")
    claims.resolve("person#acme#a@x.com", "Contact:003A", ttl_seconds=3600)
    now[0] += 600  # past the first hold, inside the resolved claim's life
    # Then the other call learns the record (and when it was resolved) instead of getting the claim
    assert claims.take("person#acme#a@x.com", "acme#c2#1", ttl_seconds=90) == ClaimTaken(
        holder="acme#c1#1", value="Contact:003A", resolved_at=1_000
    )
    # And the first call's retried attempt gets its own claim back with what it had resolved
    again = claims.take("person#acme#a@x.com", "acme#c1#1", ttl_seconds=90)
    assert again == ClaimTaken(holder="acme#c1#1", previous_owner="acme#c1#1", previous_value="Contact:003A")


def test_a_resolved_claim_says_when_it_was_resolved_and_is_forgotten_only_while_it_names_the_record(aws, config):
    now = [1_000_000.0]
    claims = DynamoDbClaims(aws.resource("dynamodb").Table(config.claims_table), clock=lambda: now[0])
    key = "person#acme#sam@globex.com"
    # Given call A created the person and resolved its claim at t=1_000_010
    claims.take(key, "acme#a#1", ttl_seconds=90)
    now[0] += 10
    claims.resolve(key, "Contact:003A", ttl_seconds=3600)
    # When call B takes it / Then it learns the value and when it was resolved
    taken = claims.take(key, "acme#b#1", ttl_seconds=90)
    assert (taken.holder, taken.value, taken.resolved_at) == ("acme#a#1", "Contact:003A", 1_000_010)
    # When a claim naming another record is forgotten / Then it stays
    claims.forget(key, "Contact:003OTHER")
    assert claims.get(key)["value"] == "Contact:003A"
    # When the record it names is forgotten / Then the claim is gone and B takes it at once
    claims.forget(key, "Contact:003A")
    assert claims.get(key) is None
    assert claims.take(key, "acme#b#1", ttl_seconds=90).holder == "acme#b#1"
