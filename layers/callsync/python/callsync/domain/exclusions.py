"""Calls that must not reach Salesforce (settings ``exclusions``, docs/activity-sync.md "Excluded calls").

Checked by the consumer before any execution starts, so an excluded call writes nothing and costs no
Salesforce request. The first rule that applies gives the reason, in this order:

1. ``private``: the event is marked ``private`` upstream.
2. ``title_keywords``: the title contains one of the words (case-insensitive, blanks collapsed).
3. ``domains``: a participant's email is at one of the domains or a subdomain of it.
4. ``internal_only``: no participant is outside ``internal_domains``. Decided from the settings
   alone, before Salesforce is asked (a participant outside those domains counts as external here,
   even when a Salesforce User has that email); participants with a malformed email do not count.
"""

from __future__ import annotations

from callsync.domain.participants import build_roster, email_domain, is_internal_domain
from callsync.models.event import CallProcessed
from callsync.models.settings import OrgSettings


def exclusion_reason(call: CallProcessed, settings: OrgSettings) -> str | None:
    """Why the call is excluded, in an admin's words; None when it goes on."""
    rules = settings.exclusions
    if rules.private and call.private:
        return "excluded: the call is marked private"
    title = " ".join(call.title.split()).casefold()
    for keyword in rules.title_keywords:
        if keyword.casefold() in title:
            return f"excluded: the title contains {keyword!r} (exclusions.title_keywords)"
    emails = build_roster(call).emails
    if rules.domains:
        for email in emails:
            if is_internal_domain(email_domain(email), rules.domains):
                return f"excluded: participant {email} is at an excluded domain (exclusions.domains)"
    if rules.internal_only and emails:
        internal = settings.internal_domain_set
        if all(is_internal_domain(email_domain(email), internal) for email in emails):
            domains = ", ".join(sorted(internal)) or "(none)"
            return (
                f"excluded: internal-only call, every participant is at an internal domain ({domains}); "
                "set exclusions.internal_only to false to sync such calls"
            )
    return None
