"""DealContextService with a fake reader: rules at ``at``, given ids, prep fields, emails, permissions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from callsync.domain.matching import ContactRow, LeadRow, MatchInput, RoleRow, UserRow
from callsync.errors import MissingPermission
from callsync.models.match import AccountInfo, OpportunityInfo
from callsync.models.read_side import DealContextRequest
from callsync.models.settings import OrgSettings
from callsync.ports.deal_context import ContextRead, ContextReadPlan
from callsync.ports.match import MatchRead
from callsync.services.deal_context import DealContextService
from read_side_fakes import describe

from tests.support.fakes import FakeDescribeSource, FakeSettingsStore

ORG = "acme"
AT = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
ACC = AccountInfo(id="001G", name="Globex")
OPEN = OpportunityInfo(id="006OPEN", name="Rollout", account_id="001G", stage_name="Qualification",
                       created_date=datetime(2026, 5, 1, tzinfo=UTC), account=ACC)  # fmt: skip
OTHER = OpportunityInfo(id="006OTHER", name="Pilot", account_id="001G", is_closed=True, stage_name="Closed Lost",
                        close_date="2025-11-14", created_date=datetime(2025, 9, 1, tzinfo=UTC),
                        account=ACC)  # fmt: skip
JANE = ContactRow(id="003J", email="jane@globex.com", name="Jane Doe", account=ACC)

DESCRIBES: dict[str, Any] = {
    "Contact": describe("Contact", "Id", "Email", ("Title", "string", "Title")),
    "Opportunity": describe("Opportunity", "Id", "Name", ("StageName", "picklist", "Stage"),
                            ("Amount", "currency", "Amount")),
    "OpportunityContactRole": describe("OpportunityContactRole", "Id"),
    "Account": describe("Account", "Id", "Name", ("Industry", "picklist", "Industry")),
    "Lead": describe("Lead", "Id", "Email"),
    "User": describe("User", "Id", "Email"),
    "EmailMessage": describe("EmailMessage", "Id", "Subject", "FromAddress", "FromName", "ToAddress", "CcAddress",
                             ("MessageDate", "datetime", "Message Date"), ("Incoming", "boolean", "Is Incoming"),
                             ("TextBody", "textarea", "Text Body"), "RelatedToId"),
    "EmailMessageRelation": describe("EmailMessageRelation", "Id", "EmailMessageId", "RelationId", "RelationAddress",
                                     "RelationObjectType"),
}  # fmt: skip


def email(id_: str, when: str, body: str = "hello") -> dict[str, Any]:
    return {"Id": id_, "Subject": f"subject {id_}", "FromAddress": "jane@globex.com", "ToAddress": "al@ourco.com",
            "MessageDate": when, "Incoming": True, "TextBody": body}  # fmt: skip


class FakeContextReader:
    """Answers like the Salesforce reader would for a fixed org; records the plans it was given."""

    def __init__(self) -> None:
        self.plans: list[ContextReadPlan] = []
        self.opportunity_email_calls: list[str] = []
        self.opportunities = [OPEN, OTHER]
        self.emails_by_parent: dict[str, list[dict[str, Any]]] = {
            "006OPEN": [email("e-opp-1", "2026-11-18T09:00:00.000+0000", "x" * 50),
                        email("e-opp-old", "2026-01-01T09:00:00.000+0000")],
            "006OTHER": [email("e-other", "2026-11-24T09:00:00.000+0000")],
            "001G": [email("e-acc", "2026-11-10T09:00:00.000+0000")],
            "003J": [email("e-con", "2026-11-20T09:00:00.000+0000")],
        }  # fmt: skip
        self.email_parents = {"006OPEN", "006OTHER", "001G", "003J"}
        self.extra_emails: list[dict[str, Any]] = []

    def read_context(self, plan: ContextReadPlan) -> ContextRead:
        self.plans.append(plan)
        data = MatchInput(
            started_at=plan.query.started_at,
            users=[UserRow(id="005A", email="al@ourco.com", name="Al")],
            contacts=[JANE],
            leads=[LeadRow(id="00QL", email="lee@startup.io", name="Lee", company="Startup")],
            roles=[RoleRow(opportunity_id="006OPEN", contact_id="003J", is_primary=True)],
            opportunities=list(self.opportunities),
        )
        values = {"003J": {"Title": "VP Sales"}, "006OPEN": {"StageName": "Qualification", "Amount": 86400},
                  "001G": {"Industry": "Manufacturing"}}  # fmt: skip
        wanted = {*plan.query.fields.opportunity, *plan.query.fields.account, *plan.query.fields.contact}
        values = {k: {f: v for f, v in row.items() if f in wanted} for k, row in values.items()}
        return ContextRead(
            match=MatchRead(data=data, values=values),
            accounts=[{"Id": "001G", "Name": "Globex"}],
            emails_by_parent={
                k: list(v) for k, v in self.emails_by_parent.items() if plan.contact_emails or not k.startswith("003")
            }
            if plan.emails
            else {},
            email_parents=set(self.email_parents) if plan.emails else set(),
        )

    def opportunity_emails(self, plan: ContextReadPlan, opportunity_id: str) -> list[dict[str, Any]]:
        self.opportunity_email_calls.append(opportunity_id)
        return list(self.extra_emails)


def make(settings: dict[str, Any] | None = None, describes: dict[str, Any] | None = None,
         reader: FakeContextReader | None = None) -> tuple[DealContextService, FakeContextReader]:  # fmt: skip
    item = OrgSettings.model_validate({
        "org_id": ORG, "internal_domains": ["ourco.com"],
        "prep_fields": ["Opportunity.StageName", "Opportunity.Amount", "Account.Industry", "Contact.Title"],
        "email_context": {"enabled": True, "days": 90, "max": 20}, **(settings or {}),
    })  # fmt: skip
    reader = reader or FakeContextReader()
    service = DealContextService(FakeSettingsStore([item]), reader, FakeDescribeSource(describes or DESCRIBES),
                                 instance_url=lambda: "https://acme.my.salesforce.com", api_requests=lambda: 1,
                                 clock=lambda: AT)  # fmt: skip
    return service, reader


def request(**kwargs: Any) -> DealContextRequest:
    return DealContextRequest.model_validate({
        "org_id": ORG, "participants": [{"email": "Jane@Globex.com"}, {"email": "al@ourco.com"},
                                        {"email": "lee@startup.io"}, {"email": "not an email"}], **kwargs})  # fmt: skip


def test_the_rules_choose_the_opportunity_at_the_given_time():
    # Given Jane is primary contact on an open Opportunity created in May
    service, reader = make()
    # When the context is asked for a meeting in November
    context = service.run(request(at="2026-11-25T15:00:00Z"))
    # Then the rules ran at that time over the external participants only, and chose it through the primary role
    plan = reader.plans[0]
    assert plan.query.started_at == AT
    assert set(plan.query.external_emails) == {"jane@globex.com", "lee@startup.io"}
    assert context.opportunity is not None and context.opportunity.id == "006OPEN"
    assert (context.match.how, context.match.link, context.match.tier) == ("rules", "primary", 1)
    assert context.account is not None and context.account.id == "001G"
    assert context.opportunity_url == "https://acme.my.salesforce.com/lightning/r/Opportunity/006OPEN/view"
    assert [(c.id, c.is_primary) for c in context.contacts] == [("003J", True)]
    assert [lead.id for lead in context.leads] == ["00QL"]
    assert any("malformed" in w for w in context.warnings)


def test_a_meeting_long_before_the_deal_existed_matches_no_opportunity():
    service, _ = make()
    context = service.run(request(at="2026-01-05T10:00:00Z"))
    assert context.opportunity is None and context.match.tier is None


def test_prep_fields_come_with_labels_and_values_and_hidden_ones_warn():
    # Given prep fields, one hidden, one on an unsupported object
    service, reader = make({"prep_fields": ["Opportunity.StageName", "Opportunity.Amount", "Opportunity.Secret__c",
                                            "Account.Industry", "Contact.Title", "Lead.Status"]})  # fmt: skip
    context = service.run(request())
    # Then the visible ones are read along with the records, with their labels
    assert reader.plans[0].query.fields.opportunity == ("StageName", "Amount")
    assert [(f.path, f.label, f.value) for f in context.fields] == [
        ("Opportunity.StageName", "Stage", "Qualification"), ("Opportunity.Amount", "Amount", 86400),
        ("Account.Industry", "Industry", "Manufacturing"),
    ]  # fmt: skip
    assert [(f.label, f.value) for f in context.contacts[0].fields] == [("Title", "VP Sales")]
    # And the hidden one is absent with the fix, the unsupported one is named
    assert any("Opportunity.Secret__c is not visible" in w and "Set Field-Level Security" in w
               for w in context.warnings)  # fmt: skip
    assert any("'Lead.Status'" in w for w in context.warnings)


def test_emails_are_the_matched_records_recent_ones_newest_first_trimmed():
    service, reader = make({"email_context": {"enabled": True, "days": 30, "max": 3}})
    context = service.run(request(body_chars=10))
    # Then emails of the Opportunity, the Account and Jane, within 30 days, newest first, at most 3
    assert [(e.id, e.related_to) for e in context.emails] == [
        ("e-con", "contact"),
        ("e-opp-1", "opportunity"),
        ("e-acc", "account"),
    ]
    assert context.emails[1].text_body == "x" * 9 + "…" and context.emails[1].truncated
    assert reader.plans[0].emails is not None and reader.plans[0].emails.max == 3
    assert reader.opportunity_email_calls == []  # they came with the one composite


def test_emails_of_an_opportunity_outside_the_composite_cost_one_more_query():
    # Given the chosen Opportunity was not read with the Emails subquery (a role on another Account)
    reader = FakeContextReader()
    reader.email_parents.discard("006OPEN")
    reader.emails_by_parent.pop("006OPEN")
    reader.extra_emails = [email("e-late", "2026-11-21T09:00:00.000+0000")]
    service, _ = make(reader=reader)
    context = service.run(request())
    assert reader.opportunity_email_calls == ["006OPEN"]
    assert context.emails[0].id == "e-late"


def test_email_context_off_reads_no_emails():
    service, reader = make({"email_context": {"enabled": False}})
    context = service.run(request())
    assert reader.plans[0].emails is None and context.emails == []


def test_unreadable_email_messages_leave_emails_out_with_the_fix():
    describes = {k: v for k, v in DESCRIBES.items() if k != "EmailMessage"}
    service, reader = make(describes=describes)
    context = service.run(request())
    assert reader.plans[0].emails is None and context.emails == []
    assert any("EmailMessage is not readable" in w and "Object Settings → EmailMessage" in w
               for w in context.warnings)  # fmt: skip


def test_a_hidden_text_body_is_not_selected_and_emails_come_without_it():
    describes = dict(DESCRIBES)
    describes["EmailMessage"] = describe("EmailMessage", "Id", "Subject", ("MessageDate", "datetime", "Date"))
    service, reader = make(describes=describes)
    context = service.run(request())
    assert reader.plans[0].emails is not None and "TextBody" not in reader.plans[0].emails.fields
    assert any("EmailMessage.TextBody" in w for w in context.warnings)
    assert context.emails  # still there, without what cannot be read


def test_unreadable_leads_and_users_are_not_looked_up():
    describes = {k: v for k, v in DESCRIBES.items() if k not in ("Lead", "User")}
    service, reader = make(describes=describes)
    context = service.run(request())
    assert (reader.plans[0].leads, reader.plans[0].users) == (False, False)
    assert sum("not looked up" in w for w in context.warnings) == 2


def test_an_unreadable_core_object_is_a_missing_permission():
    describes = {k: v for k, v in DESCRIBES.items() if k != "Contact"}
    service, _ = make(describes=describes)
    with pytest.raises(MissingPermission, match="Contact is not readable"):
        service.run(request())


def test_a_given_opportunity_wins_over_the_rules():
    service, reader = make()
    context = service.run(request(opportunity_id="006OTHER"))
    assert reader.plans[0].opportunity_id == "006OTHER"
    assert context.opportunity is not None and context.opportunity.id == "006OTHER"
    assert context.match.how == "given" and context.account is not None and context.account.id == "001G"
    assert [e.id for e in context.emails if e.related_to == "opportunity"] == ["e-other"]


def test_a_given_opportunity_that_is_not_there_is_a_warning():
    service, _ = make()
    context = service.run(request(opportunity_id="006NOPE"))
    assert context.opportunity is None and any("006NOPE was not found" in w for w in context.warnings)


def test_a_given_account_limits_the_candidates_to_it():
    reader = FakeContextReader()
    reader.opportunities = [OPEN.model_copy(update={"account_id": "001X"}), OTHER]
    service, _ = make(reader=reader)
    context = service.run(request(account_id="001G"))
    assert context.opportunity is None  # the open one belongs to another Account; the other is not eligible
    assert context.account is not None and context.account.id == "001G"


def test_contacts_emails_come_through_email_message_relation_when_it_is_readable():
    service, reader = make()
    context = service.run(request())
    assert reader.plans[0].contact_emails is True
    assert ("e-con", "contact") in [(e.id, e.related_to) for e in context.emails]


def test_unreadable_email_message_relation_leaves_the_contacts_emails_out_with_a_warning():
    # Given EmailMessageRelation is not readable, or one of its fields is hidden
    hidden = dict(DESCRIBES)
    hidden["EmailMessageRelation"] = describe("EmailMessageRelation", "Id", "EmailMessageId", "RelationId",
                                              "RelationObjectType")  # fmt: skip
    for describes, expected in (({k: v for k, v in DESCRIBES.items() if k != "EmailMessageRelation"},
                                 "EmailMessageRelation is not readable"),
                                (hidden, "EmailMessageRelation.RelationAddress")):  # fmt: skip
        service, reader = make(describes=describes)
        # When the context is asked
        context = service.run(request())
        # Then the Contacts' emails are not read, the others are, and a warning says why
        assert reader.plans[0].contact_emails is False
        assert [e.related_to for e in context.emails] and "contact" not in [e.related_to for e in context.emails]
        assert any(expected in w and "Contacts' emails are not read" in w for w in context.warnings), expected
