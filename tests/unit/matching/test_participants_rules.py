"""Participants: normalization, malformed emails, the host, internal vs external."""

from __future__ import annotations

import pytest
from callsync.domain.participants import build_roster, normalize_email, split_participants
from matching_builders import make_call


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jane.Doe@Globex.COM", "jane.doe@globex.com"),
        ("  o'brien@globex.com ", "o'brien@globex.com"),
        ("x+tag@sub.globex.co.uk", "x+tag@sub.globex.co.uk"),
        ("not-an-email", None),
        ("two@@globex.com", None),
        ("a b@globex.com", None),
        ("jane@localhost", None),
        ("jane.@globex.com", None),
        ("x' OR '1'='1@globex.com", None),
        ("", None),
    ],
)
def test_normalize_email(raw: str, expected: str | None) -> None:
    # Given a raw email / When normalized / Then lower-cased, or None when malformed
    assert normalize_email(raw) == expected


def test_repeated_participants_in_different_case_are_one_person_keeping_first_name_and_company() -> None:
    # Given the same person listed twice with different case, the name only on the second entry
    call = make_call(
        [
            {"email": "alice@ourco.com"},
            {"email": "JANE@globex.com"},
            {"email": "jane@GLOBEX.com", "name": "Jane Doe", "company": "Globex"},
        ]
    )
    # When the roster is built
    roster = build_roster(call)
    # Then there is one Jane with the name and company found on either entry
    assert roster.emails == ["alice@ourco.com", "jane@globex.com"]
    assert roster.attendees[1].name == "Jane Doe"
    assert roster.attendees[1].company == "Globex"


def test_malformed_emails_are_skipped_with_a_warning() -> None:
    # Given a participant with a malformed email
    call = make_call([{"email": "alice@ourco.com"}, {"email": "bob at globex"}])
    # When the roster is built
    roster = build_roster(call)
    # Then they are skipped and a warning names them
    assert roster.emails == ["alice@ourco.com"]
    assert roster.skipped == ["bob at globex"]
    assert any("bob at globex" in w for w in roster.warnings)


def test_host_missing_from_participants_is_added_and_split_by_the_same_rule_as_everyone() -> None:
    # Given a host at the customer's domain who is not in the participant list
    call = make_call([{"email": "alice@ourco.com"}, {"email": "jane@globex.com"}], host="Raj@Globex.com")
    roster = build_roster(call)
    # When split with no Users
    split = split_participants(roster, ["ourco.com"], [])
    # Then the host is added first and flagged, and is external like the other customer (no forcing)
    assert roster.attendees[0].email == "raj@globex.com" and roster.attendees[0].is_host
    assert [a.email for a in split.internal] == ["alice@ourco.com"]
    assert [a.email for a in split.external] == ["raj@globex.com", "jane@globex.com"]
    assert any("not listed" in w for w in roster.warnings)


def test_a_host_outside_the_internal_domains_is_internal_when_a_user_has_the_email() -> None:
    # Given a host on a personal address who is an active Salesforce User (a contractor)
    call = make_call([{"email": "Boss@Gmail.com"}, {"email": "jane@globex.com"}], host="boss@gmail.com")
    roster = build_roster(call)
    # When split with that User, and without
    with_user = split_participants(roster, ["ourco.com"], ["BOSS@gmail.com"])
    without = split_participants(roster, ["ourco.com"], [])
    # Then the User makes the host internal; without it the host is external
    assert [a.email for a in with_user.internal] == ["boss@gmail.com"]
    assert [a.email for a in without.external] == ["boss@gmail.com", "jane@globex.com"]


def test_internal_by_domain_subdomain_or_active_user() -> None:
    # Given an internal-domain colleague, a subdomain colleague, a contractor who is an active User,
    # a look-alike domain, and a customer
    call = make_call(
        [
            {"email": "alice@ourco.com"},
            {"email": "eve@eu.ourco.com"},
            {"email": "carl@contractor.io"},
            {"email": "mallory@notourco.com"},
            {"email": "jane@globex.com"},
        ]
    )
    # When split with the contractor's email among active Users (case-insensitively)
    split = split_participants(build_roster(call), ["OurCo.com"], ["CARL@contractor.io"])
    # Then internal = domain, subdomain, User; external = the rest
    assert [a.email for a in split.internal] == ["alice@ourco.com", "eve@eu.ourco.com", "carl@contractor.io"]
    assert [a.email for a in split.external] == ["mallory@notourco.com", "jane@globex.com"]


def test_name_that_is_an_email_is_not_a_name() -> None:
    # Given a provider that puts the email in the name field
    call = make_call([{"email": "jane@globex.com", "name": "jane@globex.com"}])
    # Then the attendee has no name
    assert build_roster(call).attendees[1].name is None
