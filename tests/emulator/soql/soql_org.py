"""A small org for the SOQL engine tests: Accounts, Contacts, Opportunities, roles, Tasks, Events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from callsync_dev.emulator.soql.catalog import ChildRelationship, FieldInfo
from callsync_dev.emulator.soql.memory import MemoryCatalog, object_info

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday


def _id(prefix: str, n: int) -> str:
    """18-character ids like Salesforce's (prefix + zero padding + a fake 3-char checksum)."""
    return f"{prefix}{n:012d}AAA"


ACME, GLOBEX, INITECH = _id("001", 1), _id("001", 2), _id("001", 3)
ADA, BOB, CARA, DAN, EVE = (_id("003", n) for n in range(1, 6))
LEAD = _id("00Q", 1)
BIG_DEAL, SMALL_DEAL = _id("006", 1), _id("006", 2)
OWNER = _id("005", 1)


def objects() -> list[Any]:
    account = object_info(
        "Account",
        [
            FieldInfo("Id", "id"),
            FieldInfo("Name", "string"),
            FieldInfo("Type", "picklist"),
            FieldInfo("AnnualRevenue", "currency"),
            FieldInfo("OwnerId", "reference", ("User",), "Owner"),
            FieldInfo("IsDeleted", "boolean"),
        ],
        [
            ChildRelationship("Contacts", "Contact", "AccountId"),
            ChildRelationship("Opportunities", "Opportunity", "AccountId"),
        ],
    )
    contact = object_info(
        "Contact",
        [
            FieldInfo("Id", "id"),
            FieldInfo("FirstName", "string"),
            FieldInfo("LastName", "string"),
            FieldInfo("Name", "string"),
            FieldInfo("Email", "email"),
            FieldInfo("AccountId", "reference", ("Account",), "Account"),
            FieldInfo("Birthdate", "date"),
            FieldInfo("CreatedDate", "datetime"),
            FieldInfo("HasOptedOutOfEmail", "boolean"),
            FieldInfo("Languages__c", "multipicklist"),
            FieldInfo("NumberOfCalls__c", "double"),
            FieldInfo("IsDeleted", "boolean"),
        ],
        [ChildRelationship("OpportunityContactRoles", "OpportunityContactRole", "ContactId")],
    )
    lead = object_info(
        "Lead",
        [
            FieldInfo("Id", "id"),
            FieldInfo("Name", "string"),
            FieldInfo("Email", "email"),
            FieldInfo("Company", "string"),
        ],
    )
    user = object_info("User", [FieldInfo("Id", "id"), FieldInfo("Name", "string"), FieldInfo("Email", "email")])
    opportunity = object_info(
        "Opportunity",
        [
            FieldInfo("Id", "id"),
            FieldInfo("Name", "string"),
            FieldInfo("StageName", "picklist"),
            FieldInfo("CloseDate", "date"),
            FieldInfo("Amount", "currency"),
            FieldInfo("IsClosed", "boolean"),
            FieldInfo("AccountId", "reference", ("Account",), "Account"),
        ],
        [
            ChildRelationship("OpportunityContactRoles", "OpportunityContactRole", "OpportunityId"),
            ChildRelationship("Tasks", "Task", "WhatId"),
        ],
    )
    role = object_info(
        "OpportunityContactRole",
        [
            FieldInfo("Id", "id"),
            FieldInfo("IsPrimary", "boolean"),
            FieldInfo("Role", "picklist"),
            FieldInfo("OpportunityId", "reference", ("Opportunity",), "Opportunity"),
            FieldInfo("ContactId", "reference", ("Contact",), "Contact"),
        ],
    )
    task = object_info(
        "Task",
        [
            FieldInfo("Id", "id"),
            FieldInfo("Subject", "string"),
            FieldInfo("Description", "textarea", filterable=False),
            FieldInfo("ActivityDate", "date"),
            FieldInfo("WhoId", "reference", ("Contact", "Lead"), "Who"),
            FieldInfo("WhatId", "reference", ("Opportunity", "Account"), "What"),
        ],
    )
    return [account, contact, lead, user, opportunity, role, task]


