"""SyncFields service with fakes: targets, permissions, reads, writes, ledger, idempotency, budget."""

from __future__ import annotations

import time
from copy import deepcopy
from datetime import UTC, datetime
from unittest import mock

import pytest
from callsync.domain.field_revisions import call_mark
from callsync.errors import ConcurrentUpdate, SalesforceRejected, SalesforceRowLocked
from callsync.models.fields import LastModified
from callsync.models.match import ContactsResult, Person
from callsync.services.sync_fields import SyncFields
from fields_support import (
    ACC,
    CON,
    INSTANCE,
    OPP,
    FakeFieldStore,
    describes,
    field,
    match,
    obj,
    org_records,
    read_ahead,
    rejected,
    settings,
    state,
)

from tests.support.fakes import FakeDescribeSource, FakeLeases, FakeLedger

ENTRY = f"[2026-11-20 #{call_mark('c1')}]"  # the header of call c1's text entries


def service(store: FakeFieldStore, ledger: FakeLedger | None = None, **describe_overrides):
    ledger = ledger or FakeLedger()
    visible = {name: d for name, d in describes(**describe_overrides).items() if d is not None}
    return SyncFields(store, FakeDescribeSource(visible), ledger), ledger


def change(result, object_name):
    return next(c for c in result.report.changes if c.object == object_name)


def field_change(record_change, name):
    return next(f for f in record_change.fields if f.field == name)


def test_typical_call_writes_every_target_in_one_request():
    # Given the matched records, their current values read ahead by the match step, and six mappings
    store = FakeFieldStore(org_records())
    sync, ledger = service(store)
    # When SyncFields runs
    result = sync.run(state(match_result=match(read_ahead(store))))
    # Then the only read was the via-object lookup and all writes went in one request
    assert [[r.object for r in batch] for batch in store.reads] == [["Deal_Review__c"]]
    assert len(store.writes) == 1 and result.report.api_requests == 2
    opp = store.record("Opportunity", OPP)
    assert opp["Pain__c"] == f"Rep: slow month-end\n\n{ENTRY} Reporting takes two days"
    assert opp["Amount"] == 10000.0  # number kept
    assert opp["Competitors__c"] == "Clari;Gong"  # union; 'Nope' dropped
    assert opp["Forecast__c"] == "Hot"  # empty picklist filled, matched case-insensitively
    assert store.record("Contact", CON)["Champion_Notes__c"] == f"{ENTRY} Ann pushes for it"
    assert store.record("Account", ACC)["Airspeed_Link__c"] == "https://app.example.com/companies/globex"
    review = store.records["Deal_Review__c"][0]
    assert review["Opportunity__c"] == OPP and review["Metrics__c"] == f"{ENTRY} Cut reporting to 1 hour"
    assert (result.records_updated, result.records_created, result.records_failed) == (3, 1, 0)
    # And the ledger explains every field, before -> after with the policy, and each drop
    opp_change = change(result, "Opportunity")
    assert opp_change.url == f"{INSTANCE}/lightning/r/Opportunity/{OPP}/view"
    amount = field_change(opp_change, "Amount")
    assert (amount.before, amount.after, amount.policy) == (10000.0, 10000.0, "keep")
    competitors = field_change(opp_change, "Competitors__c")
    assert competitors.policy == "union" and "dropped 'Nope'" in competitors.note
    assert ledger.entries("acme#c1#1")[0].as_json()["changes"] == result.report.model_dump(mode="json")["changes"]


def test_warm_call_without_via_objects_makes_one_request():
    # Given mappings on the matched records only, with every current value read ahead
    store = FakeFieldStore(org_records())
    sync, _ = service(store)
    body = settings([m for m in settings()["field_sync"]["mappings"] if "via" not in m])
    # When SyncFields runs, Then it reads nothing and writes once
    result = sync.run(state(match_result=match(read_ahead(store)), settings_body=body))
    assert store.reads == [] and len(store.writes) == 1 and result.report.api_requests == 1


