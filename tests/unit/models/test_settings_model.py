"""Org settings v1 (INTERFACES.md §2)."""

from __future__ import annotations

import pytest
from callsync.errors import InvalidSettings
from callsync.models.validation import parse_settings

from tests.support.org_settings import CONTRACT_EXAMPLE


def test_the_contract_example_parses() -> None:
    # Given the settings example of the contract
    settings = parse_settings(CONTRACT_EXAMPLE, "acme")
    # Then every key is understood
    assert settings.field_sync.mappings[1].policy == "overwrite"
    assert settings.field_sync.mappings[0].policy == "default"
    assert settings.mapped_fields("Opportunity") == ["Pain__c", "Amount"]
    assert settings.activity_sync.mode == "smart"
    assert settings.internal_domain_set == {"ourco.com"}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"activity_sync": {"enabled": True, "mode": "calendar"}}, "activity_sync.mode"),
        (
            {
                "field_sync": {
                    "enabled": True,
                    "mappings": [{"insight": "x", "object": "Opportunity", "field": "F__c", "policy": "replace"}],
                }
            },
            "field_sync.mappings[0].policy",
        ),
        (
            {
                "field_sync": {
                    "enabled": True,
                    "mappings": [{"insight": "x", "object": "Deal_Review__c", "field": "F__c"}],
                }
            },
            "needs 'via'",
        ),
        ({"autosync": "sometimes"}, "autosync"),
    ],
)
def test_invalid_settings_name_the_org_and_the_field(change: dict, named: str) -> None:
    # Given settings with one wrong value
    with pytest.raises(InvalidSettings) as caught:
        parse_settings({**CONTRACT_EXAMPLE, **change}, "acme")
    # Then the error names the org and the field
    assert "acme" in str(caught.value)
    assert named in str(caught.value)
