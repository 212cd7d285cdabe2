"""The Python API other engineers use: start, create, query, dump."""

from __future__ import annotations

from callsync_dev.emulator import Emulator
from callsync_dev.emulator.testing import salesforce_client


def test_start_create_query_dump(emulator: Emulator) -> None:
    # Given a client on the running emulator
    sf = salesforce_client(emulator.connection)
    # When a contact is created and queried back
    created = sf.Contact.create({"FirstName": "Ann", "LastName": "Smith", "Email": "ann@example.com"})
    result = sf.query("SELECT Id, Name, Owner.Id FROM Contact WHERE Email = 'ANN@example.com'")
    # Then the query finds it with derived Name and the integration user as owner
    assert result["totalSize"] == 1
    record = result["records"][0]
    assert record["Id"] == created["id"] and len(created["id"]) == 18
    assert record["Name"] == "Ann Smith"
    assert record["Owner"]["Id"] == emulator.integration_user_id
    # And the dump has the record with every field, fixture-shaped
    dumped = {r["Id"]: r for r in emulator.dump()["records"]["Contact"]}
    assert dumped[created["id"]]["Email"] == "ann@example.com"
    assert dumped[created["id"]]["CreatedDate"].endswith("Z")
    assert "Department" in dumped[created["id"]]
    # And the requests were counted (create + query)
    assert emulator.api_requests == 2


def test_empty_org_has_an_integration_user() -> None:
    # Given an empty org
    with Emulator.from_fixture(None) as emu:
        # When the users are listed
        users = emu.records("User")
    # Then the integration user exists
    assert [u["Id"] for u in users] == [emu.integration_user_id]