def test_running_the_same_call_twice_changes_nothing_the_second_time():
    # Given a call synced once
    store = FakeFieldStore(org_records())
    ledger = FakeLedger()
    sync, _ = service(store, ledger)
    first_state = state(match_result=match(read_ahead(store)))
    sync.run(first_state)
    after_first = {o: [dict(r) for r in rows] for o, rows in store.records.items()}
    # When the same step runs again on the same input (a Step Functions retry: stale read-ahead values)
    second = sync.run(first_state)
    # Then it re-read the current values, wrote nothing, and every value is as after the first run
    assert len(store.writes) == 1
    assert store.records == after_first
    assert second.records_updated == 0 and second.records_created == 0
    assert change(second, "Opportunity").action == "unchanged"
    # And a replay with fresh read-ahead values (the match step ran again) changes nothing either
    third = sync.run(state(match_result=match(read_ahead(store))))
    assert store.records == after_first and third.records_updated == 0


def test_hidden_and_read_only_fields_are_skipped_with_the_fix_and_the_rest_syncs():
    # Given a mapping to a field the integration user cannot see and one it cannot edit
    store = FakeFieldStore(org_records())
    sync, _ = service(store)
    mappings = [
        {"insight": "pain", "object": "Opportunity", "field": "Secret__c"},
        {"insight": "pain", "object": "Opportunity", "field": "Locked__c"},
        {"insight": "forecast", "object": "Opportunity", "field": "Forecast__c"},
    ]
    # When SyncFields runs
    result = sync.run(state(match_result=match(read_ahead(store)), settings_body=settings(mappings)))
    # Then both are skipped, named Object.Field with the field-level security fix, and the other field syncs
    opp = change(result, "Opportunity")
    hidden, locked = field_change(opp, "Secret__c"), field_change(opp, "Locked__c")
    assert hidden.policy == "skip" and "Opportunity.Secret__c is not visible" in hidden.note
    assert "Set Field-Level Security" in hidden.note and "permission set" in hidden.note
    assert locked.policy == "skip" and "Opportunity.Locked__c is read-only" in locked.note
    assert any("Opportunity.Secret__c" in w and "Object Manager → Opportunity" in w for w in result.report.warnings)
    assert store.record("Opportunity", OPP)["Forecast__c"] == "Hot"
    assert result.fields_skipped == 2 and opp.action == "updated"


def test_an_object_the_user_cannot_edit_is_skipped_alone_with_the_fix():
    # Given the integration user cannot edit Opportunities
    store = FakeFieldStore(org_records())
    opp_describe = describes()["Opportunity"].model_copy(update={"updateable": False})
    sync, _ = service(store, Opportunity=opp_describe)
    # When SyncFields runs
    result = sync.run(state(match_result=match(read_ahead(store))))
    # Then the Opportunity target is skipped before any write, naming the permission, and the others sync
    opp = change(result, "Opportunity")
    assert opp.action == "skipped" and "cannot edit Opportunity" in opp.note
    assert store.record("Opportunity", OPP)["Forecast__c"] is None
    assert store.record("Contact", CON)["Champion_Notes__c"].endswith("Ann pushes for it")
    assert result.records_failed == 0 and result.records_updated == 2
    # And the ledger counts the skipped feature (what FeaturesSkippedAlarm watches)
    (skipped,) = result.report.skipped_features
    assert (skipped.feature, skipped.subject, skipped.need) == ("field sync", "Opportunity", "edit")


def test_an_object_the_user_cannot_see_fails_its_target():
    # Given the integration user cannot see the via-object
    store = FakeFieldStore(org_records())
    sync, _ = service(store, Deal_Review__c=None)
    # When SyncFields runs, Then that target fails naming the object, and nothing is read for it
    result = sync.run(state(match_result=match(read_ahead(store))))
    review = change(result, "Deal_Review__c")
    assert review.action == "failed" and "Deal_Review__c is not readable by the integration user" in review.note
    assert store.reads == [] and store.records["Deal_Review__c"] == []


