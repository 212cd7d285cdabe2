"""The org's schema: built-in standard objects, fixture overrides, permissions, describe JSON."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from callsync_dev.emulator.soql.catalog import ChildRelationship, FieldInfo, ObjectInfo

TEXT_TYPES = {"string", "textarea", "url", "email", "phone", "picklist", "multipicklist", "combobox", "encryptedstring"}
NUMBER_TYPES = {"int", "double", "currency", "percent"}
SHARED_ACTIVITY_OBJECTS = ("EventRelation", "TaskRelation", "TaskWhoRelation", "EventWhoRelation")
ACTIVITY_TYPES = ["Call", "Email", "Meeting", "Other"]
SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "base64": "xsd:base64Binary",
}


@dataclass
class FieldDef:
    """One field of an object, as the org defines it (before field-level security)."""

    name: str
    type: str
    label: str = ""
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted: bool = False
    default: Any = None
    custom: bool = False
    values: list[str] | None = None
    restricted: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    child_relationship_name: str | None = None  # name of the reverse relationship on the parent
    filterable: bool = True
    precision: int = 0
    scale: int = 0
    auto_number: bool = False
    calculated: bool = False
    name_field: bool = False

    @property
    def required_on_create(self) -> bool:
        return self.createable and not self.nillable and not self.defaulted


@dataclass
class ObjectDef:
    name: str
    prefix: str
    label: str
    plural: str
    fields: dict[str, FieldDef]  # lower-case name -> def, in declaration order
    custom: bool = False
    createable: bool = True
    updateable: bool = True
    deletable: bool = True

    def field(self, name: str) -> FieldDef | None:
        return self.fields.get(name.lower())

    def add(self, fdef: FieldDef) -> None:
        self.fields[fdef.name.lower()] = fdef


def _label(name: str) -> str:
    base = name[:-3] if name.endswith("__c") else name
    if base.endswith("Id") and len(base) > 2:
        base = base[:-2] + " ID"
    base = base.replace("_", " ")
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", base)


def _f(name: str, type_: str, **kw: Any) -> FieldDef:
    defaults: dict[str, Any] = {
        "string": 255,
        "textarea": 32000,
        "url": 255,
        "email": 80,
        "phone": 40,
        "picklist": 255,
        "multipicklist": 4099,
        "combobox": 255,
        "id": 18,
        "reference": 18,
    }
    kw.setdefault("length", defaults.get(type_, 0))
    kw.setdefault("label", _label(name))
    if type_ in ("currency", "double", "percent"):
        kw.setdefault("precision", 18)
        kw.setdefault("scale", 2)
    if type_ == "int":
        kw.setdefault("precision", 9)
    if type_ == "textarea" and kw["length"] > 255:
        kw.setdefault("filterable", False)
    if type_ == "boolean":
        kw.setdefault("nillable", False)
        kw.setdefault("defaulted", True)
        kw.setdefault("default", False)
    return FieldDef(name, type_, **kw)


def _ref(name: str, targets: Iterable[str], rel: str | None, **kw: Any) -> FieldDef:
    return _f(name, "reference", reference_to=tuple(targets), relationship_name=rel, **kw)


def _readonly(fdef: FieldDef) -> FieldDef:
    return replace(fdef, createable=False, updateable=False)


def _pick(name: str, values: list[str], **kw: Any) -> FieldDef:
    return _f(name, "picklist", values=list(values), **kw)


def _system_fields(with_audit: bool = True) -> list[FieldDef]:
    out = [
        _f("Id", "id", label="Record ID", nillable=False, createable=False, updateable=False, defaulted=True),
        _readonly(_f("IsDeleted", "boolean", label="Deleted")),
    ]
    if with_audit:
        out += [
            _readonly(_f("CreatedDate", "datetime", nillable=False, defaulted=True)),
            _readonly(_ref("CreatedById", ["User"], "CreatedBy", nillable=False, defaulted=True)),
            _readonly(_f("LastModifiedDate", "datetime", nillable=False, defaulted=True)),
            _readonly(_ref("LastModifiedById", ["User"], "LastModifiedBy", nillable=False, defaulted=True)),
        ]
    out.append(_readonly(_f("SystemModstamp", "datetime", nillable=False, defaulted=True)))
    return out


def _owner(targets: Iterable[str] = ("User",)) -> FieldDef:
    return _ref("OwnerId", targets, "Owner", label="Owner ID", nillable=False, defaulted=True)


def _obj(
    name: str,
    prefix: str,
    fields: list[FieldDef],
    *,
    plural: str | None = None,
    audit: bool = True,
    label: str | None = None,
    **kw: Any,
) -> ObjectDef:
    od = ObjectDef(name, prefix, label or _label(name), plural or (label or _label(name)) + "s", {}, **kw)
    for fdef in _system_fields(audit) + fields:
        od.add(fdef)
    return od


STANDARD_STAGES = [  # (label, probability, closed, won, forecast category)
    ("Prospecting", 10, False, False, "Pipeline"),
    ("Qualification", 10, False, False, "Pipeline"),
    ("Needs Analysis", 20, False, False, "Pipeline"),
    ("Value Proposition", 50, False, False, "Pipeline"),
    ("Id. Decision Makers", 60, False, False, "Pipeline"),
    ("Perception Analysis", 70, False, False, "Pipeline"),
    ("Proposal/Price Quote", 75, False, False, "Pipeline"),
    ("Negotiation/Review", 90, False, False, "Pipeline"),
    ("Closed Won", 100, True, True, "Closed"),
    ("Closed Lost", 0, True, False, "Omitted"),
]
LEAD_SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]
INDUSTRIES = [
    "Agriculture",
    "Banking",
    "Biotechnology",
    "Communications",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Finance",
    "Healthcare",
    "Hospitality",
    "Insurance",
    "Manufacturing",
    "Media",
    "Retail",
    "Technology",
    "Telecommunications",
    "Transportation",
    "Other",
]
NAME_ID = ["Contact", "Lead"]


# the suggestions a new org's Subject combobox offers; a combobox takes any text besides them
TASK_SUBJECTS = ["Call", "Send Letter", "Send Quote", "Other"]
EVENT_SUBJECTS = ["Call", "Email", "Meeting", "Send Letter/Quote", "Other"]


def _activity_common(subjects: list[str]) -> list[FieldDef]:
    return [
        _ref("WhoId", NAME_ID, "Who", label="Name ID"),
        _ref("WhatId", ["Account", "Opportunity"], "What", label="Related To ID"),
        _owner(),
        _f("Subject", "combobox", values=list(subjects)),
        _f("Description", "textarea", length=32000, filterable=False),
        _f("ActivityDate", "date", label="Due Date Only"),
        _pick("Type", ACTIVITY_TYPES),
        _readonly(_ref("AccountId", ["Account"], "Account")),
    ]


def standard_objects() -> dict[str, ObjectDef]:
    """The built-in standard objects with their usual fields."""
    objs = [
        _obj(
            "User",
            "005",
            [
                _f("Username", "string", length=80, nillable=False),
                _f("FirstName", "string", length=40),
                _f("LastName", "string", length=80, nillable=False),
                _readonly(_f("Name", "string", label="Full Name", length=121, name_field=True)),
                _f("Email", "email", length=128, nillable=False),
                _f("Alias", "string", length=8),
                _f("Title", "string", length=80),
                _f("Phone", "phone"),
                _f("CompanyName", "string", length=80),
                _f("Department", "string", length=80),
                _f("IsActive", "boolean", label="Active", default=True),
                _pick(
                    "UserType",
                    ["Standard", "PowerPartner", "CsnOnly", "Guest"],
                    defaulted=True,
                    default="Standard",
                    createable=False,
                    updateable=False,
                ),
                _pick(
                    "TimeZoneSidKey",
                    ["America/Los_Angeles", "America/New_York", "Europe/London", "GMT"],
                    defaulted=True,
                    default="GMT",
                ),
            ],
        ),
        # public groups and queues, the owners a queue-enabled object may have (prefix and field lengths as
        # in the Group object info recorded in salesforce/base-components-recipes)
        _obj(
            "Group",
            "00G",
            [
                _f("Name", "string", length=40, nillable=False, name_field=True),
                _f("DeveloperName", "string", label="Developer Name", length=80),
                _pick(
                    "Type",
                    ["Regular", "Role", "RoleAndSubordinates", "Queue", "Organization"],
                    length=40,
                    nillable=False,
                    restricted=True,
                ),
                _f("Email", "email", length=255),
            ],
        ),
        _obj(
            "Account",
            "001",
            [
                _f("Name", "string", label="Account Name", nillable=False, name_field=True),
                _pick("Type", ["Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"]),
                _ref("ParentId", ["Account"], "Parent"),
                _f("Website", "url"),
                _f("Phone", "phone"),
                _pick("Industry", INDUSTRIES),
                _f("AnnualRevenue", "currency", precision=18, scale=0),
                _f("NumberOfEmployees", "int", label="Employees", precision=8),
                _f("BillingCity", "string", length=40),
                _f("BillingCountry", "string", length=80),
                _f("Description", "textarea", label="Account Description"),
                _owner(),
                _readonly(_f("LastActivityDate", "date", label="Last Activity")),
            ],
        ),
        _obj(
            "Contact",
            "003",
            [
                _ref("AccountId", ["Account"], "Account"),
                _pick("Salutation", ["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."]),
                _f("FirstName", "string", length=40),
                _f("LastName", "string", length=80, nillable=False),
                _readonly(_f("Name", "string", label="Full Name", length=121, name_field=True)),
                _f("Email", "email"),
                _f("Title", "string", length=128),
                _f("Phone", "phone"),
                _f("MobilePhone", "phone"),
                _f("Department", "string", length=80),
                _pick("LeadSource", LEAD_SOURCES),
                _f("Description", "textarea", label="Contact Description"),
                _owner(),
                _readonly(_f("LastActivityDate", "date", label="Last Activity")),
            ],
            label="Contact",
        ),
        _obj(
            "Lead",
            "00Q",
            [
                _f("FirstName", "string", length=40),
                _f("LastName", "string", length=80, nillable=False),
                _readonly(_f("Name", "string", label="Full Name", length=121, name_field=True)),
                _f("Email", "email"),
                _f("Company", "string", nillable=False),
                _f("Title", "string", length=128),
                _f("Phone", "phone"),
                _f("Website", "url"),
                _pick("Industry", INDUSTRIES),
                _pick(
                    "Status",
                    ["Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"],
                    nillable=False,
                    defaulted=True,
                    default="Open - Not Contacted",
                ),
                _pick("LeadSource", LEAD_SOURCES),
                _f("Description", "textarea"),
                _f("IsConverted", "boolean", label="Converted", updateable=False),
                _readonly(_ref("ConvertedContactId", ["Contact"], "ConvertedContact")),
                _readonly(_ref("ConvertedAccountId", ["Account"], "ConvertedAccount")),
                _readonly(_ref("ConvertedOpportunityId", ["Opportunity"], "ConvertedOpportunity")),
                _readonly(_f("ConvertedDate", "date")),
                _owner(("Group", "User")),  # a queue may own a lead
                _readonly(_f("LastActivityDate", "date", label="Last Activity")),
            ],
        ),
        _obj(
            "Opportunity",
            "006",
            [
                _ref("AccountId", ["Account"], "Account"),
                _f("Name", "string", length=120, nillable=False, name_field=True),
                _f("Description", "textarea"),
                _pick("StageName", [s[0] for s in STANDARD_STAGES], label="Stage", nillable=False),
                _f("Amount", "currency"),
                _f("Probability", "percent", label="Probability (%)", precision=3, scale=0, defaulted=True),
                _f("CloseDate", "date", label="Close Date", nillable=False),
                _pick(
                    "Type",
                    [
                        "Existing Customer - Upgrade",
                        "Existing Customer - Replacement",
                        "Existing Customer - Downgrade",
                        "New Customer",
                    ],
                ),
                _f("NextStep", "string", label="Next Step"),
                _pick("LeadSource", LEAD_SOURCES),
                _readonly(_f("IsClosed", "boolean", label="Closed")),
                _readonly(_f("IsWon", "boolean", label="Won")),
                _pick(
                    "ForecastCategoryName",
                    ["Omitted", "Pipeline", "Best Case", "Commit", "Closed"],
                    label="Forecast Category",
                    defaulted=True,
                    restricted=True,
                ),
                _owner(),
                _readonly(_f("LastActivityDate", "date", label="Last Activity")),
            ],
            plural="Opportunities",
        ),
        _obj(
            "OpportunityStage",
            "01J",
            [
                _f("MasterLabel", "string", label="Master Label", nillable=False),
                _f("ApiName", "string", label="Api Name", nillable=False),
                _f("IsActive", "boolean", default=True),
                _f("SortOrder", "int"),
                _f("IsClosed", "boolean"),
                _f("IsWon", "boolean"),
                _pick("ForecastCategoryName", ["Omitted", "Pipeline", "Best Case", "Commit", "Closed"]),
                _f("DefaultProbability", "percent", precision=3, scale=0),
                _f("Description", "string"),
            ],
            createable=False,
            updateable=False,
            deletable=False,
        ),
        _obj(
            "OpportunityContactRole",
            "00K",
            [
                _ref("OpportunityId", ["Opportunity"], "Opportunity", nillable=False, updateable=False),
                _ref("ContactId", ["Contact"], "Contact", nillable=False),
                _pick(
                    "Role",
                    [
                        "Business User",
                        "Decision Maker",
                        "Economic Buyer",
                        "Economic Decision Maker",
                        "Evaluator",
                        "Executive Sponsor",
                        "Influencer",
                        "Technical Buyer",
                        "Other",
                    ],
                ),
                _f("IsPrimary", "boolean", label="Primary"),
            ],
            label="Opportunity Contact Role",
        ),
        _obj(
            "Task",
            "00T",
            [
                *_activity_common(TASK_SUBJECTS),
                _pick(
                    "Status",
                    ["Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"],
                    nillable=False,
                    defaulted=True,
                    default="Not Started",
                ),
                _pick("Priority", ["High", "Normal", "Low"], nillable=False, defaulted=True, default="Normal"),
                _readonly(_f("IsClosed", "boolean", label="Closed")),
                _pick(
                    "TaskSubtype",
                    ["Task", "Email", "Call"],
                    restricted=True,
                    updateable=False,
                    defaulted=True,
                    default="Task",
                ),
                _f("CallDurationInSeconds", "int", label="Call Duration"),
                _pick("CallType", ["Internal", "Inbound", "Outbound"]),
                _f("CallDisposition", "string", label="Call Result"),
                _f("CallObject", "string", label="Call Object Identifier"),
            ],
        ),
        _obj(
            "Event",
            "00U",
            [
                *_activity_common(EVENT_SUBJECTS),
                _f("StartDateTime", "datetime", label="Start"),
                _f("EndDateTime", "datetime", label="End"),
                _f("DurationInMinutes", "int", label="Duration", precision=8),
                _f("ActivityDateTime", "datetime", label="Due Date Time"),
                _f("IsAllDayEvent", "boolean", label="All-Day Event"),
                _f("Location", "string"),
                _pick("EventSubtype", ["Event"], restricted=True, updateable=False, defaulted=True, default="Event"),
                _pick(
                    "ShowAs",
                    ["Busy", "OutOfOffice", "Free"],
                    label="Show Time As",
                    defaulted=True,
                    default="Busy",
                    restricted=True,
                ),
            ],
        ),
        _obj(
            "EventRelation",
            "0RE",
            [
                _ref("EventId", ["Event"], "Event", nillable=False, updateable=False),
                _ref(
                    "RelationId",
                    ["Contact", "Lead", "User", "Account", "Opportunity"],
                    "Relation",
                    nillable=False,
                    updateable=False,
                ),
                _f("IsInvitee", "boolean", label="Invitee"),
                _f("IsParent", "boolean", label="Parent"),
                _readonly(_f("IsWhat", "boolean", label="What")),
                _pick("Status", ["New", "Declined", "Accepted"], defaulted=True, default="New"),
                _f("RespondedDate", "datetime"),
                _f("Response", "string"),
            ],
            label="Event Relation",
        ),
        _obj(
            "TaskRelation",
            "0RT",
            [
                _ref("TaskId", ["Task"], "Task", nillable=False, updateable=False),
                _ref(
                    "RelationId",
                    ["Contact", "Lead", "Account", "Opportunity"],
                    "Relation",
                    nillable=False,
                    updateable=False,
                ),
                _readonly(_f("IsWhat", "boolean", label="What")),
            ],
            label="Task Relation",
        ),
        _obj(
            "TaskWhoRelation",
            "0RT",
            [
                _readonly(_ref("TaskId", ["Task"], "Task")),
                _readonly(_ref("RelationId", NAME_ID, "Relation")),
                _readonly(_f("Type", "string")),
            ],
            createable=False,
            updateable=False,
            deletable=False,
            label="Task Who Relation",
        ),
        _obj(
            "EventWhoRelation",
            "0RE",
            [
                _readonly(_ref("EventId", ["Event"], "Event")),
                _readonly(_ref("RelationId", NAME_ID, "Relation")),
                _readonly(_f("Type", "string")),
            ],
            createable=False,
            updateable=False,
            deletable=False,
            label="Event Who Relation",
        ),
        _obj(
            "EmailMessage",
            "02s",
            [
                _f("Subject", "string", length=3000),
                _f("FromAddress", "email", length=1000),
                _f("FromName", "string", length=1000),
                _f("ToAddress", "string", length=4000),
                _f("CcAddress", "string", length=4000),
                _f("BccAddress", "string", length=4000),
                _f("TextBody", "textarea", length=131072),
                _f("HtmlBody", "textarea", length=131072),
                _f("MessageDate", "datetime"),
                _f("Incoming", "boolean", label="Is Incoming"),
                # What-like records only (plus the fixture's custom objects): people are linked through
                # EmailMessageRelation, as in Salesforce
                _ref("RelatedToId", ["Account", "Opportunity"], "RelatedTo"),
                _ref("ActivityId", ["Task"], "Activity"),
                _pick("Status", ["0", "1", "2", "3", "4", "5"], nillable=False, restricted=True),
            ],
            label="Email Message",
        ),
        _obj(
            "EmailMessageRelation",
            "0eR",
            [
                _ref("EmailMessageId", ["EmailMessage"], "EmailMessage", nillable=False, updateable=False),
                _ref("RelationId", ["Contact", "Lead", "User"], "Relation"),
                _pick(
                    "RelationType",
                    ["FromAddress", "ToAddress", "CcAddress", "BccAddress"],
                    nillable=False,
                    restricted=True,
                ),
                _f("RelationAddress", "string", length=255),
                _readonly(_f("RelationObjectType", "string", length=40)),
            ],
            label="Email Message Relation",
        ),
        _obj(
            "ContentDocument",
            "069",
            [
                _f("Title", "string", nillable=False),
                _readonly(_f("FileType", "string", length=20)),
                _readonly(_f("FileExtension", "string", length=40)),
                _readonly(_f("ContentSize", "int", label="Size")),
                _readonly(_f("LatestPublishedVersionId", "string", length=18)),
                _owner(),
            ],
            createable=False,
            label="Content Document",
        ),
        _obj(
            "ContentNote",
            "069",
            [
                _f("Title", "string", nillable=False),
                _f("Content", "base64", length=0),
                _readonly(_f("TextPreview", "string")),
                _readonly(_f("FileType", "string", length=20)),
                _readonly(_f("FileExtension", "string", length=40)),
                _readonly(_f("ContentSize", "int")),
                _readonly(_f("LatestPublishedVersionId", "string", length=18)),
                _owner(),
            ],
            label="Note",
        ),
        _obj(
            "ContentDocumentLink",
            "06A",
            [
                _ref("ContentDocumentId", ["ContentDocument"], "ContentDocument", nillable=False, updateable=False),
                _ref(
                    "LinkedEntityId",
                    ["Account", "Contact", "Lead", "Opportunity", "User"],
                    "LinkedEntity",
                    nillable=False,
                    updateable=False,
                ),
                _pick("ShareType", ["V", "C", "I"], restricted=True, nillable=False, defaulted=True, default="V"),
                _pick(
                    "Visibility",
                    ["AllUsers", "InternalUsers", "SharedUsers"],
                    restricted=True,
                    defaulted=True,
                    default="AllUsers",
                    nillable=False,
                ),
            ],
            audit=False,
            label="Content Document Link",
        ),
    ]
    by_name = {o.name: o for o in objs}
    return by_name


# (child object, lookup field) or (child object, lookup field, parent object) -> name of the child
# relationship on the parent; the three-part key wins and names the relationship on that parent only
STANDARD_CHILD_RELATIONSHIPS: dict[tuple[str, ...], str] = {
    ("Contact", "AccountId"): "Contacts",
    ("Opportunity", "AccountId"): "Opportunities",
    ("OpportunityContactRole", "OpportunityId"): "OpportunityContactRoles",
    ("OpportunityContactRole", "ContactId"): "OpportunityContactRoles",
    ("Task", "WhatId"): "Tasks",
    ("Task", "WhoId"): "Tasks",
    ("Event", "WhatId"): "Events",
    ("Event", "WhoId"): "Events",
    ("EventRelation", "EventId"): "EventRelations",
    ("TaskRelation", "TaskId"): "TaskRelations",
    ("TaskWhoRelation", "TaskId"): "TaskWhoRelations",
    ("EventWhoRelation", "EventId"): "EventWhoRelations",
    ("ContentDocumentLink", "ContentDocumentId"): "ContentDocumentLinks",
    ("ContentDocumentLink", "LinkedEntityId"): "ContentDocumentLinks",
    ("EmailMessage", "RelatedToId"): "Emails",
    ("EmailMessage", "ActivityId"): "EmailMessages",
    ("EmailMessageRelation", "EmailMessageId"): "EmailMessageRelations",
    # invitees and email participants: the people a relation row points at
    **{("EventRelation", "RelationId", person): "EventRelations" for person in ("Contact", "Lead", "User")},
    **{
        ("EmailMessageRelation", "RelationId", person): "EmailMessageRelations"
        for person in ("Contact", "Lead", "User")
    },
    ("Account", "ParentId"): "ChildAccounts",
}
KNOWN_FIELD_KEYS = {
    "type",
    "label",
    "length",
    "values",
    "restricted",
    "referenceTo",
    "relationshipName",
    "childRelationshipName",
    "nillable",
    "required",
    "createable",
    "updateable",
    "defaultValue",
    "precision",
    "scale",
    "filterable",
    "custom",
}


class SchemaError(ValueError):
    """The fixture's schema section is not understood."""


