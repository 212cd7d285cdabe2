"""DealContext: what Salesforce knows about an upcoming meeting or a processed call.

For prep sheets and summaries (docs/read-side.md, "Deal context"): the matched Account
and Opportunity (the MatchOpportunity rules of ``domain.matching`` evaluated at ``at``,
or the ids given), the Contacts and Leads found, the ``prep_fields`` values with their
labels, and the recent EmailMessages related to the Opportunity, the Account or the
Contacts (``email_context``).

Budget: one composite request per 20 participants (warm describes), two with email context on
(the Contacts' emails, through EmailMessageRelation, are a sixth query); one more query only
when the chosen Opportunity was reached through a contact role outside the Account pool
(its emails were not in the composite). Fields and objects the integration user cannot
read are left out with a warning carrying the fix (``domain.permissions``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import TypeAdapter

from callsync.domain.deal_context import PrepPath, newest_emails, parse_prep_fields, trim_body
from callsync.domain.matching import match_call
from callsync.domain.participants import Attendee, Roster, looks_internal, normalize_email
from callsync.domain.permissions import Feature, check_field, check_object
from callsync.errors import MissingPermission
from callsync.models.describe import ObjectDescribe
from callsync.models.ledger import record_url
from callsync.models.match import AccountInfo, MatchResult, Person
from callsync.models.read_side import (
    ContextEmail,
    ContextPerson,
    DealContext,
    DealContextRequest,
    MatchSummary,
    PrepField,
)
from callsync.models.settings import OrgSettings
from callsync.ports import DescribeSource, SettingsStore
from callsync.ports.deal_context import ContextRead, ContextReader, ContextReadPlan, EmailPlan
from callsync.ports.match import MappedFields, MatchQuery

CORE_OBJECTS = ("Contact", "Opportunity", "OpportunityContactRole", "Account")
OPTIONAL_OBJECTS = ("Lead", "User", "EmailMessage", "EmailMessageRelation")
PREP_OBJECTS = ("Opportunity", "Account", "Contact")
EMAIL_FIELDS = ("Id", "Subject", "FromAddress", "FromName", "ToAddress", "CcAddress", "MessageDate", "Incoming",
                "TextBody", "RelatedToId")  # fmt: skip
RELATION_FIELDS = ("EmailMessageId", "RelationId", "RelationAddress", "RelationObjectType")  # Contact emails
_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


@dataclass
class DealContextService:
    settings: SettingsStore
    reader: ContextReader
    describes: DescribeSource
    instance_url: Callable[[], str] = lambda: ""
    api_requests: Callable[[], int] = lambda: 0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def run(self, request: DealContextRequest) -> DealContext:
        settings = self.settings.get(request.org_id)
        at = (request.at or self.clock()).astimezone(UTC)
        warnings: list[str] = []
        roster = _roster(request, warnings)
        found = self.describes.describe([*CORE_OBJECTS, *OPTIONAL_OBJECTS, *_prep_objects(settings)])
        for name in CORE_OBJECTS:
            check = check_object(Feature.CORE_READ, name, found.get(name), "read")
            if not check.ok:
                raise MissingPermission(check.message, code="INSUFFICIENT_ACCESS")
        readable = {
            n: check_object(Feature.CORE_READ, n, found.get(n), "read", blocking=False) for n in OPTIONAL_OBJECTS
        }
        for name in ("Lead", "User"):
            if not readable[name].ok:
                warnings.append(f"{readable[name].message} ({name} records are not looked up)")
        prep, mapped = _prep_fields(settings, found, warnings)
        emails = self._email_plan(settings, at, found.get("EmailMessage"), readable["EmailMessage"].ok, warnings)
        domains = settings.internal_domain_set
        plan = ContextReadPlan(
            query=MatchQuery(
                emails=tuple(roster.emails),
                external_emails=tuple(a.email for a in roster.attendees if not looks_internal(a, domains)),
                started_at=at,
                fields=mapped,
            ),
            emails=emails,
            opportunity_id=request.opportunity_id,
            account_id=request.account_id,
            users=readable["User"].ok,
            leads=readable["Lead"].ok,
            contact_emails=emails is not None and _relations_readable(found.get("EmailMessageRelation"), warnings),
        )
        read = self.reader.read_context(plan)
        data = read.match.data
        if request.account_id and not request.opportunity_id:
            data.opportunities = [o for o in data.opportunities if o.account_id == request.account_id]
        result = match_call(roster, domains, data)
        how: Literal["rules", "given"] = "rules"
        if request.opportunity_id or request.account_id:
            how = "given"
            self._apply_given(request, result, read, warnings)
        context = DealContext(
            org_id=request.org_id,
            at=at,
            opportunity=result.opportunity,
            account=result.account,
            match=MatchSummary(how=how, link=result.link if how == "rules" else None,
                               tier=result.tier if how == "rules" else None,
                               candidates=result.candidates, reason=result.reason),
            unknown_emails=[p.email for p in result.unknown],
            warnings=warnings,
        )  # fmt: skip
        base = self.instance_url()
        if result.opportunity:
            context.opportunity_url = record_url(base, "Opportunity", result.opportunity.id)
        if result.account:
            context.account_url = record_url(base, "Account", result.account.id)
        values = read.match.values
        people = [p for p in ([result.primary_contact] if result.primary_contact else []) + result.contacts]
        context.contacts = [self._person(p, base, p is result.primary_contact, prep, values) for p in people if p.id]
        context.leads = [self._person(p, base, False, prep, values) for p in result.leads if p.id]
        for target in (result.opportunity, result.account):
            if target is not None:
                name = "Opportunity" if target is result.opportunity else "Account"
                context.fields += _values(prep, name, target.id, values)
        if emails is not None:
            context.emails = self._emails(plan, read, result, request.body_chars)
        context.api_requests = self.api_requests()
        return context

    # -- pieces --------------------------------------------------------------------------------

    def _email_plan(
        self, settings: OrgSettings, at: datetime, describe: ObjectDescribe | None, readable: bool, warnings: list[str]
    ) -> EmailPlan | None:
        config = settings.email_context
        if not config.enabled:
            return None
        if not readable or describe is None:
            warnings.append(
                check_object(Feature.CORE_READ, "EmailMessage", describe, "read", blocking=False).message
                + " (no emails in the context)"
            )
            return None
        visible: list[str] = []
        for name in EMAIL_FIELDS:
            info = describe.field(name)
            if info is None:
                check = check_field(Feature.CORE_READ, "EmailMessage", describe, name, "read", blocking=False,
                                    consequence=f"emails come without {name}")  # fmt: skip
                warnings.append(check.message)
            else:
                visible.append(info.name)
        if "Id" not in visible or "MessageDate" not in visible:
            warnings.append("EmailMessage.Id/MessageDate are not visible: no emails in the context")
            return None
        return EmailPlan(since=at - timedelta(days=config.days), max=config.max, fields=tuple(visible))

    def _apply_given(self, request: DealContextRequest, result: MatchResult, read: ContextRead,
                     warnings: list[str]) -> None:  # fmt: skip
        """The ids in the request win over the rules."""
        data = read.match.data
        accounts = {a["Id"]: a for a in read.accounts}
        if request.opportunity_id:
            opp = next((o for o in data.opportunities if o.id == request.opportunity_id), None)
            if opp is None:
                warnings.append(f"Opportunity {request.opportunity_id} was not found (or is not shared with the "
                                "integration user)")  # fmt: skip
            result.opportunity = opp
            result.reason = f"{opp.name or opp.id}: given by the caller" if opp else "No opportunity: not found"
            if opp is not None and opp.account_id:
                result.account = opp.account or _account(accounts.get(opp.account_id)) or AccountInfo(id=opp.account_id)
        if request.account_id and (result.account is None or result.account.id != request.account_id):
            account = _account(accounts.get(request.account_id))
            if account is None:
                warnings.append(f"Account {request.account_id} was not found (or is not shared with the "
                                "integration user)")  # fmt: skip
            result.account = account

    def _person(self, person: Person, base: str, primary: bool, prep: list[PrepPath],
                values: dict[str, dict[str, Any]]) -> ContextPerson:  # fmt: skip
        assert person.id and person.object in ("Contact", "Lead")
        return ContextPerson(
            object=person.object,
            id=person.id,
            email=person.email,
            name=person.name,
            account_id=person.account_id,
            url=record_url(base, person.object, person.id) if base else None,
            is_primary=primary,
            fields=_values(prep, "Contact", person.id, values) if person.object == "Contact" else [],
        )

    def _emails(
        self, plan: ContextReadPlan, read: ContextRead, result: MatchResult, body_chars: int
    ) -> list[ContextEmail]:
        assert plan.emails is not None
        sources: list[tuple[str, str]] = []
        if result.opportunity is not None:
            sources.append((result.opportunity.id, "opportunity"))
            if result.opportunity.id not in read.email_parents:
                read.emails_by_parent[result.opportunity.id] = self.reader.opportunity_emails(
                    plan, result.opportunity.id
                )
        if result.account is not None:
            sources.append((result.account.id, "account"))
        for person in ([result.primary_contact] if result.primary_contact else []) + result.contacts:
            if person.id:
                sources.append((person.id, "contact"))
        tagged: list[tuple[dict[str, Any], str]] = []
        for parent, relation in sources:
            tagged += [(e, relation) for e in read.emails_by_parent.get(parent, [])]
        chosen = newest_emails(tagged, since=plan.emails.since, limit=plan.emails.max)
        out: list[ContextEmail] = []
        for raw, relation in chosen:
            body, truncated = trim_body(raw.get("TextBody"), body_chars)
            out.append(
                ContextEmail(
                    id=raw["Id"], subject=raw.get("Subject"), from_address=raw.get("FromAddress"),
                    from_name=raw.get("FromName"), to_address=raw.get("ToAddress"), cc_address=raw.get("CcAddress"),
                    message_date=_DATETIME.validate_python(raw["MessageDate"]) if raw.get("MessageDate") else None,
                    incoming=bool(raw.get("Incoming")), text_body=body, truncated=truncated,
                    related_to_id=raw.get("RelatedToId"), related_to=relation,  # type: ignore[arg-type]
                )
            )  # fmt: skip
        return out


def _relations_readable(describe: ObjectDescribe | None, warnings: list[str]) -> bool:
    """EmailMessageRelation and its fields visible (else: no Contact emails, a warning, nothing fails)."""
    consequence = "the Contacts' emails are not read"
    check = check_object(Feature.CORE_READ, "EmailMessageRelation", describe, "read", blocking=False)
    if not check.ok or describe is None:
        warnings.append(f"{check.message} ({consequence})")
        return False
    ok = True
    for name in RELATION_FIELDS:
        if describe.field(name) is None:
            warnings.append(check_field(Feature.CORE_READ, "EmailMessageRelation", describe, name, "read",
                                        blocking=False, consequence=consequence).message)  # fmt: skip
            ok = False
    return ok


def _roster(request: DealContextRequest, warnings: list[str]) -> Roster:
    """Distinct valid participants (``domain.participants.normalize_email``); the host is internal."""
    roster = Roster()
    host = normalize_email(request.host_email) if request.host_email else None
    seen: dict[str, Attendee] = {}
    for participant in request.participants:
        email = normalize_email(participant.email)
        if email is None:
            roster.skipped.append(participant.email)
            warnings.append(f"skipped participant with a malformed email: {participant.email!r}")
            continue
        if email not in seen:
            seen[email] = Attendee(email=email, name=participant.name, is_host=email == host)
            roster.attendees.append(seen[email])
    if host and host not in seen:
        roster.attendees.insert(0, Attendee(email=host, is_host=True))
    return roster


def _prep_objects(settings: OrgSettings) -> list[str]:
    return list(dict.fromkeys(p.object for p in parse_prep_fields(settings.prep_fields) if p.object in PREP_OBJECTS))


def _prep_fields(
    settings: OrgSettings, found: dict[str, ObjectDescribe | None], warnings: list[str]
) -> tuple[list[PrepPath], MappedFields]:
    """Visible prep fields (canonical names and labels) and the MappedFields the reader selects."""
    visible: list[PrepPath] = []
    for path in parse_prep_fields(settings.prep_fields):
        if path.object not in PREP_OBJECTS or not path.field:
            warnings.append(f"prep field {path.path!r}: only Account.<field>, Opportunity.<field> and "
                            "Contact.<field> are supported")  # fmt: skip
            continue
        describe = found.get(path.object)
        if describe is None:
            continue  # the object check already failed the request (core objects)
        check = check_field(Feature.PREP_FIELDS, path.object, describe, path.field, "read", blocking=False,
                            consequence="it is left out of the context")  # fmt: skip
        info = describe.field(path.field)
        if not check.ok or info is None:
            warnings.append(check.message)
            continue
        visible.append(PrepPath(path.path, path.object, info.name, info.label or info.name, info.type))
    by_object = {name: tuple(dict.fromkeys(p.field for p in visible if p.object == name)) for name in PREP_OBJECTS}
    return visible, MappedFields(by_object["Opportunity"], by_object["Account"], by_object["Contact"])


def _values(
    prep: list[PrepPath], object_name: str, record_id: str, values: dict[str, dict[str, Any]]
) -> list[PrepField]:
    row = values.get(record_id, {})
    return [
        PrepField(path=p.path, object=p.object, field=p.field, label=p.label, type=p.type, record_id=record_id,
                  value=row.get(p.field))
        for p in prep
        if p.object == object_name
    ]  # fmt: skip


def _account(raw: dict[str, Any] | None) -> AccountInfo | None:
    if not raw:
        return None
    return AccountInfo(id=raw["Id"], name=raw.get("Name"), website=raw.get("Website"), owner_id=raw.get("OwnerId"))
