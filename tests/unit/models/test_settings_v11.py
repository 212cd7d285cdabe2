"""Settings version 1.1 keys (INTERFACES.md §2): defaults when absent, validation when present."""

from __future__ import annotations

from typing import Any

import pytest
from callsync.errors import InvalidSettings
from callsync.models.validation import parse_settings

from tests.support.org_settings import CONTRACT_EXAMPLE


def test_absent_keys_take_the_documented_defaults() -> None:
    # Given v1 settings without any 1.1 key
    settings = parse_settings(CONTRACT_EXAMPLE, "acme")
    # Then the 1.1 defaults apply
    assert settings.exclusions.model_dump() == {
        "internal_only": True,
        "private": True,
        "domains": [],
        "title_keywords": [],
    }
    assert settings.protect_human_edits is True
    assert settings.api_budget.max_share == 0.8
    assert settings.preview is False
    assert settings.personal_domains == []


def test_the_contract_example_of_the_1_1_keys_parses() -> None:
    # Given the 1.1 block of the contract, with domains in mixed case
    extra = {
        "exclusions": {
            "internal_only": False,
            "private": True,
            "domains": ["LawFirm.com"],
            "title_keywords": ["interview"],
        },
        "protect_human_edits": False,
        "api_budget": {"max_share": 0.5},
        "preview": True,
        "personal_domains": ["@Example-Mail.com"],
    }
    settings = parse_settings({**CONTRACT_EXAMPLE, **extra}, "acme")
    # Then every value is understood and domains are kept in their comparable form
    assert settings.exclusions.domains == ["lawfirm.com"]
    assert settings.exclusions.title_keywords == ["interview"]
    assert settings.api_budget.max_share == 0.5 and settings.preview and not settings.protect_human_edits
    assert settings.personal_domains == ["example-mail.com"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"exclusions": {"internal_only": "maybe"}}, "exclusions.internal_only"),
        ({"exclusions": {"domains": ["not a domain"]}}, "exclusions.domains"),
        ({"exclusions": {"title_keywords": ["  "]}}, "exclusions.title_keywords"),
        ({"api_budget": {"max_share": 0}}, "api_budget.max_share"),
        ({"api_budget": {"max_share": 1.5}}, "api_budget.max_share"),
        ({"preview": "yes please"}, "preview"),
        ({"protect_human_edits": "sometimes"}, "protect_human_edits"),
        ({"personal_domains": ["gmail"]}, "personal_domains"),
    ],
)
def test_invalid_1_1_values_name_the_field(change: dict[str, Any], named: str) -> None:
    # Given settings with one wrong 1.1 value
    with pytest.raises(InvalidSettings) as caught:
        parse_settings({**CONTRACT_EXAMPLE, **change}, "acme")
    # Then the error names the org and the field
    assert "acme" in str(caught.value) and named in str(caught.value)
