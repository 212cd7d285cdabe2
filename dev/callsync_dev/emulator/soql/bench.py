"""Benchmark: ``SELECT Id, Email FROM Contact WHERE Email IN (20 addresses)`` over 100,000 Contacts.

Run: ``python -m callsync_dev.emulator.soql.bench``. Not a test; the budget is < 50 ms per query.

Figures (Python 3.11.7, 2-vCPU dev VM, best of 20, 2026-11-25):

    parse, uncached   :    0.44 ms   (once per distinct text; then lru_cache)
    full scan         :    9.26 ms   (MemoryCatalog without index: compiled predicate over 100,000 rows)
    with lookup index :    0.06 ms   (MemoryCatalog.lookup on Email: 20 candidate rows)

Building the lark parser itself costs ~90 ms once per process (first query).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from simple_salesforce import format_soql

from .catalog import FieldInfo
from .engine import run_query
from .memory import MemoryCatalog, object_info
from .parser import parse

CONTACTS = 100_000


def build_catalog(*, indexed: bool) -> MemoryCatalog:
    contact = object_info(
        "Contact",
        [
            FieldInfo("Id", "id"),
            FieldInfo("LastName", "string"),
            FieldInfo("Email", "email"),
            FieldInfo("AccountId", "reference", ("Account",), "Account"),
            FieldInfo("IsDeleted", "boolean"),
        ],
    )
    rows = [
        {
            "Id": f"003{n:012d}AAA",
            "LastName": f"Person {n}",
            "Email": f"person{n}@example.com",
            "AccountId": None,
            "IsDeleted": False,
        }
        for n in range(CONTACTS)
    ]
    return MemoryCatalog(
        [contact],
        {"Contact": rows},
        now=datetime(2026, 11, 20, tzinfo=UTC),
        indexed={"Contact": ["Id", "Email"]} if indexed else None,
    )


def query_text() -> str:
    """The query the adapter sends, escaped the way it escapes it."""
    emails = [f"Person{n * 4999}@Example.com" for n in range(20)]
    return format_soql("SELECT Id, Email FROM Contact WHERE Email IN {}", emails)


def best_ms(action: Callable[[], object], repeat: int = 20) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main() -> None:
    text = query_text()
    print(f"parse, uncached   : {best_ms(lambda: parse.__wrapped__(text)):7.2f} ms")
    for indexed in (False, True):
        catalog = build_catalog(indexed=indexed)
        result = run_query(text, catalog)
        assert result.total_size == 20, result.total_size

        def query(catalog: MemoryCatalog = catalog) -> object:
            return run_query(text, catalog)

        label = "with lookup index" if indexed else "full scan        "
        print(f"{label}: {best_ms(query):7.2f} ms  ({CONTACTS:,} contacts, 20 matches)")


if __name__ == "__main__":
    main()