def test_mappings_without_a_target_are_skipped_and_reported():
    # Given a call matched to no Opportunity and no primary Contact
    store = FakeFieldStore(org_records())
    sync, _ = service(store)
    # When SyncFields runs
    result = sync.run(state(match_result=match(read_ahead(store), opportunity=False, primary=False)))
    # Then Opportunity, via-Opportunity and Contact mappings are skipped with the reason; the Account link syncs
    skipped = {c.object: c for c in result.report.changes if c.action == "skipped"}
    assert set(skipped) == {"Opportunity", "Contact", "Deal_Review__c"}
    assert skipped["Opportunity"].note == "no Opportunity matched this call"
    assert skipped["Deal_Review__c"].note == "no Opportunity matched this call"
    assert [f.field for f in skipped["Opportunity"].fields] == ["Pain__c", "Amount", "Competitors__c", "Forecast__c"]
    assert store.record("Account", ACC)["Airspeed_Link__c"].startswith("https://")
    assert result.records_failed == 0


def test_via_object_updates_the_newest_linked_record():
    # Given two Deal Reviews on the Opportunity, the second modified last
    store = FakeFieldStore(
        org_records(
            Deal_Review__c=[
                {"Id": "a00A", "Opportunity__c": OPP, "Metrics__c": "old review", "LastModifiedDate": -2},
                {"Id": "a00B", "Opportunity__c": OPP, "Metrics__c": "Rep metrics", "LastModifiedDate": -1},
            ]
        )
    )
    sync, _ = service(store)
    # When SyncFields runs
    result = sync.run(state(match_result=match(read_ahead(store))))
    # Then the newest one gets the entry appended; the older is untouched; nothing is created
    assert store.record("Deal_Review__c", "a00B")["Metrics__c"] == (f"Rep metrics\n\n{ENTRY} Cut reporting to 1 hour")
    assert store.record("Deal_Review__c", "a00A")["Metrics__c"] == "old review"
    assert change(result, "Deal_Review__c").action == "updated" and result.records_created == 0


def test_via_object_creation_fails_clearly_when_a_required_field_has_no_value():
    # Given a via-object with a required field no mapping fills
    store = FakeFieldStore(org_records())
    review = obj(
        "Deal_Review__c",
        field("Opportunity__c", "reference", referenceTo=["Opportunity"]),
        field("Metrics__c", "textarea"),
        field("Stage__c", "string", nillable=False),
    )
    sync, _ = service(store, Deal_Review__c=review)
    # When SyncFields runs
    result = sync.run(state(match_result=match(read_ahead(store))))
    # Then that target fails with a permanent, explained error and the other targets sync
    failed = change(result, "Deal_Review__c")
    assert failed.action == "failed" and "required field(s) Stage__c" in failed.note
    assert store.records["Deal_Review__c"] == [] and result.records_updated == 3


def test_via_object_with_a_required_text_name_is_named_after_the_call():
    # Given a via-object whose Name is a required text field
    store = FakeFieldStore(org_records())
    review = obj(
        "Deal_Review__c",
        field("Name", "string", length=80, nillable=False),
        field("Opportunity__c", "reference", referenceTo=["Opportunity"]),
        field("Metrics__c", "textarea"),
    )
    sync, _ = service(store, Deal_Review__c=review)
    # When SyncFields runs, Then the record is created with the call title as Name
    result = sync.run(state(match_result=match(read_ahead(store))))
    assert store.records["Deal_Review__c"][0]["Name"] == "Globex discovery"
    assert change(result, "Deal_Review__c").action == "created"


def test_missing_current_values_are_read_in_one_request():
    # Given a match step that read nothing ahead
    store = FakeFieldStore(org_records())
    sync, _ = service(store)
    # When SyncFields runs
    result = sync.run(state(match_result=match({})))
    # Then one read covers every target and one write follows
    assert len(store.reads) == 1 and {r.object for r in store.reads[0]} == {
        "Opportunity",
        "Account",
        "Contact",
        "Deal_Review__c",
    }
    assert result.report.api_requests == 2
    assert store.record("Opportunity", OPP)["Pain__c"].startswith("Rep: slow month-end\n\n")


