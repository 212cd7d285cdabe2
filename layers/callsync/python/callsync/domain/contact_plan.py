"""Which Contacts and Leads to create for external participants Salesforce does not know.

Rules (docs/matching.md, "Contact creation"):

- Only external participants found neither as Contact nor as Lead are created.
- "The participant's company has an Account": the email's domain equals the domain of
  the Account's Website (scheme, ``www.``, port and path ignored, case-insensitive), else
  the participant's company name equals the Account's Name (case-insensitive, blanks
  collapsed). Personal email domains (gmail.com, outlook.com, ...) never match by domain.
  The company name is the participant's ``company``, else the event's ``company.name``
  when the event's company domain is the email's domain.
- With an Account: a Contact under it. Without: a Lead.
- Names: the last word of the name is LastName, the rest FirstName; no name → LastName is
  the email's local part. Lead.Company: the company name above, else the email's domain.
- A personal email address (``PERSONAL_DOMAINS`` plus the settings' ``personal_domains``) says
  nothing about the company: with no company name it is not created at all (``uncreatable``
  gives the reason) rather than becoming a Lead whose Company is "gmail.com".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from callsync.domain.participants import email_domain, email_local_part
from callsync.models.event import Company
from callsync.models.match import AccountInfo, Person

PERSONAL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "live.com",
        "msn.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "ymail.com", "aol.com", "icloud.com",
        "me.com", "mac.com", "proton.me", "protonmail.com", "pm.me", "gmx.com", "gmx.de", "gmx.net",
        "web.de", "mail.com", "zoho.com", "yandex.com", "yandex.ru", "mail.ru", "qq.com", "163.com",
        "126.com", "orange.fr", "free.fr", "laposte.net", "comcast.net", "verizon.net", "att.net",
        "fastmail.com", "hey.com", "tutanota.com",
    }
)  # fmt: skip
FIRST_NAME_MAX = 40
LAST_NAME_MAX = 80
COMPANY_MAX = 255


def website_domain(website: str | None) -> str | None:
    """``https://www.Globex.com/about`` → ``globex.com``; None when there is no host."""
    if not website or not website.strip():
        return None
    text = website.strip().lower()
    if "//" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    return host or None


def company_key(name: str | None) -> str | None:
    if not name:
        return None
    key = " ".join(name.split()).casefold()
    return key or None


def is_personal_domain(domain: str, extra: Iterable[str] = ()) -> bool:
    """A mailbox provider's domain (built-in list, plus ``extra`` from the settings), subdomains included."""
    domain = domain.strip().lower()
    listed = PERSONAL_DOMAINS.union(d.strip().lower() for d in extra)
    return any(domain == d or domain.endswith("." + d) for d in listed if d)


def company_name(person: Person, event_company: Company | None) -> str | None:
    """The participant's company, else the event's company when its domain is the email's domain."""
    if person.company and person.company.strip():
        return " ".join(person.company.split())
    if event_company is None or not event_company.name:
        return None
    event_domain = website_domain(event_company.domain) or website_domain(
        str(event_company.url) if event_company.url else None
    )
    if event_domain and event_domain == email_domain(person.email):
        return " ".join(event_company.name.split())
    return None


def find_account(
    person: Person, company: str | None, accounts: Iterable[AccountInfo], personal_domains: Iterable[str] = ()
) -> AccountInfo | None:
    """The Account of the person's company, by Website domain first, then by Name; None if none.

    Several Accounts matching the same way: the first in ``accounts`` order wins (callers list
    the matched Account first, then the ones Match saw, then the lookup's, oldest first).
    """
    listed = list(accounts)
    domain = email_domain(person.email)
    if not is_personal_domain(domain, personal_domains):
        for account in listed:
            if website_domain(account.website) == domain:
                return account
    wanted = company_key(company)
    if wanted:
        for account in listed:
            if company_key(account.name) == wanted:
                return account
    return None


def split_name(name: str | None, email: str) -> tuple[str | None, str]:
    """(FirstName, LastName): the last word is the LastName; no name → the email's local part."""
    words = (name or "").split()
    if not words:
        return None, email_local_part(email)[:LAST_NAME_MAX]
    if len(words) == 1:
        return None, words[0][:LAST_NAME_MAX]
    return " ".join(words[:-1])[:FIRST_NAME_MAX], words[-1][:LAST_NAME_MAX]


