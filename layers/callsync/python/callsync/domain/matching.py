"""Which Opportunity (and Account, Contacts, Leads, Users) a call belongs to.

Pure rules over what MatchOpportunity read from Salesforce (docs/matching.md):

1. The external participants' emails are matched to Contacts (then Leads).
2. Candidates are the Opportunities tied to those Contacts through an
   OpportunityContactRole: linked as ``primary`` when a participant is the role's
   Primary contact, else ``role``. Only when no Opportunity at all is tied to
   them do the Opportunities of those Contacts' Accounts become candidates
   (linked as ``account``): a contact role, even on an old closed deal, says
   which deals the person belongs to, so an untied deal is not guessed instead.
3. Timing tiers, highest first: 1 = existed before the call and open; 2 = existed
   before the call and closed on the call's day (UTC); 3 = created within 14 days
   after the call. Anything else is not eligible.
   Tie-break inside a tier: link (primary > role > account), then the latest
   LastActivityDate (none = oldest), then the latest LastModifiedDate, then the
   latest CreatedDate, then the smallest Id (so the choice is always the same).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from callsync.domain.participants import Attendee, Roster, split_participants
from callsync.models.match import AccountInfo, MatchResult, OpportunityInfo, Person

Link = Literal["primary", "role", "account"]
NEW_DEAL_WINDOW = timedelta(days=14)
_LINK_RANK: dict[str, int] = {"primary": 0, "role": 1, "account": 2}
_TIER_TEXT = {
    1: "open before the call",
    2: "closed on the call's day",
    3: "created within 14 days after the call",
}


@dataclass(frozen=True)
class UserRow:
    id: str
    email: str
    name: str | None = None


@dataclass(frozen=True)
class ContactRow:
    id: str
    email: str
    name: str | None = None
    account: AccountInfo | None = None
    last_modified_date: datetime | None = None

    @property
    def account_id(self) -> str | None:
        return self.account.id if self.account else None


@dataclass(frozen=True)
class LeadRow:
    id: str
    email: str
    name: str | None = None
    company: str | None = None
    last_modified_date: datetime | None = None


@dataclass(frozen=True)
class RoleRow:
    """An OpportunityContactRole of one of the call's Contacts."""

    opportunity_id: str
    contact_id: str
    is_primary: bool = False
    role: str | None = None


@dataclass
class MatchInput:
    """Everything the rules need, as read from Salesforce (any order; duplicates allowed)."""

    started_at: datetime
    users: list[UserRow] = field(default_factory=list)  # active Users with a participant's email
    contacts: list[ContactRow] = field(default_factory=list)
    leads: list[LeadRow] = field(default_factory=list)  # not converted
    roles: list[RoleRow] = field(default_factory=list)  # OCRs of those Contacts
    opportunities: list[OpportunityInfo] = field(default_factory=list)  # tied + the Accounts' ones


@dataclass(frozen=True)
class Candidate:
    opportunity: OpportunityInfo
    link: Link
    tier: int | None


def timing_tier(opportunity: OpportunityInfo, started_at: datetime) -> int | None:
    """1 open before the call, 2 closed on the call's (UTC) day, 3 created ≤14 days after, else None.

    An Opportunity without CreatedDate is taken as existing before the call.
    "Open"/"closed" is the Opportunity's state now, as read.
    """
    start = started_at.astimezone(UTC)
    created = opportunity.created_date.astimezone(UTC) if opportunity.created_date else None
    if created is None or created <= start:
        if not opportunity.is_closed:
            return 1
        if opportunity.close_date == start.date().isoformat():
            return 2
        return None
    if created <= start + NEW_DEAL_WINDOW:
        return 3
    return None


def _desc_text(value: str | None) -> tuple[int, str]:
    """Sort helper: present values first, latest first (ISO dates sort as text)."""
    if not value:
        return (1, "")
    return (0, "".join(chr(0x10FFFF - ord(c)) for c in value))