def test_contact_target_falls_back_to_the_contact_created_for_this_call():
    # Given no primary Contact, and a Contact (and a Lead) created by CreateContacts
    new_id = "003000000000009AAA"
    store = FakeFieldStore(org_records(Contact=[{"Id": new_id, "Champion_Notes__c": None}]))
    sync, _ = service(store)
    created = ContactsResult(
        created=[
            Person(email="lee@globex.com", object="Lead", id="00Q000000000001AAA", created=True),
            Person(email="bo@globex.com", object="Contact", id=new_id, created=True),
        ]
    )
    body = settings(
        [{"insight": "champion", "object": "Contact", "field": "Champion_Notes__c"}], account_link_field=None
    )
    # When SyncFields runs
    sync.run(state(match_result=match({}, primary=False), contacts=created, settings_body=body))
    # Then the created Contact is written without reading it first (it was created empty by this call)
    assert store.reads == []
    assert store.record("Contact", new_id)["Champion_Notes__c"] == f"{ENTRY} Ann pushes for it"


def test_account_link_is_written_only_when_empty():
    # Given an Account whose link field already holds a link
    store = FakeFieldStore(org_records(Account=[{"Id": ACC, "Airspeed_Link__c": "https://x.io/old"}]))
    sync, _ = service(store)
    # When SyncFields runs, Then the link is kept
    result = sync.run(state(match_result=match(read_ahead(store)), settings_body=settings([])))
    link = field_change(change(result, "Account"), "Airspeed_Link__c")
    assert (link.policy, link.after) == ("keep", "https://x.io/old") and "account link" in link.note
    assert store.writes == []


def test_a_rejected_write_fails_only_its_target():
    # Given Salesforce rejects the Opportunity update (a validation rule)
    store = FakeFieldStore(org_records())
    store.fail_next_write["Opportunity"] = rejected()
    sync, ledger = service(store)
    # When SyncFields runs
    result = sync.run(state(match_result=match(read_ahead(store))))
    # Then the Opportunity is reported failed with Salesforce's message; the others are written
    opp = change(result, "Opportunity")
    assert opp.action == "failed" and "Stage needs a Next Step" in opp.note
    assert result.records_failed == 1 and result.records_updated == 2 and result.records_created == 1
    assert ledger.entries("acme#c1#1")[0].as_json()["changes"][0]["action"] in {"failed", "updated", "created"}


def test_a_retryable_write_raises_after_the_ledger_and_the_retry_is_idempotent():
    # Given the Opportunity row is locked on the first attempt
    store = FakeFieldStore(org_records())
    store.fail_next_write["Opportunity"] = SalesforceRowLocked("record locked", code="UNABLE_TO_LOCK_ROW")
    sync, ledger = service(store)
    the_state = state(match_result=match(read_ahead(store)))
    # When SyncFields runs, Then it raises the retryable error after recording what it wrote
    with pytest.raises(SalesforceRowLocked):
        sync.run(the_state)
    entry = ledger.entries("acme#c1#1")[0].as_json()
    assert {c["object"]: c["action"] for c in entry["changes"]}["Opportunity"] == "failed"
    # When the state machine retries the step with the same input
    result = sync.run(the_state)
    # Then the Opportunity is written, and the other records are not touched again nor duplicated
    assert change(result, "Opportunity").action == "updated"
    assert [w.object for w in store.writes[1]] == ["Opportunity"]
    assert store.record("Contact", CON)["Champion_Notes__c"] == f"{ENTRY} Ann pushes for it"
    assert len(store.records["Deal_Review__c"]) == 1


def test_a_failed_read_fails_its_target_and_a_retryable_one_raises():
    # Given the via-object query is rejected
    store = FakeFieldStore(org_records())
    store.fail_read["Deal_Review__c via Opportunity__c"] = SalesforceRejected("INVALID_FIELD: no column")
    sync, _ = service(store)
    result = sync.run(state(match_result=match(read_ahead(store))))
    # Then only that target fails
    assert change(result, "Deal_Review__c").action == "failed" and result.records_updated == 3
    # Given a lock on the read, Then the step raises for a retry
    store.fail_read["Deal_Review__c via Opportunity__c"] = SalesforceRowLocked("locked")
    with pytest.raises(SalesforceRowLocked):
        service(store)[0].run(state(match_result=match(read_ahead(store))))


