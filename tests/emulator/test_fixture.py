"""Fixture loading and dumping (INTERFACES.md §3)."""

from __future__ import annotations

import json
import pathlib

import pytest
from callsync_dev.emulator import Emulator, FixtureError
from callsync_dev.emulator.ids import is_id

from tests.emulator.orgs import SMALL_ORG


def test_symbolic_ids_become_real_ids_and_links_follow() -> None:
    # Given the small org whose fixture uses symbolic ids ("globex", "hank")
    emu = Emulator.from_fixture(SMALL_ORG)
    # When its contacts are listed
    contact = emu.records("Contact")[0]
    account = emu.records("Account")[0]
    # Then ids are 18-char with the object's prefix and the lookups were rewritten
    assert is_id(contact["Id"]) and contact["Id"].startswith("003") and len(contact["Id"]) == 18
    assert contact["AccountId"] == account["Id"] and account["Id"].startswith("001")
    assert contact["Name"] == "Hank Scorpio"
    opp = emu.records("Opportunity")[0]
    assert opp["OwnerId"] == emu.records("User")[0]["Id"] and opp["IsClosed"] is False


def test_dump_round_trips(tmp_path: pathlib.Path) -> None:
    # Given an org with a note, an event and a custom record written through the store
    emu = Emulator.from_fixture(SMALL_ORG)
    opp_id = emu.records("Opportunity")[0]["Id"]
    store = emu.store
    store.create("ContentNote", {"Title": "n", "Content": "PHA+aGk8L3A+"})  # <p>hi</p>
    store.create("Event", {"Subject": "Demo", "StartDateTime": "2026-11-20T15:00:00Z", "DurationInMinutes": 30})
    store.create("Deal_Review__c", {"Opportunity__c": opp_id, "Metrics__c": "m"})
    # When the org is dumped to a file and loaded again
    dumped = emu.dump()
    path = tmp_path / "org.json"
    path.write_text(json.dumps(dumped))
    again = Emulator.from_fixture(path)
    # Then the second dump equals the first, content decoded, datetimes RFC 3339
    assert again.dump() == dumped
    assert dumped["records"]["ContentNote"][0]["Content"] == "<p>hi</p>"
    assert dumped["records"]["Event"][0]["EndDateTime"] == "2026-11-20T15:30:00Z"
    assert dumped["records"]["Deal_Review__c"][0]["Name"].endswith("-00001")
    assert dumped["integration_user_id"] == emu.integration_user_id
    assert dumped["hidden_fields"] == ["Opportunity.Secret__c"]


def test_demo_sized_org_loads_fast() -> None:
    import time

    # Given a demo-sized fixture
    org = {
        "records": {
            "Account": [{"Id": f"a{i}", "Name": f"A{i}"} for i in range(200)],
            "Contact": [
                {"LastName": f"C{i}", "AccountId": f"a{i % 200}", "Email": f"c{i}@x.example"} for i in range(1000)
            ],
        }
    }
    # When it is loaded and started
    started = time.perf_counter()
    with Emulator.from_fixture(org):
        elapsed = time.perf_counter() - started
    # Then start-up takes well under a second
    assert elapsed < 1.0


def test_bad_fixtures_are_explained() -> None:
    # When a fixture has an unknown field, object or key
    for fixture, words in (
        ({"records": {"Contact": [{"LastName": "x", "Nope": 1}]}}, "Nope"),
        ({"records": {"Thing": []}}, "Thing"),
        ({"api_limits": 5}, "api_limits"),
        ({"schema": {"Account": {"fields": {"X__c": {"length": 3}}}}}, "type"),
    ):
        with pytest.raises(FixtureError) as info:
            Emulator.from_fixture(fixture)
        # Then the error names it
        assert words in str(info.value)


def test_picklist_and_stage_overrides() -> None:
    # Given a fixture that overrides the stages and Task.Type
    org = {"schema": {"Opportunity": {"fields": {"StageName": {"values": ["Discovery", "Closed Won", "Closed Lost"]}}}}}
    emu = Emulator.from_fixture(org)
    # When opportunities are written with those stages
    won = emu.store.create("Opportunity", {"Name": "w", "StageName": "Closed Won", "CloseDate": "2026-01-01"})
    open_ = emu.store.create("Opportunity", {"Name": "o", "StageName": "Discovery", "CloseDate": "2026-01-01"})
    rows = {r["Id"]: r for r in emu.records("Opportunity")}
    # Then the closed flags still follow the stage
    assert rows[won]["IsWon"] is True and rows[open_]["IsClosed"] is False


def test_a_reloaded_org_never_issues_the_id_of_a_deleted_record_again(tmp_path: pathlib.Path) -> None:
    """Salesforce never reuses a record id, also after a delete (Salesforce Object Reference, "Field Types":
    ID fields are unique within an org). A dump records the ids issued (``issued_ids``); a reload continues
    after them, so `--state` runs keep that rule."""
    # Given a Contact created and then deleted in an org that is dumped and loaded again
    emu = Emulator.from_fixture(SMALL_ORG)
    created = emu.store.create("Contact", {"LastName": "Gone"})
    emu.store.delete("Contact", created)
    path = tmp_path / "org.json"
    path.write_text(json.dumps(emu.dump()))
    again = Emulator.from_fixture(path)
    # When a Contact is created in the reloaded org
    fresh = again.store.create("Contact", {"LastName": "New"})
    # Then it gets a new id, not the deleted record's
    assert fresh != created
    assert again.dump()["issued_ids"]["003"] == emu.dump()["issued_ids"]["003"] + 1


def test_issued_ids_must_be_counts_per_key_prefix() -> None:
    # Given a fixture whose issued_ids is not {prefix: count}, When it is loaded, Then the error names the key
    with pytest.raises(FixtureError, match="issued_ids"):
        Emulator.from_fixture({**SMALL_ORG, "issued_ids": {"003": "many"}})