def _desc_time(value: datetime | None) -> tuple[int, float]:
    return (1, 0.0) if value is None else (0, -value.timestamp())


def candidate_key(candidate: Candidate) -> tuple[object, ...]:
    """Order of preference: tier, link, latest activity, latest modification, latest creation, Id."""
    opp = candidate.opportunity
    return (
        candidate.tier if candidate.tier is not None else 99,
        _LINK_RANK[candidate.link],
        _desc_text(opp.last_activity_date),
        _desc_time(opp.last_modified_date),
        _desc_time(opp.created_date),
        opp.id,
    )


def best_candidate(candidates: Iterable[Candidate]) -> Candidate | None:
    eligible = [c for c in candidates if c.tier is not None]
    return min(eligible, key=candidate_key) if eligible else None


def _pick_contact(rows: list[ContactRow], prefer: Mapping[str, int]) -> ContactRow:
    """Several Contacts share an email: the one the chosen Opportunity/Account prefers, then the most
    recently modified, then the smallest Id."""
    return min(
        rows,
        key=lambda r: (prefer.get(r.id, 9), _desc_time(r.last_modified_date), r.id),
    )


def _display(name: str | None, email: str) -> str:
    return name or email


@dataclass
class _Resolved:
    contacts_by_email: dict[str, list[ContactRow]]
    leads_by_email: dict[str, LeadRow]


def _index(data: MatchInput) -> _Resolved:
    contacts: dict[str, list[ContactRow]] = {}
    seen: set[str] = set()
    for row in data.contacts:
        if row.id in seen:
            continue
        seen.add(row.id)
        contacts.setdefault(row.email.lower(), []).append(row)
    leads: dict[str, LeadRow] = {}
    for lead in data.leads:
        key = lead.email.lower()
        known = leads.get(key)
        if known is None or (_desc_time(lead.last_modified_date), lead.id) < (
            _desc_time(known.last_modified_date),
            known.id,
        ):
            leads[key] = lead
    return _Resolved(contacts, leads)


