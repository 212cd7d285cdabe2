"""Small org fixtures shared by the emulator tests."""

from __future__ import annotations

from typing import Any

SMALL_ORG: dict[str, Any] = {
    "shared_activities": True,
    "api_limit": 15000,
    "schema": {
        "Opportunity": {
            "fields": {
                "Pain__c": {"type": "textarea", "length": 32768},
                "Competitors__c": {"type": "multipicklist", "values": ["Gong", "Chorus"], "restricted": True},
                "Secret__c": {"type": "string"},
            }
        },
        "Task": {"fields": {"Type": {"type": "picklist", "values": ["Call", "Discovery"]}}},
        "Deal_Review__c": {
            "custom": True,
            "fields": {
                "Opportunity__c": {"type": "reference", "referenceTo": ["Opportunity"]},
                "Metrics__c": {"type": "textarea"},
            },
        },
    },
    "hidden_fields": ["Opportunity.Secret__c"],
    "read_only_fields": ["Account.Industry"],
    "records": {
        "User": [
            {
                "Id": "alice",
                "FirstName": "Alice",
                "LastName": "Rep",
                "Email": "alice@ourco.com",
                "Username": "alice@ourco.com",
                "IsActive": True,
            }
        ],
        "Account": [{"Id": "globex", "Name": "Globex", "Website": "https://www.globex.com", "Industry": "Technology"}],
        "Contact": [
            {
                "Id": "hank",
                "FirstName": "Hank",
                "LastName": "Scorpio",
                "Email": "Hank@Globex.com",
                "AccountId": "globex",
                "Title": "CEO",
            }
        ],
        "Lead": [
            {"Id": "lead1", "FirstName": "Lee", "LastName": "Lead", "Company": "Initech", "Email": "lee@initech.com"}
        ],
        "Opportunity": [
            {
                "Id": "opp1",
                "Name": "Globex expansion",
                "AccountId": "globex",
                "StageName": "Prospecting",
                "CloseDate": "2026-12-31",
                "Amount": 50000,
                "OwnerId": "alice",
            }
        ],
        "OpportunityContactRole": [
            {"OpportunityId": "opp1", "ContactId": "hank", "Role": "Decision Maker", "IsPrimary": True}
        ],
    },
}
