"""Org settings shared by tests."""

from __future__ import annotations

from typing import Any

# The settings example of INTERFACES.md §2: every feature on, four field mappings (one through a via-object).
CONTRACT_EXAMPLE: dict[str, Any] = {
    "org_id": "acme",
    "internal_domains": ["ourco.com"],
    "autosync": True,
    "subject_prefix": "[Airspeed]",
    "field_sync": {
        "enabled": True,
        "mappings": [
            {"insight": "pain", "object": "Opportunity", "field": "Pain__c"},
            {"insight": "budget", "object": "Opportunity", "field": "Amount", "policy": "overwrite"},
            {"insight": "champion", "object": "Contact", "field": "Champion_Notes__c"},
            {"insight": "metrics", "object": "Deal_Review__c", "field": "Metrics__c", "via": "Opportunity__c"},
        ],
    },
    "activity_sync": {"enabled": True, "mode": "smart"},
    "contact_creation": {"enabled": True},
    "notes_sync": {"enabled": True},
    "task_sync": {"enabled": True},
    "account_link_field": "Airspeed_Link__c",
}
