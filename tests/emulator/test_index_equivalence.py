"""The org store's indexes answer SOQL exactly as a full scan does, on random orgs after random writes.

A scan is the reference: the same store seen through a catalog without ``lookup``. Records, their
order (LIMIT without ORDER BY, ties under ORDER BY) and child result sets must be identical.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from callsync_dev.emulator.errors import ApiError
from callsync_dev.emulator.fixture import build_org
from callsync_dev.emulator.soql import run_query
from callsync_dev.emulator.soql.catalog import ObjectInfo
from callsync_dev.emulator.store import OrgStore
from simple_salesforce import format_soql

STAGES = ("Prospecting", "Qualification", "Closed Won", "Closed Lost")
SUBJECTS = ("Call", "Demo", "Intro", "Sync")
EMAILS = [f"p{i}@c{i % 5}.example" for i in range(25)]
DAY = date(2026, 11, 20)


class ScanOnly:
    """The store without its ``lookup`` index: the engine scans every row."""

    def __init__(self, store: OrgStore) -> None:
        self.store = store

    def object_info(self, name: str) -> ObjectInfo | None:
        return self.store.object_info(name)

    def rows(self, object_name: str, *, include_deleted: bool = False) -> Iterable[Mapping[str, Any]]:
        return self.store.rows(object_name, include_deleted=include_deleted)

    def by_id(self, record_id: str) -> tuple[str, Mapping[str, Any]] | None:
        return self.store.by_id(record_id)

    def now(self) -> datetime:
        return self.store.now()


class Counting(ScanOnly):
    """The store with its index, recording which (object, field) indexes answered."""

    def __init__(self, store: OrgStore) -> None:
        super().__init__(store)
        self.used: list[tuple[str, str]] = []

    def lookup(self, object_name: str, field_name: str, values: list[str]) -> list[Mapping[str, Any]] | None:
        hits = self.store.lookup(object_name, field_name, values)
        if hits is not None:
            self.used.append((object_name, field_name))
        return hits


def _mixed_case(rng: random.Random, email: str) -> str:
    return "".join(c.upper() if rng.random() < 0.3 else c for c in email)


def random_org(seed: int) -> dict[str, Any]:
    """Accounts, Contacts/Leads sharing e-mail addresses in any case, deals, roles, Events and Tasks."""
    rng = random.Random(seed)
    accounts = [{"Id": f"acc{i}", "Name": f"Account {i}"} for i in range(10)]
    contacts = [
        {
            "Id": f"con{i}",
            "LastName": f"C{i}",
            "Email": _mixed_case(rng, rng.choice(EMAILS)) if rng.random() < 0.9 else None,
            "AccountId": f"acc{rng.randrange(10)}" if rng.random() < 0.85 else None,
        }
        for i in range(50)
    ]
    leads = [
        {
            "LastName": f"L{i}",
            "Company": "Co",
            "Email": _mixed_case(rng, rng.choice(EMAILS)),
            "IsConverted": rng.random() < 0.2,
        }
        for i in range(12)
    ]
    opportunities = [
        {
            "Id": f"opp{i}",
            "Name": f"Deal {i}",
            "AccountId": f"acc{rng.randrange(10)}" if rng.random() < 0.9 else None,
            "StageName": rng.choice(STAGES),
            "CloseDate": (DAY + timedelta(days=rng.randrange(-20, 20))).isoformat(),
            "CreatedDate": f"2026-{rng.randrange(1, 12):02d}-0{rng.randrange(1, 9)}T10:00:00Z",
            "LastActivityDate": rng.choice([None, "2026-11-01", "2026-11-10"]),
        }
        for i in range(40)
    ]
    roles = [
        {"OpportunityId": f"opp{rng.randrange(40)}", "ContactId": f"con{rng.randrange(50)}", "Role": "Influencer"}
        for _ in range(45)
    ]
    events = [
        {
            "Subject": rng.choice(SUBJECTS),
            "WhoId": f"con{rng.randrange(50)}",
            "WhatId": f"opp{rng.randrange(40)}",
            "StartDateTime": f"2026-11-{rng.choice((19, 20, 21))}T1{rng.randrange(10)}:00:00Z",
            "DurationInMinutes": 30,
        }
        for _ in range(25)
    ]
    tasks = [
        {
            "Subject": rng.choice(SUBJECTS),
            "WhoId": f"con{rng.randrange(50)}",
            "ActivityDate": rng.choice(("2026-11-19", "2026-11-20")),
        }
        for _ in range(25)
    ]
    return {
        "shared_activities": True,
        "records": {
            "Account": accounts,
            "Contact": contacts,
            "Lead": leads,
            "Opportunity": opportunities,
            "OpportunityContactRole": roles,
            "Event": events,
            "Task": tasks,
        },
    }


def _live_ids(store: OrgStore, obj: str) -> list[str]:
    return [r["Id"] for r in store.rows(obj)]


def random_writes(store: OrgStore, seed: int) -> None:
    """Creates, updates (moving indexed values), cascading deletes and a rolled-back transaction."""
    rng = random.Random(seed + 1000)
    for n in range(15):
        kind = rng.randrange(6)
        accounts, contacts, deals = (_live_ids(store, o) for o in ("Account", "Contact", "Opportunity"))
        if kind == 0 and contacts:
            store.update(
                "Contact",
                rng.choice(contacts),
                {"Email": _mixed_case(rng, rng.choice(EMAILS)), "AccountId": rng.choice([*accounts, None])},
            )
        elif kind == 1 and deals:
            store.update(
                "Opportunity",
                rng.choice(deals),
                {"AccountId": rng.choice([*accounts, None]), "StageName": rng.choice(STAGES)},
            )
        elif kind == 2:
            store.create(
                "Contact",
                {"LastName": f"New{n}", "Email": rng.choice(EMAILS), "AccountId": rng.choice([*accounts, None])},
            )
        elif kind == 3 and accounts:
            store.create(
                "Opportunity",
                {
                    "Name": f"New deal {n}",
                    "AccountId": rng.choice(accounts),
                    "StageName": rng.choice(STAGES),
                    "CloseDate": DAY.isoformat(),
                },
            )
        elif kind == 4 and contacts:
            store.delete("Contact", rng.choice(contacts))  # cascades to its roles and relations
        elif kind == 5 and accounts and rng.random() < 0.5:
            store.delete("Account", rng.choice(accounts))  # cascades to its Contacts and deals
    contacts, deals = _live_ids(store, "Contact"), _live_ids(store, "Opportunity")
    with pytest.raises(ApiError), store.transaction():  # undone: the indexes must forget it
        store.update("Contact", contacts[0], {"Email": EMAILS[0], "AccountId": None})
        store.update("Opportunity", deals[0], {"AccountId": None})
        store.create("Contact", {"LastName": "Ghost", "Email": EMAILS[1]})
        raise ApiError(400, "TEST_ROLLBACK", "roll back")


def queries(rng: random.Random) -> list[str]:
    emails = [_mixed_case(rng, e) for e in rng.sample(EMAILS, 6)] + ["nobody@nowhere.example"]
    subjects = rng.sample(SUBJECTS, 2)
    day = DAY + timedelta(days=rng.choice((-1, 0)))
    deals = (
        "SELECT Id, Name, AccountId, StageName, IsClosed, CloseDate, LastActivityDate, LastModifiedDate "
        "FROM Opportunity WHERE AccountId IN (SELECT AccountId FROM Contact WHERE Email IN {emails})"
    )
    return [
        # the match plan's five queries
        format_soql("SELECT Id, Name, Email FROM User WHERE IsActive = true AND Email IN {}", emails),
        format_soql(
            "SELECT Id, Email, AccountId, Account.Name, (SELECT Id, OpportunityId, ContactId, "
            "Opportunity.Name FROM OpportunityContactRoles) FROM Contact WHERE Email IN {}",
            emails,
        ),
        format_soql("SELECT Id, Email FROM Lead WHERE IsConverted = false AND Email IN {}", emails),
        format_soql(
            deals + " AND CreatedDate <= 2026-11-21T00:00:00Z AND (IsClosed = false OR CloseDate = {day}"
            " OR CreatedDate > 2026-11-20T00:00:00Z) ORDER BY LastActivityDate DESC NULLS LAST,"
            " LastModifiedDate DESC LIMIT 5",
            emails=emails,
            day=DAY,
        ),
        format_soql(
            "SELECT Id, Subject, WhoId, (SELECT RelationId FROM EventRelations) FROM Event "
            "WHERE ActivityDate = {} AND Subject IN {}",
            day,
            subjects,
        ),
        # semi-joins: plain, LIMIT without ORDER BY, ties under ORDER BY, on Id, on a polymorphic field
        format_soql(deals, emails=emails),
        format_soql(deals + " LIMIT 3", emails=emails),
        format_soql(deals + " ORDER BY LastModifiedDate LIMIT 4", emails=emails),
        "SELECT Id, LastName FROM Contact WHERE Id IN (SELECT ContactId FROM OpportunityContactRole "
        "WHERE Opportunity.IsClosed = false)",
        format_soql(
            "SELECT Id, Subject FROM Task WHERE WhoId IN (SELECT Id FROM Contact WHERE Email IN {}) "
            "AND ActivityDate = {}",
            emails,
            day,
        ),
        format_soql(
            "SELECT Id, (SELECT Id, ContactId FROM OpportunityContactRoles) FROM Opportunity WHERE "
            "AccountId IN (SELECT Id FROM Account WHERE Name LIKE 'Account 1%')"
        ),
        # not indexable: anti-join, empty semi-join (a semi-join under OR is refused, as Salesforce does)
        format_soql(
            "SELECT Id FROM Opportunity WHERE AccountId NOT IN (SELECT AccountId FROM Contact WHERE Email IN {})",
            emails,
        ),
        "SELECT Id FROM Opportunity WHERE AccountId IN (SELECT AccountId FROM Contact WHERE Email = 'none@x.io')",
        "SELECT COUNT() FROM Opportunity WHERE AccountId IN (SELECT Id FROM Account)",
    ]


@pytest.mark.parametrize("seed", range(8))
def test_indexed_answers_equal_scanned_answers_on_a_random_org(seed: int) -> None:
    # Given a random org, changed by random writes (and one rolled-back transaction)
    store, _ = build_org(random_org(seed))
    random_writes(store, seed)
    for text in queries(random.Random(seed)):
        for include_deleted in (False, True):
            # When a query runs with the store's indexes and as a plain scan
            indexed = run_query(text, store, include_deleted=include_deleted)
            scanned = run_query(text, ScanOnly(store), include_deleted=include_deleted)
            # Then both give the same records, in the same order, with the same child sets
            assert indexed.total_size == scanned.total_size, text
            assert indexed.records == scanned.records, text


def test_match_opportunity_query_reads_deals_through_the_account_index() -> None:
    # Given a random org
    store, _ = build_org(random_org(3))
    catalog = Counting(store)
    # When the match plan's opportunity query runs
    text = format_soql(
        "SELECT Id FROM Opportunity WHERE AccountId IN (SELECT AccountId FROM Contact "
        "WHERE Email IN {}) AND IsClosed = false",
        EMAILS[:5],
    )
    result = run_query(text, catalog)
    # Then the semi-join's body used the Email index and the outer query the AccountId index
    assert catalog.used == [("Contact", "Email"), ("Opportunity", "AccountId")]
    assert result.records == run_query(text, ScanOnly(store)).records


def test_indexes_follow_writes_of_the_outer_field() -> None:
    # Given a deal whose Account has a contact with a known address
    store, _ = build_org(
        {
            "records": {
                "Account": [{"Id": "a1", "Name": "A1"}, {"Id": "a2", "Name": "A2"}],
                "Contact": [{"LastName": "X", "Email": "x@a1.example", "AccountId": "a1"}],
                "Opportunity": [
                    {"Id": "d1", "Name": "D1", "AccountId": "a1", "StageName": "Prospecting", "CloseDate": "2026-12-31"}
                ],
            }
        }
    )
    text = (
        "SELECT Name FROM Opportunity WHERE AccountId IN (SELECT AccountId FROM Contact WHERE Email = 'X@A1.example')"
    )
    assert [r["Name"] for r in run_query(text, store).records] == ["D1"]
    deal = store.rows("Opportunity").__iter__().__next__()["Id"]
    # When the deal moves to another Account, then back, then is deleted
    store.update("Opportunity", deal, {"AccountId": _live_ids(store, "Account")[1]})
    moved = run_query(text, store).records
    store.update("Opportunity", deal, {"AccountId": _live_ids(store, "Account")[0]})
    back = run_query(text, store).records
    store.delete("Opportunity", deal)
    deleted = run_query(text, store).records
    # Then the indexed query follows each write; queryAll still sees the deleted deal
    assert moved == []
    assert [r["Name"] for r in back] == ["D1"]
    assert deleted == []
    assert [r["Name"] for r in run_query(text, store, include_deleted=True).records] == ["D1"]