def _field_from_spec(name: str, spec: Mapping[str, Any], base: FieldDef | None) -> FieldDef:
    unknown = set(spec) - KNOWN_FIELD_KEYS
    if unknown:
        raise SchemaError(f"field {name}: unknown keys {sorted(unknown)}")
    type_ = spec.get("type", base.type if base else None)
    if type_ is None:
        raise SchemaError(f"field {name}: 'type' is required for a new field")
    if type_ == "text":
        type_ = "string"
    if type_ == "long textarea" or type_ == "longtextarea":
        type_ = "textarea"
    if base is None or base.type != type_:
        fdef = _f(name, type_, custom=name.endswith("__c"))
        if type_ == "textarea" and "length" not in spec:
            fdef.length, fdef.filterable = 32768, False
        if base is not None:
            fdef.label, fdef.relationship_name = base.label, base.relationship_name
    else:
        fdef = replace(base)
    if "length" in spec:
        fdef.length = int(spec["length"])
        if type_ == "textarea":
            fdef.filterable = fdef.length <= 255
    for key, attr in (
        ("label", "label"),
        ("restricted", "restricted"),
        ("nillable", "nillable"),
        ("createable", "createable"),
        ("updateable", "updateable"),
        ("precision", "precision"),
        ("scale", "scale"),
        ("filterable", "filterable"),
        ("relationshipName", "relationship_name"),
        ("childRelationshipName", "child_relationship_name"),
    ):
        if key in spec:
            setattr(fdef, attr, spec[key])
    if spec.get("required"):
        fdef.nillable = False
    if "values" in spec:
        fdef.values = [str(v) for v in spec["values"]]
    if "defaultValue" in spec:
        fdef.default, fdef.defaulted = spec["defaultValue"], True
    if type_ == "reference":
        targets = spec.get("referenceTo", list(fdef.reference_to))
        if not targets:
            raise SchemaError(f"field {name}: a reference needs 'referenceTo'")
        fdef.reference_to = tuple(targets)
        if fdef.relationship_name is None:
            fdef.relationship_name = name[:-3] + "__r" if name.endswith("__c") else name.removesuffix("Id")
    if type_ in ("picklist", "multipicklist") and fdef.values is None:
        fdef.values = []
    return fdef


