"""Who was on the call: the participant list cleaned up and split into internal and external.

Rules (docs/matching.md, "Participants"):

- Emails compare case-insensitively: every email is stripped and lower-cased, and a
  participant listed twice (in any case) is one person; the first non-empty name and
  company win.
- A malformed email (no single ``@``, blanks, no dot in the domain, characters SOQL or
  Salesforce would not store as an email) is skipped with a warning; it never fails the call.
- The host is a participant even when the event forgot to list them.
- Internal: the email's domain is one of ``internal_domains`` (exact domain; subdomains of an
  internal domain count too), or an *active* Salesforce User has that email. External: everyone else.
  The host follows the same rule: a meeting hosted by the customer has an external host.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from callsync.models.event import CallProcessed

# Deliberately permissive local part (apostrophes, plus, dots: o'brien+x@acme.com is valid),
# strict enough to reject what cannot be a mailbox. No spaces, quotes, commas, brackets.
_LOCAL = r"[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}"
_DOMAIN = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
_EMAIL = re.compile(rf"{_LOCAL}@{_DOMAIN}")
EMAIL_MAX = 80  # Contact.Email / Lead.Email length in Salesforce


def normalize_email(raw: str | None) -> str | None:
    """The comparable form of an email (stripped, lower-cased), or None when it is malformed."""
    if raw is None:
        return None
    email = raw.strip().lower()
    if len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email):
        return None
    local = email.split("@", 1)[0]
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return None
    return email


def email_domain(email: str) -> str:
    """The domain of a normalized email."""
    return email.rsplit("@", 1)[1]


def email_local_part(email: str) -> str:
    return email.rsplit("@", 1)[0]


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = " ".join(value.split())
    return cleaned or None


@dataclass
class Attendee:
    """One distinct participant (by lower-cased email), in the order they were first listed."""

    email: str
    name: str | None = None
    company: str | None = None
    is_host: bool = False


@dataclass
class Roster:
    """The call's distinct, valid participants and the emails that were skipped."""

    attendees: list[Attendee] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # raw malformed emails, as given
    warnings: list[str] = field(default_factory=list)

    @property
    def emails(self) -> list[str]:
        return [a.email for a in self.attendees]


def build_roster(call: CallProcessed) -> Roster:
    """Distinct valid participants, host included (added when missing, flagged ``is_host``)."""
    roster = Roster()
    by_email: dict[str, Attendee] = {}
    host = normalize_email(call.host_email)
    for participant in call.participants:
        email = normalize_email(participant.email)
        if email is None:
            roster.skipped.append(participant.email)
            roster.warnings.append(f"skipped participant with a malformed email: {participant.email!r}")
            continue
        name = _clean(participant.name)
        if name is not None and "@" in name:
            name = None  # some providers put the email in the name
        company = _clean(participant.company)
        known = by_email.get(email)
        if known is None:
            known = Attendee(email=email, name=name, company=company, is_host=email == host)
            by_email[email] = known
            roster.attendees.append(known)
        else:
            known.name = known.name or name
            known.company = known.company or company
    if host is None:
        roster.skipped.append(call.host_email)
        roster.warnings.append(f"the host's email is malformed and was skipped: {call.host_email!r}")
    elif host not in by_email:
        roster.attendees.insert(0, Attendee(email=host, is_host=True))
        roster.warnings.append(f"the host {host} was not listed among the participants; added")
    return roster


def is_internal_domain(domain: str, internal_domains: Iterable[str]) -> bool:
    """``ourco.com`` covers ``ourco.com`` and ``eu.ourco.com``, not ``notourco.com``."""
    return any(domain == d or domain.endswith("." + d) for d in internal_domains if d)


def looks_internal(attendee: Attendee, internal_domains: Iterable[str]) -> bool:
    """Internal without asking Salesforce: an internal email domain (host or not)."""
    return is_internal_domain(email_domain(attendee.email), internal_domains)


@dataclass
class Split:
    internal: list[Attendee]
    external: list[Attendee]


def split_participants(
    roster: Roster, internal_domains: Iterable[str], active_user_emails: Mapping[str, object] | Iterable[str]
) -> Split:
    """Internal (internal domain, or an active Salesforce User's email) vs external; the host too."""
    domains = [d.strip().lower() for d in internal_domains]
    users = {e.lower() for e in active_user_emails}
    internal: list[Attendee] = []
    external: list[Attendee] = []
    for attendee in roster.attendees:
        if looks_internal(attendee, domains) or attendee.email in users:
            internal.append(attendee)
        else:
            external.append(attendee)
    return Split(internal=internal, external=external)