def match_call(
    roster: Roster, internal_domains: Iterable[str], data: MatchInput, assignee_emails: Iterable[str] = ()
) -> MatchResult:
    """Apply the participant and association rules; current values, candidates and report are left empty.

    ``assignee_emails``: the action items' assignees (normalized); the active Users among them who
    were not on the call are listed in ``assignees``.
    """
    users = {u.email.lower(): u for u in sorted(data.users, key=lambda u: u.id)}
    split = split_participants(roster, internal_domains, users)
    index = _index(data)
    external_contacts = {
        a.email: index.contacts_by_email[a.email] for a in split.external if a.email in index.contacts_by_email
    }
    contact_ids = {row.id: email for email, rows in external_contacts.items() for row in rows}
    opportunities = {o.id: o for o in data.opportunities}

    # Step 2: candidates tied through contact roles.
    tied: dict[str, Link] = {}
    primary_of: dict[str, list[str]] = {}  # opportunity id -> Contact ids (on the call) primary on it
    role_contacts: dict[str, set[str]] = {}
    for role in data.roles:
        if role.contact_id not in contact_ids or role.opportunity_id not in opportunities:
            continue
        role_contacts.setdefault(role.opportunity_id, set()).add(role.contact_id)
        if role.is_primary:
            primary_of.setdefault(role.opportunity_id, []).append(role.contact_id)
            tied[role.opportunity_id] = "primary"
        else:
            tied.setdefault(role.opportunity_id, "role")
    tied_candidates = [
        Candidate(opportunities[i], link, timing_tier(opportunities[i], data.started_at)) for i, link in tied.items()
    ]
    chosen = best_candidate(tied_candidates)
    pool = tied_candidates
    account_ids = {row.account_id for rows in external_contacts.values() for row in rows if row.account_id}
    if chosen is None:  # no deal tied through a contact role is eligible (or none exists): the Accounts' deals
        account_candidates = [
            Candidate(o, "account", timing_tier(o, data.started_at))
            for o in opportunities.values()
            if o.id not in tied and o.account_id in account_ids
        ]
        chosen = best_candidate(account_candidates)
        pool = tied_candidates + account_candidates
    opportunity = chosen.opportunity if chosen else None

    # Which Contact stands for each email, now that the Opportunity is known.
    prefer: dict[str, int] = {}
    if opportunity is not None:
        for cid in primary_of.get(opportunity.id, []):
            prefer[cid] = 0
        for cid in role_contacts.get(opportunity.id, set()):
            prefer.setdefault(cid, 1)
        for rows in external_contacts.values():
            for row in rows:
                if opportunity.account_id and row.account_id == opportunity.account_id:
                    prefer.setdefault(row.id, 2)
    chosen_contact = {email: _pick_contact(rows, prefer) for email, rows in external_contacts.items()}

    # Account: the Opportunity's, else the one most external Contacts belong to (first listed on a tie).
    accounts: dict[str, AccountInfo] = {}
    for row in chosen_contact.values():
        if row.account is not None:
            accounts.setdefault(row.account.id, row.account)
    for rows in external_contacts.values():
        for row in rows:
            if row.account is not None:
                accounts.setdefault(row.account.id, row.account)
    for opp in opportunities.values():
        if opp.account is not None:
            accounts.setdefault(opp.account.id, opp.account)
    account: AccountInfo | None = None
    account_note = ""
    if opportunity is not None and opportunity.account_id:
        account = accounts.get(opportunity.account_id) or AccountInfo(id=opportunity.account_id)
    else:
        ordered = [chosen_contact[a.email].account_id for a in split.external if a.email in chosen_contact]
        counts = Counter(a for a in ordered if a)
        if counts:
            top = max(counts.values())
            winner = next(a for a in ordered if a and counts[a] == top)
            account = accounts[winner]
            account_note = f"{top} of {len(ordered)} external contacts"

    # People.
    def person(a: Attendee) -> Person:
        if a.email in chosen_contact:
            row = chosen_contact[a.email]
            return Person(
                email=a.email,
                name=row.name or a.name,
                company=a.company,
                object="Contact",
                id=row.id,
                account_id=row.account_id,
                is_host=a.is_host,
            )
        lead = index.leads_by_email.get(a.email)
        if lead is not None:
            return Person(
                email=a.email,
                name=lead.name or a.name,
                company=lead.company or a.company,
                object="Lead",
                id=lead.id,
                is_host=a.is_host,
            )
        return Person(email=a.email, name=a.name, company=a.company, is_host=a.is_host)

    internal = []
    for a in split.internal:
        user = users.get(a.email)
        internal.append(
            Person(
                email=a.email,
                name=(user.name if user else None) or a.name,
                company=a.company,
                object="User" if user else None,
                id=user.id if user else None,
                is_host=a.is_host,
            )
        )
    external = [person(a) for a in split.external]
    contact_people = [p for p in external if p.object == "Contact"]
    primary: Person | None = None
    if opportunity is not None and chosen is not None and chosen.link == "primary":
        primary_ids = set(primary_of.get(opportunity.id, []))
        primary = next((p for p in contact_people if p.id in primary_ids), None)
    if primary is None and contact_people:
        primary = contact_people[0]
    host = next((p for p in internal if p.is_host), None)

    on_call = set(roster.emails)
    wanted = dict.fromkeys(e for e in assignee_emails if e not in on_call)
    assignees = [Person(email=e, name=users[e].name, object="User", id=users[e].id) for e in wanted if e in users]

    result = MatchResult(
        assignees=assignees,
        internal=internal,
        external=external,
        skipped_emails=list(roster.skipped),
        host_user_id=host.id if host else None,
        opportunity=opportunity,
        account=account,
        primary_contact=primary,
        contacts=[p for p in contact_people if primary is None or p.id != primary.id],
        leads=[p for p in external if p.object == "Lead"],
        unknown=[p for p in external if p.object is None],
        accounts_seen=list(accounts.values()),
        link=chosen.link if chosen else None,
        tier=chosen.tier if chosen else None,
        candidates=len(pool),
    )
    role_holder = None
    if opportunity is not None:
        holders = role_contacts.get(opportunity.id, set())
        role_holder = next((p for p in contact_people if p.id in holders), None)
    result.reason = explain(result, chosen, pool, account_note, role_holder)
    return result


