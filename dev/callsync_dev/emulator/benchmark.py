"""Emulator measures (not a test): 100,000 Contacts, an ``Email IN (20)`` query, demo-sized start-up.

python -m callsync_dev.emulator.benchmark
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from simple_salesforce import format_soql

from callsync_dev.emulator import Emulator
from callsync_dev.emulator.soql import run_query
from callsync_dev.emulator.testing import salesforce_client

CONTACTS = 100_000


def big_org(contacts: int = CONTACTS) -> dict[str, Any]:
    accounts = [{"Id": f"acct{i}", "Name": f"Account {i}", "Website": f"https://a{i}.example"} for i in range(1000)]
    rows = [
        {
            "FirstName": "F",
            "LastName": f"L{i}",
            "Email": f"person{i}@company{i % 1000}.example",
            "AccountId": f"acct{i % 1000}",
        }
        for i in range(contacts)
    ]
    return {"records": {"Account": accounts, "Contact": rows}}


def demo_org() -> dict[str, Any]:
    return {
        "records": {
            "User": [
                {"FirstName": "U", "LastName": str(i), "Email": f"u{i}@ourco.com", "Username": f"u{i}@ourco.com"}
                for i in range(20)
            ],
            "Account": [{"Id": f"a{i}", "Name": f"Account {i}"} for i in range(50)],
            "Contact": [
                {"LastName": f"C{i}", "Email": f"c{i}@a{i % 50}.example", "AccountId": f"a{i % 50}"} for i in range(300)
            ],
            "Opportunity": [
                {"Name": f"O{i}", "AccountId": f"a{i}", "StageName": "Prospecting", "CloseDate": "2026-12-31"}
                for i in range(50)
            ],
        }
    }


def _timed(action: Any, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    started = time.perf_counter()
    with Emulator.from_fixture(demo_org()):
        print(f"demo-sized org (420 records): start-up {(time.perf_counter() - started) * 1000:.0f} ms")
    fixture = big_org()
    started = time.perf_counter()
    emu = Emulator.from_fixture(fixture)
    print(f"{CONTACTS:,} contacts + 1,000 accounts: load {(time.perf_counter() - started) * 1000:.0f} ms")
    emails = [f"PERSON{i * 4999}@company{(i * 4999) % 1000}.example" for i in range(20)]
    text = format_soql("SELECT Id, Name, Email, AccountId, Account.Name FROM Contact WHERE Email IN {}", emails)
    in_process = _timed(lambda: run_query(text, emu.store), 20)
    with emu:
        sf = salesforce_client(emu.connection)
        result = sf.query(text)
        assert result["totalSize"] == 20, result["totalSize"]
        over_https = _timed(lambda: sf.query(text), 50)
        scan = _timed(lambda: sf.query("SELECT Id FROM Contact WHERE LastName = 'L99999' AND FirstName = 'F'"), 5)
    print(
        f"Email IN (20 addresses), in process: median {statistics.median(in_process):.2f} ms, "
        f"max {max(in_process):.2f} ms"
    )
    print(
        f"Email IN (20 addresses), HTTPS + simple-salesforce: median {statistics.median(over_https):.2f} ms, "
        f"max {max(over_https):.2f} ms"
    )
    print(f"LastName = ... (indexed string), HTTPS: median {statistics.median(scan):.2f} ms")


if __name__ == "__main__":
    main()