def test_field_sync_disabled_writes_only_the_account_link():
    # Given field sync is off but an account link field is set
    store = FakeFieldStore(org_records())
    sync, _ = service(store)
    body = settings()
    body["field_sync"]["enabled"] = False
    # When SyncFields runs, Then only the link is written and the ledger says why the mappings were not
    result = sync.run(state(match_result=match(read_ahead(store)), settings_body=body))
    assert [c.object for c in result.report.changes] == ["Account"]
    assert any("field sync is disabled" in w for w in result.report.warnings)
    assert store.record("Opportunity", OPP)["Pain__c"] == "Rep: slow month-end"


def test_invalid_and_over_long_values_are_dropped_or_truncated_and_recorded():
    # Given an invalid picklist value and a text longer than its field
    store = FakeFieldStore(org_records())
    sync, _ = service(store)
    mappings = [
        {"insight": "forecast", "object": "Opportunity", "field": "Forecast__c"},
        {"insight": "pain", "object": "Opportunity", "field": "NextStep"},
    ]
    # When SyncFields runs
    result = sync.run(
        state(
            match_result=match(read_ahead(store)),
            settings_body=settings(mappings),
            insights={"forecast": "Lukewarm", "pain": "p" * 400},
        )
    )
    # Then the picklist is left alone and the text is cut to 255, both explained
    opp = change(result, "Opportunity")
    assert "dropped 'Lukewarm'" in field_change(opp, "Forecast__c").note
    assert store.record("Opportunity", OPP)["Forecast__c"] is None
    next_step = store.record("Opportunity", OPP)["NextStep"]
    assert len(next_step) == 255 and next_step.endswith("…")
    assert "truncated" in field_change(opp, "NextStep").note


def leased_sync(store: FakeFieldStore, leases: FakeLeases) -> SyncFields:
    return SyncFields(store, FakeDescribeSource(describes()), FakeLedger(), leases, lease_wait_seconds=0.0)


def test_a_record_another_call_is_writing_makes_the_step_retry_without_writing():
    # Given another call holds the Opportunity's lease (it is between its read and its write)
    store = FakeFieldStore(org_records())
    leases = FakeLeases()
    leases.acquire(f"acme#fields#{OPP}", "acme#other#1", ttl_seconds=90)
    # When SyncFields runs and the lease stays held for the whole wait
    # Then it raises ConcurrentUpdate (retryable), read and wrote nothing, and gave back what it held
    with pytest.raises(ConcurrentUpdate):
        leased_sync(store, leases).run(state(match_result=match(read_ahead(store))))
    assert store.writes == [] and store.reads == []
    assert "owner" not in leases.items[f"acme#fields#{CON}"]


def test_a_lease_given_back_during_the_wait_lets_the_step_go_on():
    # Given another call holds the Opportunity's lease and gives it back after our first attempt
    store = FakeFieldStore(org_records())
    leases = FakeLeases()
    key = f"acme#fields#{OPP}"
    leases.acquire(key, "acme#other#1", ttl_seconds=90)
    sync = SyncFields(store, FakeDescribeSource(describes()), FakeLedger(), leases, lease_wait_seconds=5.0)
    pauses: list[float] = []

    def other_call_finishes(_seconds: float) -> None:
        pauses.append(_seconds)
        leases.release(key, "acme#other#1", written=True)

    # When SyncFields runs (its pause between attempts is when the other call finishes)
    with mock.patch("callsync.services.record_leases.time.sleep", other_call_finishes):
        sync.run(state(match_result=match(read_ahead(store))))
    # Then it waited once, read the Opportunity afresh (a write was sent under the lease) and wrote
    assert len(pauses) == 1
    assert any(r.object == "Opportunity" for r in store.reads[0])
    assert store.record("Opportunity", OPP)["Forecast__c"] == "Hot"


