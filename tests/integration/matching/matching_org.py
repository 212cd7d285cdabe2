"""The emulator org of the matching integration tests and its record ids (fixtures: tests/support/stack.py)."""

from __future__ import annotations

from typing import Any

ORG = "acme"
# The call starts 2026-11-20T15:00:00Z. Ids are 18 characters with the usual prefixes.
GLOBEX, PARTNER, INITECH = "001000000000001AAA", "001000000000002AAA", "001000000000003AAA"
JANE, BOB, OBRIEN = "003000000000001AAA", "003000000000002AAA", "003000000000003AAA"
EXPANSION, RENEWAL, OLD, PILOT, PARTNER_DEAL = (f"00600000000000{i}AAA" for i in range(1, 6))


def org_fixture() -> dict[str, Any]:
    return {
        "schema": {"Opportunity": {"fields": {"Pain__c": {"type": "textarea"},
                                              "Secret__c": {"type": "string"}}}},
        "hidden_fields": ["Opportunity.Secret__c"],
        "records": {
            "User": [
                {"Id": "005000000000001AAA", "Name": "Alice Rep", "Email": "alice@ourco.com", "IsActive": True},
                {"Id": "005000000000002AAA", "Name": "Carl Contractor", "Email": "carl@contractor.io",
                 "IsActive": True},
                {"Id": "005000000000003AAA", "Name": "Gone", "Email": "gone@old.io", "IsActive": False},
            ],
            "Account": [
                {"Id": GLOBEX, "Name": "Globex", "Website": "https://www.globex.com/home"},
                {"Id": PARTNER, "Name": "Partner Co", "Website": "partner.co"},
                {"Id": INITECH, "Name": "Initech", "Website": "http://initech.com"},
            ],
            "Contact": [
                {"Id": JANE, "FirstName": "Jane", "LastName": "Doe", "Email": "jane@globex.com", "AccountId": GLOBEX},
                {"Id": BOB, "FirstName": "Bob", "LastName": "Roe", "Email": "bob@globex.com", "AccountId": GLOBEX},
                {"Id": OBRIEN, "FirstName": "Pat", "LastName": "O'Brien", "Email": "o'brien@globex.com",
                 "AccountId": GLOBEX},
            ],
            "Lead": [
                {"LastName": "Lee", "Company": "Startup", "Email": "lee@startup.io"},
                {"LastName": "Conv", "Company": "Startup", "Email": "conv@startup.io", "IsConverted": True},
            ],
            "Opportunity": [
                {"Id": EXPANSION, "Name": "Globex - Expansion", "AccountId": GLOBEX, "StageName": "Prospecting",
                 "CloseDate": "2026-12-31", "CreatedDate": "2026-10-01T10:00:00Z", "Pain__c": "slow reports"},
                {"Id": RENEWAL, "Name": "Globex - Renewal", "AccountId": GLOBEX, "StageName": "Closed Won",
                 "CloseDate": "2026-11-20", "CreatedDate": "2026-09-01T10:00:00Z"},
                {"Id": OLD, "Name": "Globex - Old", "AccountId": GLOBEX, "StageName": "Closed Lost",
                 "CloseDate": "2025-01-10", "CreatedDate": "2024-09-01T10:00:00Z"},
                {"Id": PILOT, "Name": "Globex - Pilot", "AccountId": GLOBEX, "StageName": "Prospecting",
                 "CloseDate": "2027-01-31", "CreatedDate": "2026-12-20T10:00:00Z"},
                {"Id": PARTNER_DEAL, "Name": "Partner resale", "AccountId": PARTNER, "StageName": "Prospecting",
                 "CloseDate": "2027-01-31", "CreatedDate": "2026-08-01T10:00:00Z"},
            ],
            "OpportunityContactRole": [
                {"OpportunityId": EXPANSION, "ContactId": JANE, "IsPrimary": True, "Role": "Decision Maker"},
                {"OpportunityId": RENEWAL, "ContactId": BOB, "IsPrimary": True},
                {"OpportunityId": PARTNER_DEAL, "ContactId": BOB, "IsPrimary": False, "Role": "Influencer"},
            ],
            "Event": [
                {"Subject": "[Airspeed] Globex weekly", "StartDateTime": "2026-11-20T15:00:00Z",
                 "EndDateTime": "2026-11-20T15:30:00Z", "WhatId": GLOBEX},
            ],
        },
    }  # fmt: skip
