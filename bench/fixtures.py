"""The benchmark's orgs, settings and calls, generated in code.

Two call shapes:

- typical: 2 internal + 3 external participants (one of them new), 6 mapped fields,
  notes, one action item, logged as an Event with Shared Activities;
- large: 40 participants (4 internal, 36 external of whom 5 are new), 20 mapped fields
  (Opportunity, Account and Contact), 10 action items.

Every call has its own ``call_id`` and its own new people (``new-<shape>-<n>-<i>@...``), so
call 200 creates as many records as call 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ORG_ID = "bench"
INTERNAL_DOMAIN = "ourco.com"
CONTACTS_PER_COMPANY = 31  # enough for the large call's known people


def _id(prefix: str, n: int) -> str:
    return f"{prefix}{n:012d}AAA"


def account_id(company: int) -> str:
    return _id("001", company + 1)


def deal_id(company: int) -> str:
    return _id("006", company + 1)


def user_id(i: int) -> str:
    return _id("005", i + 1)


# (insight, object, field, field spec, value) — the mapped fields, in the order they are used.
_TEXT = {"type": "textarea", "length": 32768}
_FIELDS: list[tuple[str, str, str, dict[str, Any], Any]] = [
    ("pain", "Opportunity", "Pain__c", _TEXT, "Reps copy call notes by hand for 5 h a week."),
    ("metrics", "Opportunity", "Metrics__c", _TEXT, "Cut admin time by 4 h/rep/week."),
    ("economic_buyer", "Opportunity", "Economic_Buyer__c", {"type": "string", "length": 255}, "Maria Chen (CFO)"),
    (
        "competition",
        "Opportunity",
        "Competitors__c",
        {"type": "multipicklist", "values": ["Gong", "Chorus", "Clari"], "restricted": True},
        ["Gong", "Chorus"],
    ),
    ("next_step", "Opportunity", "NextStep", {}, "Security questionnaire, then a pilot plan"),
    ("champion", "Contact", "Champion_Notes__c", _TEXT, "Jane sponsors the rollout."),
    # The large call maps 14 more.
    ("decision_criteria", "Opportunity", "Decision_Criteria__c", _TEXT, "SOC 2, EU residency."),
    ("decision_process", "Opportunity", "Decision_Process__c", _TEXT, "Security review, pilot, CFO sign-off."),
    ("paper_process", "Opportunity", "Paper_Process__c", _TEXT, "DPA and MSA redline, about 3 weeks."),
    ("identify_pain", "Opportunity", "Implicated_Pain__c", _TEXT, "Forecasts from memory."),
    ("timeline", "Opportunity", "Timeline__c", {"type": "string", "length": 255}, "Decision by end of July"),
    ("budget", "Opportunity", "Budget__c", {"type": "currency"}, 86400),
    ("seats", "Opportunity", "Seats__c", {"type": "double"}, 120),
    ("risk", "Opportunity", "Risk__c", {"type": "picklist", "values": ["Low", "Medium", "High"]}, "Medium"),
    ("use_case", "Opportunity", "Use_Case__c", _TEXT, "Automatic call logging."),
    ("industry_notes", "Account", "Industry_Notes__c", _TEXT, "Manufacturing, 3 regions."),
    ("tech_stack", "Account", "Tech_Stack__c", _TEXT, "Salesforce, Zoom, Okta."),
    ("headcount", "Account", "Sales_Headcount__c", {"type": "double"}, 120),
    ("role_notes", "Contact", "Role_Notes__c", _TEXT, "VP Sales Ops, owns the project."),
    ("priorities", "Contact", "Priorities__c", _TEXT, "Q3 kickoff."),
]


@dataclass(frozen=True)
class CallShape:
    """How big a call is: participants, mapped fields, action items."""

    name: str
    internal: int
    existing_external: int
    new_external: int
    mapped_fields: int
    action_items: int

    @property
    def participants(self) -> int:
        return self.internal + self.existing_external + self.new_external


TYPICAL = CallShape("typical", internal=2, existing_external=2, new_external=1, mapped_fields=6, action_items=1)
LARGE = CallShape("large", internal=4, existing_external=31, new_external=5, mapped_fields=20, action_items=10)
SHAPES = {s.name: s for s in (TYPICAL, LARGE)}


def _user_email(i: int) -> str:
    return f"rep{i}@{INTERNAL_DOMAIN}"


def _domain(company: int) -> str:
    return f"company{company}.example"


def _contact_email(company: int, i: int) -> str:
    return f"person{i}@{_domain(company)}"


def org_fixture(companies: int = 1, *, extra_contacts: int = 0, extra_opportunities: int = 0) -> dict[str, Any]:
    """The org the benchmark's calls sync into (INTERFACES.md §3).

    ``companies`` customer Accounts, each with 31 known Contacts and one open deal whose
    primary contact is its person0; 4 reps. ``extra_contacts``/``extra_opportunities`` add
    unrelated records on 1,000 other Accounts (the scale run).
    """
    schema: dict[str, Any] = {}
    for _, obj, field, spec, _ in _FIELDS:
        if spec:
            schema.setdefault(obj, {"fields": {}})["fields"][field] = spec
    picklist = {"type": "picklist", "values": ["Call", "Meeting", "Discovery", "Demo"]}
    schema["Event"] = {"fields": {"Type": picklist}}
    schema["Task"] = {"fields": {"Type": picklist}}
    users = [
        {
            "Id": user_id(i),
            "FirstName": "Rep",
            "LastName": str(i),
            "Email": _user_email(i),
            "Username": _user_email(i),
            "IsActive": True,
        }
        for i in range(LARGE.internal)
    ]
    accounts, contacts, opportunities, roles = [], [], [], []
    for c in range(companies):
        accounts.append(
            {
                "Id": account_id(c),
                "Name": f"Company {c}",
                "Website": f"https://www.{_domain(c)}",
                "OwnerId": user_id(c % LARGE.internal),
            }
        )
        contacts += [
            {
                "Id": _id("003", c * CONTACTS_PER_COMPANY + i + 1),
                "FirstName": "Person",
                "LastName": str(i),
                "Email": _contact_email(c, i),
                "AccountId": account_id(c),
            }
            for i in range(CONTACTS_PER_COMPANY)
        ]
        opportunities.append(
            {
                "Id": deal_id(c),
                "Name": f"Company {c} - Rollout",
                "AccountId": account_id(c),
                "OwnerId": user_id(c % LARGE.internal),
                "StageName": "Qualification",
                "CloseDate": "2026-12-31",
                "CreatedDate": "2026-01-05T10:00:00Z",
            }
        )
        roles.append(
            {
                "OpportunityId": deal_id(c),
                "ContactId": _id("003", c * CONTACTS_PER_COMPANY + 1),
                "IsPrimary": True,
                "Role": "Decision Maker",
            }
        )
    if extra_contacts or extra_opportunities:
        filler = 1000
        accounts += [
            {"Id": _id("001", 900_000 + i), "Name": f"Filler {i}", "Website": f"https://filler{i}.example"}
            for i in range(filler)
        ]
        contacts += [
            {
                "FirstName": "F",
                "LastName": f"L{i}",
                "Email": f"f{i}@filler{i % filler}.example",
                "AccountId": _id("001", 900_000 + i % filler),
            }
            for i in range(extra_contacts)
        ]
        opportunities += [
            {
                "Name": f"Filler deal {i}",
                "AccountId": _id("001", 900_000 + i % filler),
                "StageName": "Prospecting",
                "CloseDate": "2026-12-31",
            }
            for i in range(extra_opportunities)
        ]
    return {
        "shared_activities": True,
        "api_limit": 100_000_000,
        "schema": schema,
        "records": {
            "User": users,
            "Account": accounts,
            "Contact": contacts,
            "Opportunity": opportunities,
            "OpportunityContactRole": roles,
        },
    }


def settings_fixture(shape: CallShape) -> dict[str, Any]:
    """Org settings (INTERFACES.md §2) mapping ``shape.mapped_fields`` insights; Events for video calls."""
    mappings = []
    for insight, obj, field, _, _ in _FIELDS[: shape.mapped_fields]:
        mapping: dict[str, Any] = {"insight": insight, "object": obj, "field": field}
        if field == "NextStep":
            mapping["policy"] = "overwrite"
        mappings.append(mapping)
    return {
        "org_id": ORG_ID,
        "internal_domains": [INTERNAL_DOMAIN],
        "autosync": True,
        "subject_prefix": "[callsync]",
        "field_sync": {"enabled": True, "mappings": mappings},
        "activity_sync": {"enabled": True, "mode": "smart"},
        "contact_creation": {"enabled": True},
        "notes_sync": {"enabled": True},
        "task_sync": {"enabled": True},
        "account_link_field": None,
    }


def call_event(shape: CallShape, n: int, company: int = 0) -> dict[str, Any]:
    """Call ``n`` of ``shape`` with ``company`` (INTERFACES.md §1): its own call_id, its own new people."""
    day = 1 + n % 28
    participants = [{"email": _user_email(i), "name": f"Rep {i}", "company": "OurCo"} for i in range(shape.internal)]
    participants += [
        {"email": _contact_email(company, i), "name": f"Person {i}", "company": f"Company {company}"}
        for i in range(shape.existing_external)
    ]
    participants += [
        {
            "email": f"new-{shape.name}-{n}-{i}@{_domain(company)}",
            "name": f"New{n} Person{i}",
            "company": f"Company {company}",
        }
        for i in range(shape.new_external)
    ]
    insights = {insight: value for insight, _, _, _, value in _FIELDS[: shape.mapped_fields]}
    action_items = [
        {
            "text": f"Follow-up {i + 1} of call {n}",
            "assignee_email": _user_email(i % shape.internal),
            "due_date": f"2026-07-{day:02d}",
        }
        for i in range(shape.action_items)
    ]
    return {
        "schema_version": 1,
        "org_id": ORG_ID,
        "call_id": f"bench-{shape.name}-{n}",
        "revision": 1,
        "title": f"Company {company} x OurCo - {shape.name} call {n}",
        "started_at": f"2026-06-{day:02d}T15:00:00Z",
        "duration_seconds": 1800,
        "medium": "video",
        "source": "zoom",
        "host_email": _user_email(0),
        "participants": participants,
        "call_type": "Discovery",
        "summary": "The customer wants every sales call logged in Salesforce automatically.",
        "key_points": ["120 reps", "Pilot in July"],
        "insights": insights,
        "action_items": action_items,
        "notes": "Person 0 leads the project; Person 1 asked about EU data residency.",
        "call_url": f"https://app.callsync.example/calls/bench-{shape.name}-{n}",
        "company": {"name": f"Company {company}", "domain": _domain(company)},
    }