@dataclass(frozen=True)
class NewRecord:
    """One record to create for one participant."""

    person: Person
    object: str  # Contact | Lead
    fields: dict[str, str]
    account: AccountInfo | None = None

    def payload(self) -> dict[str, Any]:
        """The sObject Collections record."""
        return {"attributes": {"type": self.object}, **self.fields}


@dataclass(frozen=True)
class Skipped:
    """A participant no record is created for, and why (for the report)."""

    person: Person
    reason: str


@dataclass
class PeoplePlan:
    records: list[NewRecord] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def uncreatable(person: Person, event_company: Company | None, personal_domains: Iterable[str] = ()) -> str | None:
    """Why no Contact or Lead may be created for the person, or None when one may.

    A personal email address with no company name (the participant's, or the event's company
    when its domain is the email's) would make a Lead whose Company is the mailbox provider.
    """
    domain = email_domain(person.email)
    if is_personal_domain(domain, personal_domains) and company_name(person, event_company) is None:
        return (
            f"{person.email}: a personal email address ({domain}) and no company given, so no Contact or "
            "Lead was created; add the person in Salesforce, or send their company with the call"
        )
    return None


def creatable(
    people: Iterable[Person], event_company: Company | None, personal_domains: Iterable[str] = ()
) -> tuple[list[Person], list[Skipped]]:
    """(people a record may be created for, the others with the reason), in the given order."""
    kept: list[Person] = []
    skipped: list[Skipped] = []
    for person in people:
        reason = uncreatable(person, event_company, personal_domains)
        if reason is None:
            kept.append(person)
        else:
            skipped.append(Skipped(person, reason))
    return kept, skipped


def unmatched(
    people: Iterable[Person],
    accounts: Iterable[AccountInfo],
    event_company: Company | None,
    personal_domains: Iterable[str] = (),
) -> list[Person]:
    """The new people whose domain/company matches none of the Accounts already known."""
    known = list(accounts)
    return [p for p in people if find_account(p, company_name(p, event_company), known, personal_domains) is None]


def needs_lookup(
    people: Iterable[Person],
    accounts: Iterable[AccountInfo],
    event_company: Company | None,
    personal_domains: Iterable[str] = (),
) -> bool:
    """True when some new person's domain/company matches none of the Accounts already known."""
    return bool(unmatched(people, accounts, event_company, personal_domains))


def lookup_terms(
    people: Iterable[Person], event_company: Company | None, personal_domains: Iterable[str] = ()
) -> tuple[list[str], list[str]]:
    """(domains, company names) to look Accounts up by; personal domains excluded."""
    domains: dict[str, None] = {}
    names: dict[str, None] = {}
    for p in people:
        domain = email_domain(p.email)
        if not is_personal_domain(domain, personal_domains):
            domains.setdefault(domain, None)
        name = company_name(p, event_company)
        if name:
            names.setdefault(name, None)
    return list(domains), list(names)


def plan_people(
    people: Iterable[Person],
    accounts: Iterable[AccountInfo],
    event_company: Company | None,
    personal_domains: Iterable[str] = (),
) -> PeoplePlan:
    """A Contact (under the matching Account) or a Lead for each person who may be created, in the
    given order; the others in ``skipped`` with the reason."""
    known = list(accounts)
    kept, skipped = creatable(people, event_company, personal_domains)
    return PeoplePlan(records=[_record(p, known, event_company, personal_domains) for p in kept], skipped=skipped)


def plan_records(
    people: Iterable[Person],
    accounts: Iterable[AccountInfo],
    event_company: Company | None,
    personal_domains: Iterable[str] = (),
) -> list[NewRecord]:
    """A record for every person given (no ``uncreatable`` check: callers leave those people out
    before claiming them, as MatchOpportunity does; ``plan_people`` checks and says why)."""
    known = list(accounts)
    plan: list[NewRecord] = []
    for person in people:
        plan.append(_record(person, known, event_company, personal_domains))
    return plan


def _record(
    person: Person, accounts: list[AccountInfo], event_company: Company | None, personal_domains: Iterable[str]
) -> NewRecord:
    company = company_name(person, event_company)
    account = find_account(person, company, accounts, personal_domains)
    first, last = split_name(person.name, person.email)
    fields: dict[str, str] = {"LastName": last, "Email": person.email}
    if first:
        fields["FirstName"] = first
    if account is not None:
        return NewRecord(person, "Contact", {**fields, "AccountId": account.id}, account)
    lead_company = (company or email_domain(person.email))[:COMPANY_MAX]
    return NewRecord(person, "Lead", {**fields, "Company": lead_company})
