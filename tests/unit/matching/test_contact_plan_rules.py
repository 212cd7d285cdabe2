"""Contact creation plan: Account match by domain or name, names, Lead company."""

from __future__ import annotations

import pytest
from callsync.domain.contact_plan import (
    find_account,
    lookup_terms,
    needs_lookup,
    plan_records,
    split_name,
    website_domain,
)
from callsync.models.event import Company
from callsync.models.match import AccountInfo, Person

GLOBEX = AccountInfo(id="001G", name="Globex", website="https://www.Globex.com/about?x=1")
GMAIL_CO = AccountInfo(id="001M", name="Gmail Fans", website="gmail.com")
INITECH = AccountInfo(id="001I", name="Initech  Corp", website=None)


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("https://www.globex.com/about", "globex.com"),
        ("http://globex.com:8080", "globex.com"),
        ("www.globex.com", "globex.com"),
        ("GLOBEX.COM/", "globex.com"),
        ("shop.globex.com", "shop.globex.com"),
        ("", None),
        (None, None),
    ],
)
def test_website_domain(website: str | None, domain: str | None) -> None:
    # Given a Website as admins type it / Then its comparable domain
    assert website_domain(website) == domain


def test_domain_match_ignores_scheme_www_and_path() -> None:
    # Given Globex's website has scheme, www and a path
    person = Person(email="new@globex.com")
    # Then a globex.com email matches it
    assert find_account(person, None, [INITECH, GLOBEX]) is GLOBEX


def test_subdomain_email_does_not_match_parent_domain() -> None:
    # Given an email on a subdomain: "equals" means equal
    assert find_account(Person(email="x@eu.globex.com"), None, [GLOBEX]) is None


def test_personal_domains_never_match_by_domain_but_company_name_does() -> None:
    # Given an Account whose website is gmail.com, and a gmail participant of Initech
    person = Person(email="joe@gmail.com", company="initech corp")
    # Then the domain is ignored, the company name (case and blanks ignored) matches
    assert find_account(person, "initech corp", [GMAIL_CO, INITECH]) is INITECH
    assert find_account(Person(email="joe@gmail.com"), None, [GMAIL_CO]) is None


def test_split_name() -> None:
    # Given names of different shapes / Then the last word is the LastName
    assert split_name("Jane Q. Doe", "j@x.com") == ("Jane Q.", "Doe")
    assert split_name("Cher", "c@x.com") == (None, "Cher")
    assert split_name(None, "jane.o'neil@x.com") == (None, "jane.o'neil")
    assert split_name('Dwayne "The Rock" Johnson', "d@x.com") == ('Dwayne "The Rock"', "Johnson")


def test_plan_contact_under_account_or_lead_with_company() -> None:
    # Given a Globex newcomer, a gmail person with no company, a person whose company comes from the event
    people = [
        Person(email="new@globex.com", name="New Person"),
        Person(email="solo@gmail.com"),
        Person(email="ann@hooli.com", name="Ann"),
        Person(email="raj@umbrella.io", name="Raj K", company="Umbrella Corp"),
    ]
    event_company = Company(name="Hooli", url="https://www.hooli.com/")
    # When planned
    plan = plan_records(people, [GLOBEX], event_company)
    # Then a Contact under Globex, and Leads with the right Company
    assert [r.payload() for r in plan] == [
        {"attributes": {"type": "Contact"}, "LastName": "Person", "Email": "new@globex.com",
         "FirstName": "New", "AccountId": "001G"},
        {"attributes": {"type": "Lead"}, "LastName": "solo", "Email": "solo@gmail.com", "Company": "gmail.com"},
        {"attributes": {"type": "Lead"}, "LastName": "Ann", "Email": "ann@hooli.com", "Company": "Hooli"},
        {"attributes": {"type": "Lead"}, "LastName": "K", "Email": "raj@umbrella.io", "FirstName": "Raj",
         "Company": "Umbrella Corp"},
    ]  # fmt: skip


def test_event_company_only_counts_when_its_domain_is_the_email_domain() -> None:
    # Given the event's company is Hooli but the participant is on another domain
    plan = plan_records([Person(email="x@other.io")], [], Company(name="Hooli", domain="hooli.com"))
    # Then the Lead's company is the email's domain
    assert plan[0].fields["Company"] == "other.io"


def test_event_company_name_matches_an_account() -> None:
    # Given the event's company (by domain) is "Initech Corp", an Account without website
    people = [Person(email="pat@initech.com")]
    plan = plan_records(people, [INITECH], Company(name="INITECH CORP", domain="initech.com"))
    # Then a Contact is created under that Account
    assert plan[0].object == "Contact" and plan[0].fields["AccountId"] == "001I"


def test_lookup_needed_only_when_no_known_account_matches() -> None:
    # Given a Globex newcomer and Globex already seen by Match
    assert not needs_lookup([Person(email="n@globex.com")], [GLOBEX], None)
    # Given someone from an unseen company
    people = [Person(email="n@globex.com"), Person(email="z@gmail.com", company="Zed"), Person(email="a@acme.io")]
    assert needs_lookup(people, [GLOBEX], None)
    # Then the lookup asks for their domains (not personal ones) and company names
    assert lookup_terms(people, None) == (["globex.com", "acme.io"], ["Zed"])
