"""The emulator org and names for the LogActivity integration tests (fixtures: tests/support/stack.py)."""

from __future__ import annotations

from typing import Any

ORG = "acme"
ALICE, BOB_REP = "005000000000001AAA", "005000000000002AAA"
GLOBEX = "001000000000001AAA"
JANE, RAJ, SAM = "003000000000001AAA", "003000000000002AAA", "003000000000003AAA"
DEAL = "006000000000001AAA"


def org_fixture(*, shared_activities: bool = True, events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "shared_activities": shared_activities,
        "schema": {
            "Event": {"fields": {"Type": {"type": "picklist", "values": ["Call", "Meeting", "Discovery", "Demo"]}}},
            "Task": {"fields": {"Type": {"type": "picklist", "values": ["Call", "Discovery"]}}},
        },
        "records": {
            "User": [
                {"Id": ALICE, "Name": "Alice Rep", "Email": "alice@ourco.com", "IsActive": True},
                {"Id": BOB_REP, "Name": "Bob Owner", "Email": "bob@ourco.com", "IsActive": True},
            ],
            "Account": [{"Id": GLOBEX, "Name": "Globex", "Website": "https://www.globex.com"}],
            "Contact": [
                {"Id": JANE, "FirstName": "Jane", "LastName": "Doe", "Email": "jane@globex.com", "AccountId": GLOBEX},
                {"Id": RAJ, "FirstName": "Raj", "LastName": "Patel", "Email": "raj@globex.com", "AccountId": GLOBEX},
                {"Id": SAM, "FirstName": "Sam", "LastName": "Lee", "Email": "sam@globex.com", "AccountId": GLOBEX},
            ],
            "Opportunity": [
                {
                    "Id": DEAL,
                    "Name": "Globex - Expansion",
                    "AccountId": GLOBEX,
                    "StageName": "Prospecting",
                    "CloseDate": "2026-12-31",
                    "OwnerId": BOB_REP,
                },
            ],
            "Event": events or [],
        },
    }
