"""Personal email addresses never become a company: who may be created, and as what."""

from __future__ import annotations

import pytest
from callsync.domain.contact_plan import creatable, is_personal_domain, plan_people, uncreatable
from callsync.models.event import Company
from callsync.models.match import AccountInfo, Person

ACME_ACCOUNT = AccountInfo(id="001X", name="Acme Corp", website="https://acme.example")


# ---- personal email domains ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "domain", ["gmail.com", "Outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "googlemail.com", "proton.me"]
)
def test_the_documented_personal_domains_are_known(domain: str) -> None:
    # Given a mailbox provider's domain / Then it is personal, in any case
    assert is_personal_domain(domain)


def test_settings_extend_the_personal_domains() -> None:
    # Given a regional provider the built-in list lacks
    # Then it is personal only when the settings list it (subdomains included)
    assert not is_personal_domain("mailbox.example")
    assert is_personal_domain("mailbox.example", ["mailbox.example"])
    assert is_personal_domain("eu.mailbox.example", ["mailbox.example"])
    assert not is_personal_domain("globex.com", ["mailbox.example"])


def test_a_personal_address_without_company_is_not_created_and_says_why() -> None:
    # Given a gmail.com participant with no company, on a call whose event names another company
    person = Person(email="jo@gmail.com", name="Jo Smith")
    event_company = Company(name="Globex", domain="globex.com")
    # When planned
    plan = plan_people([person], [], event_company)
    # Then no record is planned; the reason names the address, the domain and the fix
    assert plan.records == []
    (skipped,) = plan.skipped
    assert skipped.person is person
    assert "jo@gmail.com" in skipped.reason and "gmail.com" in skipped.reason and "company" in skipped.reason


def test_a_personal_address_with_a_company_becomes_a_lead_of_that_company() -> None:
    # Given a gmail.com participant who gave a company Salesforce has no Account for
    person = Person(email="jo@gmail.com", name="Jo Smith", company="Initech")
    # When planned
    plan = plan_people([person], [ACME_ACCOUNT], None)
    # Then a Lead with the participant's company (never the mailbox provider)
    (record,) = plan.records
    assert record.object == "Lead" and record.fields["Company"] == "Initech"
    assert plan.skipped == []


def test_a_personal_address_with_a_known_company_becomes_a_contact_of_its_account() -> None:
    # Given a gmail.com participant whose company is the name of an existing Account
    person = Person(email="jo@gmail.com", company="ACME  corp")
    # Then a Contact under that Account
    (record,) = plan_people([person], [ACME_ACCOUNT], None).records
    assert record.object == "Contact" and record.fields["AccountId"] == "001X"


def test_a_personal_domain_from_the_settings_is_skipped_too() -> None:
    # Given a settings-listed personal domain and a company domain
    people = [Person(email="kim@mailbox.example"), Person(email="sam@globex.com")]
    # When filtered
    kept, skipped = creatable(people, None, ["mailbox.example"])
    # Then the company address may be created, the personal one not
    assert [p.email for p in kept] == ["sam@globex.com"]
    assert [s.person.email for s in skipped] == ["kim@mailbox.example"]
    assert uncreatable(Person(email="sam@globex.com"), None) is None
