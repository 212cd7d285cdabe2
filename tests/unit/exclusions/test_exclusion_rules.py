"""Excluded calls (settings ``exclusions``, event ``private``): which calls write nothing, and why."""

from __future__ import annotations

from typing import Any

import pytest
from callsync.domain.exclusions import exclusion_reason
from callsync.models.event import CallProcessed
from callsync.models.settings import OrgSettings


def call(**changes: Any) -> CallProcessed:
    data: dict[str, Any] = {
        "schema_version": 1,
        "org_id": "acme",
        "call_id": "c1",
        "title": "Globex - Discovery",
        "started_at": "2026-11-20T15:00:00Z",
        "duration_seconds": 1800,
        "medium": "video",
        "host_email": "alice@ourco.com",
        "participants": [{"email": "alice@ourco.com"}, {"email": "jane@globex.com"}],
        "summary": "We talked.",
        "call_url": "https://app.example.com/calls/c1",
    }
    data.update(changes)
    return CallProcessed.model_validate(data)


def settings(**exclusions: Any) -> OrgSettings:
    return OrgSettings.model_validate(
        {"org_id": "acme", "internal_domains": ["ourco.com"], **({"exclusions": exclusions} if exclusions else {})}
    )


def test_a_call_with_an_external_participant_goes_on_by_default() -> None:
    # Given default exclusions and a call with one customer
    # When the rules are checked
    # Then nothing excludes it
    assert exclusion_reason(call(), settings()) is None


def test_an_internal_only_call_is_excluded_by_default() -> None:
    # Given a pipeline review with only people of the internal domain (one on a subdomain, one listed twice)
    internal = call(
        participants=[{"email": "alice@ourco.com"}, {"email": "Bob@EU.ourco.com"}, {"email": "ALICE@ourco.com"}]
    )
    # When the rules are checked with the defaults
    reason = exclusion_reason(internal, settings())
    # Then the call is excluded as internal-only, and the reason says how to change it
    assert reason is not None and "internal-only" in reason and "exclusions.internal_only" in reason


def test_an_external_host_makes_the_call_not_internal_only() -> None:
    # Given a customer-hosted meeting whose participant list forgot the host
    hosted = call(host_email="jane@globex.com", participants=[{"email": "alice@ourco.com"}])
    # Then the host counts as the external participant it is
    assert exclusion_reason(hosted, settings()) is None


def test_internal_only_calls_sync_when_the_rule_is_off() -> None:
    # Given internal_only off
    internal = call(participants=[{"email": "alice@ourco.com"}])
    # Then an internal-only call goes on
    assert exclusion_reason(internal, settings(internal_only=False)) is None


def test_a_private_call_is_excluded_unless_the_rule_is_off() -> None:
    # Given a call marked private upstream
    private = call(private=True)
    # Then it is excluded by default, and goes on with exclusions.private false
    assert exclusion_reason(private, settings()) == "excluded: the call is marked private"
    assert exclusion_reason(private, settings(private=False)) is None


@pytest.mark.parametrize("title", ["1:1 Alice / Bob", "Weekly 1:1", "INTERVIEW - backend", "Final  Interview"])
def test_a_title_with_a_listed_keyword_is_excluded_case_insensitively(title: str) -> None:
    # Given keywords "1:1" and "interview"
    rules = settings(title_keywords=["1:1", "Interview"])
    # When a call's title contains one of them in any case
    reason = exclusion_reason(call(title=title), rules)
    # Then it is excluded and the reason names the keyword
    assert reason is not None and "title contains" in reason


def test_a_title_without_the_keyword_goes_on() -> None:
    assert exclusion_reason(call(title="Globex - Discovery"), settings(title_keywords=["interview"])) is None


def test_a_participant_of_an_excluded_domain_excludes_the_call() -> None:
    # Given an excluded domain (written with a leading @ and capitals) and a participant on its subdomain
    rules = settings(domains=["@Lawfirm.com"])
    legal = call(participants=[{"email": "alice@ourco.com"}, {"email": "counsel@uk.lawfirm.com"}])
    # Then the call is excluded and the reason names the participant
    reason = exclusion_reason(legal, rules)
    assert reason is not None and "counsel@uk.lawfirm.com" in reason
    # And a look-alike domain is not excluded
    other = call(participants=[{"email": "alice@ourco.com"}, {"email": "x@notlawfirm.com"}])
    assert exclusion_reason(other, rules) is None