def explain(
    result: MatchResult,
    chosen: Candidate | None,
    pool: list[Candidate],
    account_note: str = "",
    role_holder: Person | None = None,
) -> str:
    """The one-line reason shown in the report and the ledger."""
    others = len(pool) - 1
    if chosen is not None and result.opportunity is not None:
        opp = result.opportunity
        title = opp.name or opp.id
        primary = result.primary_contact
        if chosen.link == "primary" and primary is not None:
            why = f"{_display(primary.name, primary.email)} is its primary contact"
        elif chosen.link == "role" and role_holder is not None:
            why = f"{_display(role_holder.name, role_holder.email)} has a contact role on it"
        else:
            account_name = (result.account.name if result.account else None) or opp.account_id or "?"
            why = f"an opportunity of {account_name}, the participants' account (no contact role)"
        tail = f"; {_TIER_TEXT[chosen.tier or 0]}"
        if others > 0:
            tail += f" (chosen over {others} other candidate{'s' if others > 1 else ''})"
        return f"{title}: {why}{tail}"
    if not result.external:
        base = "No opportunity: no external participants"
    elif not any(p.object == "Contact" for p in result.external):
        base = "No opportunity: no external participant is a Salesforce Contact"
    elif pool:
        base = (
            f"No opportunity: none of the {len(pool)} candidate(s) is open, closed on the call's day "
            "or created within 14 days after it"
        )
    else:
        base = "No opportunity: the participants' Contacts have no opportunity"
    if result.account is not None:
        base += f"; account {result.account.name or result.account.id}"
        if account_note:
            base += f" ({account_note})"
    return base


def apply_association(
    result: MatchResult,
    target: tuple[str, str],
    source: str,
    opportunity: OpportunityInfo | None,
    account: AccountInfo | None,
) -> str | None:
    """Make an explicit association (``domain.association``) win over the automatic match in ``result``.

    ``target``: ("Opportunity" | "Account", id); ``opportunity`` / ``account``: those records as read by id
    (None: the id does not exist or the integration user cannot see it). An Opportunity brings its Account.
    An Account keeps the automatic Opportunity only when it belongs to that Account (else none).
    Returns a warning when the chosen record was not found: the automatic match then stands.
    """
    obj, record_id = target
    found = opportunity if obj == "Opportunity" else account
    if found is None:
        return (
            f"{source}: {obj} {record_id} does not exist or is not visible to the integration user; "
            "the call was matched automatically instead"
        )
    automatic = result.opportunity
    if opportunity is not None and obj == "Opportunity":
        result.opportunity = opportunity
        result.account = account or (AccountInfo(id=opportunity.account_id) if opportunity.account_id else None)
        title = opportunity.name or opportunity.id
    else:
        result.account = account
        if automatic is not None and automatic.account_id != record_id:
            result.opportunity = None
        title = (account.name if account else None) or record_id
    result.link, result.tier, result.candidates = None, None, 1
    if account is not None and all(a.id != account.id for a in result.accounts_seen):
        result.accounts_seen.append(account)
    result.reason = f"{title}: chosen by hand ({source})"
    if obj == "Account" and result.opportunity is not None:
        result.reason += f"; opportunity {result.opportunity.name or result.opportunity.id} of that account"
    return None