def test_a_record_another_call_wrote_after_the_read_ahead_is_read_afresh():
    # Given our read-ahead values, then another call appended its entry under the lease and gave it back
    store = FakeFieldStore(org_records())
    stale = match(read_ahead(store))
    stale.read_at = datetime.fromtimestamp(time.time() - 30, UTC)
    store.record("Opportunity", OPP)["Pain__c"] = "Rep: slow month-end\n\n[2026-11-19] Other call's entry"
    leases = FakeLeases()
    leases.acquire(f"acme#fields#{OPP}", "acme#other#1", ttl_seconds=90)
    leases.release(f"acme#fields#{OPP}", "acme#other#1", written=True)
    # When SyncFields runs with the stale read-ahead
    leased_sync(store, leases).run(state(match_result=stale))
    # Then it re-read the Opportunity and appended after the other call's entry instead of overwriting it
    assert any(r.object == "Opportunity" for r in store.reads[0])
    assert store.record("Opportunity", OPP)["Pain__c"] == (
        f"Rep: slow month-end\n\n[2026-11-19] Other call's entry\n\n{ENTRY} Reporting takes two days"
    )
    # And it gave its leases back stamped, for the calls after it
    for key in (f"acme#fields#{OPP}", f"acme#fields#{CON}"):
        assert "owner" not in leases.items[key] and leases.items[key]["written_at"] > stale.read_at.timestamp()


def test_a_read_ahead_taken_after_the_last_leased_write_is_trusted():
    # Given another call wrote the Opportunity under its lease at t=1000, and our match step read it at t=1005
    now = [1_000.0]
    store = FakeFieldStore(org_records())
    leases = FakeLeases(clock=lambda: now[0])
    leases.acquire(f"acme#fields#{OPP}", "acme#other#1", ttl_seconds=90)
    leases.release(f"acme#fields#{OPP}", "acme#other#1", written=True)
    now[0] = 1_010.0
    read = match(read_ahead(store))
    read.read_at = datetime.fromtimestamp(1_005.0, UTC)
    # When SyncFields runs
    leased_sync(store, leases).run(state(match_result=read))
    # Then it did not read the Opportunity afresh (the read-ahead already shows that write) and wrote
    assert not any(r.object == "Opportunity" for reads in store.reads for r in reads)
    assert store.record("Opportunity", OPP)["Forecast__c"] == "Hot"
    assert leases.items[f"acme#fields#{OPP}"]["written_at"] == 1_010.0


@pytest.mark.parametrize(
    "read_at",
    [
        999.0,  # our read came before the other call's write
        1_000.2,  # within the clock-skew margin
        None,  # a match result without a read time
    ],
)
def test_a_read_ahead_not_known_to_be_newer_than_the_write_is_read_afresh(read_at):
    # Given another call wrote the Opportunity under its lease at t=1000, and a read-ahead not known to be newer
    now = [1_000.0]
    store = FakeFieldStore(org_records())
    leases = FakeLeases(clock=lambda: now[0])
    leases.acquire(f"acme#fields#{OPP}", "acme#other#1", ttl_seconds=90)
    leases.release(f"acme#fields#{OPP}", "acme#other#1", written=True)
    now[0] = 1_010.0
    read = match(read_ahead(store))
    read.read_at = datetime.fromtimestamp(read_at, UTC) if read_at is not None else None
    # When SyncFields runs / Then it reads the Opportunity afresh before writing
    leased_sync(store, leases).run(state(match_result=read))
    assert any(r.object == "Opportunity" for r in store.reads[0])


def test_a_lease_left_by_a_crashed_call_is_taken_over_once_it_expires_and_the_record_read_afresh():
    # Given another call leased the Opportunity and died without giving it back (no stamp, no release)
    now = [1_000_000.0]
    store = FakeFieldStore(org_records())
    leases = FakeLeases(clock=lambda: now[0])
    leases.acquire(f"acme#fields#{OPP}", "acme#crashed#1", ttl_seconds=90)
    read = match(read_ahead(store))
    read.read_at = datetime.fromtimestamp(now[0] + 1, UTC)
    now[0] += 91
    # When SyncFields runs after the lease ran out
    leased_sync(store, leases).run(state(match_result=read))
    # Then it took the lease over, distrusted the read-ahead (the dead holder may have written) and wrote
    assert any(r.object == "Opportunity" for r in store.reads[0])
    assert store.record("Opportunity", OPP)["Forecast__c"] == "Hot"