def _custom_prefix(index: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "a" + alphabet[index // 62] + alphabet[index % 62] if index >= 62 else "a0" + alphabet[index]


def build_objects(schema: Mapping[str, Any] | None) -> dict[str, ObjectDef]:
    """Standard objects with the fixture's ``schema`` section applied."""
    objects = standard_objects()
    customs = 0
    for obj_name, obj_spec in (schema or {}).items():
        obj_spec = obj_spec or {}
        existing = next((o for n, o in objects.items() if n.lower() == obj_name.lower()), None)
        if existing is None:
            if not obj_name.endswith("__c") and not obj_spec.get("custom"):
                raise SchemaError(f"unknown standard object {obj_name} (custom objects end in __c)")
            label = obj_spec.get("label") or _label(obj_name)
            existing = _obj(
                obj_name,
                obj_spec.get("keyPrefix") or _custom_prefix(customs + 10),
                [
                    _f(
                        "Name",
                        "string",
                        length=80,
                        label=f"{label} Name",
                        createable=False,
                        updateable=False,
                        nillable=False,
                        defaulted=True,
                        auto_number=True,
                        name_field=True,
                    ),
                    _owner(("Group", "User")),
                ],
                label=label,
                plural=obj_spec.get("labelPlural") or label + "s",
                custom=True,
            )
            customs += 1
            objects[obj_name] = existing
        for field_name, field_spec in (obj_spec.get("fields") or {}).items():
            base = existing.field(field_name)
            fdef = _field_from_spec(base.name if base else field_name, field_spec or {}, base)
            if fdef.name == "Name" and existing.custom and "type" in (field_spec or {}):
                fdef.auto_number, fdef.createable, fdef.updateable, fdef.defaulted = False, True, True, False
            existing.add(fdef)
    custom_names = [o.name for o in objects.values() if o.custom]
    for obj_name in ("Task", "Event"):
        what = objects[obj_name].fields["whatid"]
        what.reference_to = tuple(dict.fromkeys([*what.reference_to, *custom_names]))
    for link in (
        objects["ContentDocumentLink"].fields["linkedentityid"],
        objects["EventRelation"].fields["relationid"],
        objects["TaskRelation"].fields["relationid"],
        objects["EmailMessage"].fields["relatedtoid"],
    ):
        link.reference_to = tuple(dict.fromkeys([*link.reference_to, *custom_names]))
    return objects


@dataclass
class Permissions:
    hidden_fields: set[str] = field(default_factory=set)  # "object.field" lower-case
    read_only_fields: set[str] = field(default_factory=set)
    object_permissions: dict[str, str] = field(default_factory=dict)  # lower-case object -> none|read|edit


class Schema:
    """Objects as the integration user sees them: permissions and Shared Activities applied."""

    def __init__(self, objects: dict[str, ObjectDef], permissions: Permissions, shared_activities: bool) -> None:
        self.objects = objects
        self.permissions = permissions
        self.shared_activities = shared_activities
        self._by_lower = {name.lower(): od for name, od in objects.items()}
        self._children = self._child_relationships()
        self._info_cache: dict[str, ObjectInfo] = {}
        self._describe_cache: dict[str, dict[str, Any]] = {}

    # --- lookup -------------------------------------------------------------------------------------
    def exists(self, name: str) -> ObjectDef | None:
        """The object whatever the permissions (for the store's own bookkeeping)."""
        return self._by_lower.get(name.lower())

    def visible(self, name: str) -> ObjectDef | None:
        """The object when the integration user can see it, else None."""
        od = self._by_lower.get(name.lower())
        if od is None:
            return None
        if od.name in SHARED_ACTIVITY_OBJECTS and not self.shared_activities:
            return None
        if self.access(od.name) == "none":
            return None
        return od

    def access(self, name: str) -> str:
        return self.permissions.object_permissions.get(name.lower(), "edit")

    def field_hidden(self, od: ObjectDef, fdef: FieldDef) -> bool:
        return f"{od.name}.{fdef.name}".lower() in self.permissions.hidden_fields

    def field_read_only(self, od: ObjectDef, fdef: FieldDef) -> bool:
        return f"{od.name}.{fdef.name}".lower() in self.permissions.read_only_fields

    def visible_field(self, od: ObjectDef, name: str) -> FieldDef | None:
        fdef = od.field(name)
        if fdef is None or self.field_hidden(od, fdef):
            return None
        return fdef

    def visible_fields(self, od: ObjectDef) -> list[FieldDef]:
        return [f for f in od.fields.values() if not self.field_hidden(od, f)]

    def can_create(self, od: ObjectDef, fdef: FieldDef) -> bool:
        return fdef.createable and not self.field_read_only(od, fdef)

    def can_update(self, od: ObjectDef, fdef: FieldDef) -> bool:
        return fdef.updateable and not self.field_read_only(od, fdef)

    def _child_relationships(self) -> dict[str, list[tuple[str, str, str]]]:
        """parent object -> [(relationship name | "", child object, field)]."""
        out: dict[str, list[tuple[str, str, str]]] = {}
        for od in self.objects.values():
            for fdef in od.fields.values():
                if fdef.type != "reference":
                    continue
                for target in fdef.reference_to:
                    rel = (
                        fdef.child_relationship_name
                        or STANDARD_CHILD_RELATIONSHIPS.get((od.name, fdef.name, target))
                        or STANDARD_CHILD_RELATIONSHIPS.get((od.name, fdef.name))
                    )
                    if rel is None and fdef.custom:
                        rel = (od.name[:-3] if od.custom else od.name) + "s__r"
                    out.setdefault(target, []).append((rel or "", od.name, fdef.name))
        return out

    def children(self, parent: str) -> list[tuple[str, str, str]]:
        return [c for c in self._children.get(parent, []) if self.visible(c[1])]

    # --- SOQL catalog -------------------------------------------------------------------------------
    def object_info(self, name: str) -> ObjectInfo | None:
        od = self.visible(name)
        if od is None:
            return None
        cached = self._info_cache.get(od.name)
        if cached is None:
            fields = {
                f.name.lower(): FieldInfo(
                    name=f.name,
                    type="string" if f.type == "combobox" else f.type,
                    reference_to=tuple(t for t in f.reference_to if self.exists(t)),
                    relationship_name=f.relationship_name,
                    filterable=f.filterable,
                )
                for f in self.visible_fields(od)
            }
            rels = {
                rel.lower(): ChildRelationship(rel, child, fld) for rel, child, fld in self.children(od.name) if rel
            }
            cached = ObjectInfo(od.name, fields, rels)
            self._info_cache[od.name] = cached
        return cached

    # --- describe -----------------------------------------------------------------------------------
    def global_describe(self, version: str) -> dict[str, Any]:
        sobjects = []
        for od in self.objects.values():
            if self.visible(od.name) is None:
                continue
            basic = self.describe(od.name, version)
            sobjects.append(
                {k: v for k, v in basic.items() if k not in ("fields", "childRelationships", "recordTypeInfos")}
            )
        return {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects}

    def describe(self, name: str, version: str) -> dict[str, Any]:
        od = self.visible(name)
        if od is None:
            raise KeyError(name)
        key = f"{od.name}@{version}"
        cached = self._describe_cache.get(key)
        if cached is not None:
            return cached
        editable = self.access(od.name) == "edit"
        base = f"/services/data/v{version}/sobjects/{od.name}"
        fields = [self._describe_field(od, f) for f in self.visible_fields(od)]
        if not editable:
            for fd in fields:
                fd["createable"] = fd["updateable"] = False
        out = {
            "name": od.name,
            "label": od.label,
            "labelPlural": od.plural,
            "keyPrefix": od.prefix,
            "custom": od.custom,
            "customSetting": False,
            "createable": editable and od.createable,
            "updateable": editable and od.updateable,
            "deletable": editable and od.deletable,
            "queryable": True,
            "retrieveable": True,
            "searchable": True,
            "layoutable": True,
            "triggerable": True,
            "undeletable": editable,
            "mergeable": od.name in ("Account", "Contact", "Lead"),
            "replicateable": True,
            "activateable": False,
            "feedEnabled": False,
            "deprecatedAndHidden": False,
            "isSubtype": False,
            "isInterface": False,
            "hasSubtypes": False,
            "urls": {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"},
            "fields": fields,
            "childRelationships": [
                {
                    "childSObject": child,
                    "field": fld,
                    "relationshipName": rel or None,
                    "cascadeDelete": False,
                    "restrictedDelete": False,
                    "deprecatedAndHidden": False,
                    "junctionIdListNames": [],
                    "junctionReferenceTo": [],
                }
                for rel, child, fld in self.children(od.name)
            ],
            "recordTypeInfos": [],
        }
        self._describe_cache[key] = out
        return out

    def _describe_field(self, od: ObjectDef, f: FieldDef) -> dict[str, Any]:
        values = f.values or []
        default_value = f.default if f.type in ("picklist", "multipicklist") else None
        return {
            "name": f.name,
            "label": f.label,
            "type": f.type,
            "length": f.length,
            "byteLength": f.length * 3,
            "digits": 0,
            "precision": f.precision,
            "scale": f.scale,
            "soapType": SOAP_TYPES.get(f.type, "xsd:string"),
            "nillable": f.nillable,
            "createable": self.can_create(od, f),
            "updateable": self.can_update(od, f),
            "defaultedOnCreate": f.defaulted,
            "custom": f.custom,
            "calculated": f.calculated,
            "autoNumber": f.auto_number,
            "nameField": f.name_field,
            "externalId": False,
            "unique": False,
            "idLookup": f.name == "Id" or (f.name == "Email" and od.name in ("Contact", "Lead", "User")),
            "filterable": f.filterable,
            "sortable": f.filterable,
            "groupable": f.filterable,
            "caseSensitive": False,
            "htmlFormatted": False,
            "restrictedPicklist": f.restricted,
            "dependentPicklist": False,
            "defaultValue": f.default if f.type == "boolean" else None,
            "picklistValues": [
                {"value": v, "label": v, "active": True, "defaultValue": v == default_value, "validFor": None}
                for v in values
            ],
            "referenceTo": [t for t in f.reference_to if self.exists(t)],
            "relationshipName": f.relationship_name,
            "polymorphicForeignKey": len(f.reference_to) > 1,
            "inlineHelpText": None,
            "deprecatedAndHidden": False,
            "permissionable": f.nillable,
        }
