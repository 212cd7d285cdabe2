"""The optional ``lookup`` index of a catalog: used when it can be, never changing the answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from callsync_dev.emulator.soql import run_query
from callsync_dev.emulator.soql.catalog import FieldInfo
from callsync_dev.emulator.soql.memory import MemoryCatalog, object_info
from simple_salesforce import format_soql
from soql_org import ADA, BOB, CARA, EVE, NOW, make_catalog, objects
from soql_org import rows as soql_rows

QUERIES = [
    "SELECT Id FROM Contact WHERE Email = 'ADA@acme.com'",
    "SELECT Id FROM Contact WHERE Email IN ('bob@acme.com', 'dan@example.com', 'eve@acme.com')",
    "SELECT Id FROM Contact WHERE Email IN ('bob@acme.com', 'ada@acme.com') AND HasOptedOutOfEmail = false",
    f"SELECT Id FROM Contact WHERE Id IN ('{ADA}', '{CARA}')",
    "SELECT Id, (SELECT Id FROM OpportunityContactRoles) FROM Contact",
    "SELECT Id FROM Opportunity WHERE AccountId IN (SELECT AccountId FROM Contact WHERE Email = 'ADA@acme.com')",
    "SELECT Name FROM Opportunity WHERE IsClosed = false AND AccountId IN (SELECT Id FROM Account) ORDER BY Name",
    "SELECT Id FROM Contact WHERE Id IN (SELECT ContactId FROM OpportunityContactRole) LIMIT 2",
]


@pytest.mark.parametrize("text", QUERIES)
def test_index_gives_the_same_answer_as_a_scan(text: str) -> None:
    # Given the same org with and without indexes
    plain = make_catalog()
    indexed = make_catalog(
        indexed={"Contact": ["Email", "Id"], "OpportunityContactRole": ["ContactId"], "Opportunity": ["AccountId"]}
    )
    # When the query runs on both
    scanned = run_query(text, plain)
    looked_up = run_query(text, indexed)
    # Then the answers agree and the index was consulted
    assert sorted(map(str, scanned.records)) == sorted(map(str, looked_up.records))
    assert indexed.lookups >= 1


def test_index_candidates_are_still_filtered() -> None:
    # Given an indexed equality combined with another condition
    catalog = make_catalog(indexed={"Contact": ["Email"]})
    result = run_query(
        "SELECT Id FROM Contact WHERE Email IN ('ada@acme.com', 'bob@acme.com') AND HasOptedOutOfEmail = true", catalog
    )
    # Then the other condition still applies to what the index returned
    assert [r["Id"] for r in result.records] == [BOB]
    assert catalog.lookups == 1


@pytest.mark.parametrize(
    "text",
    [
        "SELECT Id FROM Contact WHERE Email = 'ada@acme.com' OR LastName = 'x'",  # not a top-level conjunct
        "SELECT Id FROM Contact WHERE Email IN ('bob@acme.com', null)",  # nulls are not indexed
        "SELECT Id FROM Contact WHERE Email LIKE 'ada%'",
        "SELECT Id FROM Contact WHERE Email != 'ada@acme.com'",
        f"SELECT Id FROM Contact WHERE Id = '{ADA[:15]}'",  # 15-char id: the index holds 18-char ids
        "SELECT Id FROM Contact WHERE AccountId NOT IN (SELECT Id FROM Account WHERE Type = 'Customer')",  # anti-join
    ],
)
def test_index_is_not_used_when_it_cannot_answer(text: str) -> None:
    catalog = make_catalog(indexed={"Contact": ["Email", "Id", "AccountId"]})
    result = run_query(text, catalog)
    assert catalog.lookups == 0
    assert result.total_size == run_query(text, make_catalog()).total_size


def test_query_all_scans_so_deleted_rows_appear() -> None:
    catalog = make_catalog(indexed={"Contact": ["Email"]})
    result = run_query("SELECT Id FROM Contact WHERE Email = 'eve@acme.com'", catalog, include_deleted=True)
    assert [r["Id"] for r in result.records] == [EVE]
    assert catalog.lookups == 0


def test_catalog_without_lookup_method_is_scanned() -> None:
    class Bare:
        """Only the four Protocol methods."""

        def __init__(self) -> None:
            self.inner = make_catalog()
            self.object_info = self.inner.object_info
            self.rows = self.inner.rows
            self.by_id = self.inner.by_id
            self.now = self.inner.now

    result = run_query("SELECT Id FROM Contact WHERE Email = 'bob@acme.com'", Bare())
    assert [r["Id"] for r in result.records] == [BOB]


def _big_catalog(n: int, *, indexed: bool) -> MemoryCatalog:
    contact = object_info("Contact", [FieldInfo("Id", "id"), FieldInfo("Email", "email")])
    rows = [{"Id": f"003{i:012d}AAA", "Email": f"person{i}@example.com"} for i in range(n)]
    return MemoryCatalog(
        [contact],
        {"Contact": rows},
        now=datetime(2026, 11, 20, tzinfo=UTC),
        indexed={"Contact": ["Email"]} if indexed else None,
    )


def test_email_in_list_over_100k_contacts_finds_all_twenty_with_and_without_index() -> None:
    """Correctness at scale; the speed figures live in the benchmark (soql/bench.py), not in a timed test."""
    # Given 100,000 contacts and the adapter's 20-address query
    emails = [f"PERSON{i * 4999}@example.com" for i in range(20)]
    text = format_soql("SELECT Id, Email FROM Contact WHERE Email IN {}", emails)
    for indexed in (True, False):
        catalog = _big_catalog(100_000, indexed=indexed)
        # When it runs
        result = run_query(text, catalog)
        # Then all 20 are found, case-insensitively
        assert result.total_size == 20
        assert {r["Email"] for r in result.records} == {e.lower() for e in emails}


def test_aliased_equality_uses_the_index() -> None:
    catalog = make_catalog(indexed={"Contact": ["Email"]})
    result = run_query("SELECT Id FROM Contact c WHERE c.Email = 'bob@acme.com'", catalog)
    assert [r["Id"] for r in result.records] == [BOB]
    assert catalog.lookups == 1


def test_semi_join_runs_its_body_then_reads_the_outer_rows_through_the_index() -> None:
    # Given Contacts indexed by Email and Opportunities by AccountId
    catalog = make_catalog(indexed={"Contact": ["Email"], "Opportunity": ["AccountId"]})
    # When deals are selected by their Account's contacts' addresses
    result = run_query(
        "SELECT Name FROM Opportunity WHERE AccountId IN "
        "(SELECT AccountId FROM Contact WHERE Email IN ('bob@acme.com', 'dan@example.com'))",
        catalog,
    )
    # Then both indexes answered (the body's, then the outer query's), and Acme's deal is found
    assert [r["Name"] for r in result.records] == ["Big deal"]
    assert catalog.lookups == 2


def test_semi_join_selecting_15_character_ids_scans_the_outer_object() -> None:
    # Given a semi-join body whose ids are stored in their 15-character form
    rows = soql_rows()
    for contact in rows["Contact"]:
        contact["AccountId"] = contact["AccountId"] and contact["AccountId"][:15]
    catalog = MemoryCatalog(objects(), rows, now=NOW, indexed={"Opportunity": ["AccountId"]})
    # When deals are selected through it
    result = run_query(
        "SELECT Name FROM Opportunity WHERE AccountId IN (SELECT AccountId FROM Contact WHERE LastName = 'Lovelace')",
        catalog,
    )
    # Then the index (18-character ids only) is not asked, and the scan still finds Acme's deal
    assert [r["Name"] for r in result.records] == ["Big deal"]
    assert catalog.lookups == 0


def test_index_hits_come_back_in_scan_order() -> None:
    # Given an index whose values are asked in another order than the rows are stored
    catalog = make_catalog(indexed={"Contact": ["Email"]})
    text = "SELECT Id FROM Contact WHERE Email IN ('dan@example.com', 'bob@acme.com', 'ada@acme.com') LIMIT 2"
    # When a LIMIT without ORDER BY picks from them
    result = run_query(text, catalog)
    # Then it picks what a scan picks
    assert [r["Id"] for r in result.records] == [r["Id"] for r in run_query(text, make_catalog()).records]
    assert [r["Id"] for r in result.records] == [ADA, BOB]
