"""Describes of an org where the integration user can do everything; tests take permissions away."""

from __future__ import annotations

from callsync.models.describe import FieldDescribe, ObjectDescribe

STANDARD_FIELDS: dict[str, list[str]] = {
    "Contact": ["Id", "Email", "FirstName", "LastName", "AccountId", "Title", "Champion_Notes__c"],
    "Lead": ["Id", "Email", "FirstName", "LastName", "Company", "IsConverted"],
    "Account": ["Id", "Name", "Website", "Industry", "Airspeed_Link__c"],
    "Opportunity": [
        "Id",
        "Name",
        "AccountId",
        "StageName",
        "IsClosed",
        "IsWon",
        "CloseDate",
        "CreatedDate",
        "OwnerId",
        "Amount",
        "Pain__c",
        "Loss_Reason__c",
    ],
    "OpportunityContactRole": ["Id", "OpportunityId", "ContactId", "IsPrimary"],
    "OpportunityStage": ["Id", "MasterLabel"],
    "User": ["Id", "Email", "IsActive"],
    "EmailMessage": ["Id", "Subject"],
    "Task": [
        "Id",
        "Subject",
        "Description",
        "ActivityDate",
        "Status",
        "WhoId",
        "WhatId",
        "OwnerId",
        "Type",
        "CallDurationInSeconds",
        "TaskSubtype",
    ],
    "Event": ["Id", "Subject", "Description", "StartDateTime", "EndDateTime", "WhoId", "WhatId", "OwnerId", "Type"],
    "EventRelation": ["Id", "EventId", "RelationId"],
    "ContentNote": ["Id", "Title", "Content"],
    "ContentDocumentLink": ["Id", "ContentDocumentId", "LinkedEntityId", "ShareType"],
    "Deal_Review__c": ["Id", "Opportunity__c", "Metrics__c"],
}


def make_describe(name: str, fields: list[str], *, access: str = "edit") -> ObjectDescribe:
    """An object the user can read (``read``) or also create and edit (``edit``), every field writable."""
    editable = access == "edit"
    return ObjectDescribe(
        name=name,
        createable=editable,
        updateable=editable,
        fields={
            f: FieldDescribe(name=f, type="string", createable=writable, updateable=writable)
            for f in fields
            for writable in [editable and f != "Id"]
        },
    )


Describes = dict[str, ObjectDescribe | None]


def full_access_describes() -> Describes:
    """A fresh dict of describes where everything is allowed."""
    return {name: make_describe(name, fields) for name, fields in STANDARD_FIELDS.items()}


def hiding(path: str) -> Describes:
    """Full-access describes with the field ``Object.Field`` hidden, as field-level security hides it."""
    object_name, field_name = path.split(".")
    describes = full_access_describes()
    describe = describes[object_name]
    assert describe is not None
    del describe.fields[field_name]
    return describes
