"""salesforce_api.all_records against an emulator that pages every result by one record."""

from __future__ import annotations

import pytest
from callsync.adapters.salesforce_api import all_records, query_subrequest

pytestmark = pytest.mark.integration

ORG = "acme"
PAGED_ORG = {
    "query_batch_size": 1,
    "child_batch_size": 1,
    "records": {
        "Account": [{"Id": f"a{i}", "Name": f"Account {i}"} for i in range(3)],
        "Contact": [{"LastName": f"C{i}{n}", "AccountId": f"a{i}"} for i in range(3) for n in range(3)],
    },
}
SOQL = "SELECT Id, Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account ORDER BY Name"


def _names(records):
    return {r["Name"]: [c["LastName"] for c in r["Contacts"]["records"]] for r in records}


EXPECTED = {f"Account {i}": [f"C{i}{n}" for n in range(3)] for i in range(3)}


def test_query_reads_every_page_and_every_child_page(emulator_for, deps_for):
    # Given an org that answers one record per page, parents and children alike
    emu = emulator_for(PAGED_ORG)
    api = deps_for(emu).salesforce(ORG)
    # When three accounts with three contacts each are queried
    records = api.query(SOQL)
    # Then every account comes back with all of its contacts, each child result complete
    assert _names(records) == EXPECTED
    assert all(r["Contacts"]["done"] and "nextRecordsUrl" not in r["Contacts"] for r in records)


def test_a_composite_query_answer_is_completed_too(emulator_for, deps_for):
    # Given the same org and a query answered inside a composite
    emu = emulator_for(PAGED_ORG)
    api = deps_for(emu).salesforce(ORG)
    answer = api.composite([query_subrequest("accounts", SOQL)])[0]
    assert answer["body"]["done"] is False  # the composite answered one account only
    # When its records are read with all_records
    records = all_records(api, answer["body"])
    # Then the parents' and the children's further pages were read (child cursors before the next parent page)
    assert _names(records) == EXPECTED