def test_a_failed_write_gives_every_lease_back_stamped():
    # Given Salesforce refuses both record writes with a row lock (retryable)
    store = FakeFieldStore(org_records())
    store.fail_next_write = {"Opportunity": SalesforceRowLocked("locked"), "Contact": SalesforceRowLocked("locked")}
    leases = FakeLeases()
    # When SyncFields runs, Then the error is raised for a retry
    with pytest.raises(SalesforceRowLocked):
        leased_sync(store, leases).run(state(match_result=match(read_ahead(store))))
    # And no lease stays held (another call can go on), each stamped: the write may have landed
    for key in (f"acme#fields#{OPP}", f"acme#fields#{CON}"):
        assert "owner" not in leases.items[key] and "written_at" in leases.items[key]


def test_an_older_revision_writes_nothing_after_a_newer_one_synced():
    # Given revision 2 of the call synced its fields
    store = FakeFieldStore(org_records())
    sync, _ = service(store)
    sync.run(state(match_result=match(read_ahead(store)), revision=2))
    after_revision_2 = deepcopy(store.records)
    # When revision 1 arrives late
    result = sync.run(state(match_result=match(read_ahead(store)), revision=1))
    # Then it sends no write, and each record says why
    assert store.records == after_revision_2 and len(store.writes) == 1
    assert {c.action for c in result.report.changes if c.role == "fields"} == {"skipped"}
    assert "revision 2 of this call already synced its fields" in change(result, "Opportunity").note


def test_the_ledger_entry_is_recorded_before_the_leases_are_given_back():
    # Given leases and a ledger that note when the step records itself
    store = FakeFieldStore(org_records())
    leases = FakeLeases()
    ledger = FakeLedger()
    held_when_recorded: list[int] = []
    record_step = ledger.record_step

    def recording(call_key, report):
        held_when_recorded.append(sum(1 for item in leases.items.values() if item.get("owner")))
        record_step(call_key, report)

    ledger.record_step = recording  # type: ignore[method-assign]
    visible = {name: d for name, d in describes().items() if d is not None}
    # When SyncFields runs
    SyncFields(store, FakeDescribeSource(visible), ledger, leases).run(state(match_result=match(read_ahead(store))))
    # Then its report was recorded while it still held its records' leases (the next revision sees it)
    assert held_when_recorded and held_when_recorded[0] > 0


@pytest.mark.parametrize(("started_at", "kept"), [("2026-11-20T15:00:00Z", True), ("2026-11-22T15:00:00Z", False)])
def test_a_call_older_than_a_persons_edit_keeps_the_value_it_would_overwrite(started_at: str, kept: bool):
    # Given Alice changed the Opportunity on 2026-11-21 (its Amount is hers); the match step's read-ahead says so
    store = FakeFieldStore(org_records())
    alice = LastModified(by_id="005ALICE", by_name="Alice Rep", at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    ahead = read_ahead(store)
    mappings = [
        {"insight": "budget", "object": "Opportunity", "field": "Amount", "policy": "overwrite"},
        {"insight": "pain", "object": "Opportunity", "field": "Pain__c", "policy": "append"},
    ]
    sync, _ = service(store)
    # When a call that started before her edit (late) / after it (newer) syncs
    result = sync.run(
        state(
            match_result=match(ahead, last_modified={**{i: LastModified() for i in ahead}, OPP: alice}),
            settings_body=settings(mappings),
            started_at=started_at,
        )
    )
    # Then the older call keeps her Amount, said with who and when, and still appends its dated entry;
    # the newer call overwrites it; neither reads anything (the modifier came with the read-ahead)
    opp = store.record("Opportunity", OPP)
    amount = field_change(change(result, "Opportunity"), "Amount")
    if kept:
        assert opp["Amount"] == 10000.0
        assert (amount.policy, amount.note) == ("keep", "kept: changed by Alice Rep on 2026-11-21")
    else:
        assert opp["Amount"] == 50000.0 and amount.policy == "overwrite"
    assert "Reporting takes two days" in opp["Pain__c"] and opp["Pain__c"].startswith("Rep: slow month-end")
    assert store.reads == [] and result.report.api_requests == 1