def rows() -> dict[str, list[dict[str, Any]]]:
    return {
        "User": [{"Id": OWNER, "Name": "Olga Owner", "Email": "olga@example.com"}],
        "Account": [
            {"Id": ACME, "Name": "Acme", "Type": "Customer", "AnnualRevenue": 5e6, "OwnerId": OWNER},
            {"Id": GLOBEX, "Name": "globex", "Type": None, "AnnualRevenue": None, "OwnerId": OWNER},
            {"Id": INITECH, "Name": "Initech", "Type": "Prospect", "AnnualRevenue": 1e5, "OwnerId": None},
        ],
        "Contact": [
            {
                "Id": ADA,
                "FirstName": "Ada",
                "LastName": "Lovelace",
                "Name": "Ada Lovelace",
                "Email": "Ada@Acme.com",
                "AccountId": ACME,
                "Birthdate": date(1990, 12, 10),
                "CreatedDate": datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
                "HasOptedOutOfEmail": False,
                "Languages__c": "English;French",
                "NumberOfCalls__c": 3,
                "IsDeleted": False,
            },
            {
                "Id": BOB,
                "FirstName": "Bob",
                "LastName": "O'Brien",
                "Name": "Bob O'Brien",
                "Email": "bob@acme.com",
                "AccountId": ACME,
                "Birthdate": None,
                "CreatedDate": datetime(2026, 11, 13, 23, 59, 59, 500000, tzinfo=UTC),
                "HasOptedOutOfEmail": True,
                "Languages__c": "German",
                "NumberOfCalls__c": 10.5,
                "IsDeleted": False,
            },
            {
                "Id": CARA,
                "FirstName": "Cara",
                "LastName": "100%_Real",
                "Name": "Cara 100%_Real",
                "Email": None,
                "AccountId": GLOBEX,
                "Birthdate": date(2026, 11, 20),
                "CreatedDate": datetime(2026, 1, 1, tzinfo=UTC),
                "HasOptedOutOfEmail": False,
                "Languages__c": None,
                "NumberOfCalls__c": None,
                "IsDeleted": False,
            },
            {
                "Id": DAN,
                "FirstName": None,
                "LastName": "Noaccount",
                "Name": "Noaccount",
                "Email": "dan@example.com",
                "AccountId": None,
                "Birthdate": date(2026, 11, 25),
                "CreatedDate": datetime(2025, 6, 1, 12, tzinfo=UTC),
                "HasOptedOutOfEmail": False,
                "Languages__c": "French;English;Spanish",
                "NumberOfCalls__c": 0,
                "IsDeleted": False,
            },
            {
                "Id": EVE,
                "FirstName": "Eve",
                "LastName": "Deleted",
                "Name": "Eve Deleted",
                "Email": "eve@acme.com",
                "AccountId": ACME,
                "Birthdate": None,
                "CreatedDate": datetime(2026, 11, 1, tzinfo=UTC),
                "HasOptedOutOfEmail": False,
                "Languages__c": None,
                "NumberOfCalls__c": 1,
                "IsDeleted": True,
            },
        ],
        "Lead": [{"Id": LEAD, "Name": "Lee Lead", "Email": "lee@lead.com", "Company": "Leads Inc"}],
        "Opportunity": [
            {
                "Id": BIG_DEAL,
                "Name": "Big deal",
                "StageName": "Negotiation",
                "CloseDate": date(2026, 12, 15),
                "Amount": 250000,
                "IsClosed": False,
                "AccountId": ACME,
            },
            {
                "Id": SMALL_DEAL,
                "Name": "Small deal",
                "StageName": "Closed Won",
                "CloseDate": date(2026, 10, 1),
                "Amount": 1200.5,
                "IsClosed": True,
                "AccountId": GLOBEX,
            },
        ],
        "OpportunityContactRole": [
            {
                "Id": _id("00K", 1),
                "OpportunityId": BIG_DEAL,
                "ContactId": ADA,
                "IsPrimary": True,
                "Role": "Decision Maker",
            },
            {
                "Id": _id("00K", 2),
                "OpportunityId": BIG_DEAL,
                "ContactId": BOB,
                "IsPrimary": False,
                "Role": "Influencer",
            },
            {"Id": _id("00K", 3), "OpportunityId": SMALL_DEAL, "ContactId": CARA, "IsPrimary": True, "Role": None},
        ],
        "Task": [
            {
                "Id": _id("00T", 1),
                "Subject": "Call Ada",
                "Description": "long notes",
                "ActivityDate": date(2026, 11, 19),
                "WhoId": ADA,
                "WhatId": BIG_DEAL,
            },
            {
                "Id": _id("00T", 2),
                "Subject": "Call Lee",
                "Description": None,
                "ActivityDate": date(2026, 11, 21),
                "WhoId": LEAD,
                "WhatId": ACME,
            },
            {
                "Id": _id("00T", 3),
                "Subject": "Note",
                "Description": None,
                "ActivityDate": None,
                "WhoId": None,
                "WhatId": None,
            },
        ],
    }


def make_catalog(*, indexed: dict[str, list[str]] | None = None) -> MemoryCatalog:
    return MemoryCatalog(objects(), rows(), now=NOW, indexed=indexed)
