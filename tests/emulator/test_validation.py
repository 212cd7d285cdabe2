"""Writes are validated as Salesforce validates them, and derived fields are computed."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import simple_salesforce
from callsync_dev.emulator import Emulator
from callsync_dev.emulator.testing import salesforce_client
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound


def error_of(call: Any) -> dict[str, Any]:
    """The first Salesforce error of a call expected to fail with 400."""
    with pytest.raises(SalesforceMalformedRequest) as info:
        call()
    return info.value.content[0]


def test_required_field_missing(sf: simple_salesforce.Salesforce) -> None:
    # When a contact without LastName is created
    error = error_of(lambda: sf.Contact.create({"FirstName": "No"}))
    # Then REQUIRED_FIELD_MISSING names the field
    assert error == {
        "errorCode": "REQUIRED_FIELD_MISSING",
        "message": "Required fields are missing: [LastName]",
        "fields": ["LastName"],
    }
    # And a Lead needs LastName and Company
    assert error_of(lambda: sf.Lead.create({}))["fields"] == ["LastName", "Company"]


def test_unknown_and_hidden_fields_are_invalid(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    opp_id = emulator.records("Opportunity")[0]["Id"]
    # When an unknown field, or a field hidden from the integration user, is written
    unknown = error_of(lambda: sf.Contact.create({"LastName": "X", "Nope__c": 1}))
    hidden = error_of(lambda: sf.Opportunity.update(opp_id, {"Secret__c": "psst"}))
    # Then INVALID_FIELD with Salesforce's wording
    assert unknown["errorCode"] == "INVALID_FIELD"
    assert unknown["message"] == "No such column 'Nope__c' on sobject of type Contact"
    assert hidden["message"] == "No such column 'Secret__c' on sobject of type Opportunity"
    # And SOQL does not see the hidden field either
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query("SELECT Secret__c FROM Opportunity")
    assert info.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_restricted_picklists(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    opp_id = emulator.records("Opportunity")[0]["Id"]
    # When TaskSubtype or a restricted multipicklist gets a value outside its list
    subtype = error_of(lambda: sf.Task.create({"Subject": "x", "TaskSubtype": "Meeting"}))
    multi = error_of(lambda: sf.Opportunity.update(opp_id, {"Competitors__c": "Gong;Clari"}))
    # Then INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST
    assert subtype["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert subtype["message"] == "Task Subtype: bad value for restricted picklist field: Meeting"
    assert multi["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    # And an unrestricted picklist takes any value; a valid multipicklist value is stored
    assert sf.Task.create({"Subject": "x", "Type": "Anything"})["success"] is True
    sf.Opportunity.update(opp_id, {"Competitors__c": "Gong;Chorus"})
    assert sf.Opportunity.get(opp_id)["Competitors__c"] == "Gong;Chorus"


def test_string_too_long(sf: simple_salesforce.Salesforce) -> None:
    # When a Subject exceeds 255 characters
    error = error_of(lambda: sf.Task.create({"Subject": "x" * 256}))
    # Then STRING_TOO_LONG with the max length
    assert error["errorCode"] == "STRING_TOO_LONG" and "(max length=255)" in error["message"]
    assert error["fields"] == ["Subject"]


def test_wrong_value_types(sf: simple_salesforce.Salesforce) -> None:
    # When a date, a number or an email has the wrong shape
    bad_date = error_of(
        lambda: sf.Opportunity.create({"Name": "x", "StageName": "Prospecting", "CloseDate": "next week"})
    )
    bad_int = error_of(lambda: sf.Account.create({"Name": "x", "NumberOfEmployees": "many"}))
    bad_email = error_of(lambda: sf.Contact.create({"LastName": "x", "Email": "not-an-email"}))
    # Then Salesforce's error codes
    assert bad_date["errorCode"] == "JSON_PARSER_ERROR" and bad_int["errorCode"] == "JSON_PARSER_ERROR"
    assert bad_email["errorCode"] == "INVALID_EMAIL_ADDRESS"


def test_lookup_must_point_at_an_existing_record(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    contact_id = emulator.records("Contact")[0]["Id"]
    # When AccountId points nowhere, at the wrong object, or is not an id
    nowhere = error_of(lambda: sf.Contact.create({"LastName": "x", "AccountId": "001000000000000AAA"}))
    wrong = error_of(lambda: sf.Contact.create({"LastName": "x", "AccountId": contact_id}))
    malformed = error_of(lambda: sf.Contact.create({"LastName": "x", "AccountId": "globex"}))
    # Then INVALID_CROSS_REFERENCE_KEY / FIELD_INTEGRITY_EXCEPTION / MALFORMED_ID
    assert nowhere["errorCode"] == "INVALID_CROSS_REFERENCE_KEY" and nowhere["fields"] == ["AccountId"]
    assert wrong["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert malformed["errorCode"] == "MALFORMED_ID"


def test_fifteen_character_ids_are_accepted_and_eighteen_returned(
    sf: simple_salesforce.Salesforce, emulator: Emulator
) -> None:
    account_id = emulator.records("Account")[0]["Id"]
    # When a lookup is written with a 15-char id
    created = sf.Contact.create({"LastName": "Short", "AccountId": account_id[:15]})
    # Then the stored value is the 18-char id
    assert sf.Contact.get(created["id"])["AccountId"] == account_id


def test_non_updateable_fields(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    opp_id = emulator.records("Opportunity")[0]["Id"]
    contact_id = emulator.records("Contact")[0]["Id"]
    task_id = sf.Task.create({"Subject": "Call", "TaskSubtype": "Call"})["id"]
    # When derived or create-only fields are written
    for call, field in (
        (lambda: sf.Opportunity.update(opp_id, {"IsClosed": True}), "IsClosed"),
        (lambda: sf.Task.update(task_id, {"TaskSubtype": "Task"}), "TaskSubtype"),
        (lambda: sf.Contact.update(contact_id, {"Name": "New Name"}), "Name"),
        (lambda: sf.Lead.create({"LastName": "x", "Company": "y", "Name": "x"}), "Name"),
        (lambda: sf.Account.update(emulator.records("Account")[0]["Id"], {"Industry": "Energy"}), "Industry"),
    ):
        error = error_of(call)
        # Then INVALID_FIELD_FOR_INSERT_UPDATE names the field
        assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE" and error["fields"] == [field]


def test_object_permissions() -> None:
    # Given Lead is read-only and ContentNote invisible
    org = {
        "object_permissions": {"Lead": "read", "ContentNote": "none"},
        "records": {"Lead": [{"LastName": "Lee", "Company": "Initech"}]},
    }
    with Emulator.from_fixture(org) as emu:
        sf = salesforce_client(emu.connection)
        # When a lead is created or the notes are touched
        error = error_of(lambda: sf.Lead.create({"LastName": "x", "Company": "y"}))
        # Then writes are refused, reads work, and the hidden object is NOT_FOUND / INVALID_TYPE
        assert error["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"
        assert sf.query("SELECT Name FROM Lead")["records"][0]["Name"] == "Lee"
        with pytest.raises(SalesforceResourceNotFound):
            sf.ContentNote.create({"Title": "x"})
        with pytest.raises(SalesforceMalformedRequest) as info:
            sf.query("SELECT Id FROM ContentNote")
        assert info.value.content[0]["errorCode"] == "INVALID_TYPE"
        assert "ContentNote" not in {o["name"] for o in sf.describe()["sobjects"]}
        describe = sf.Lead.describe()
        assert describe["createable"] is False and describe["queryable"] is True


def test_event_needs_end_or_duration_and_derives_the_other(sf: simple_salesforce.Salesforce) -> None:
    # When an event has neither EndDateTime nor DurationInMinutes
    error = error_of(lambda: sf.Event.create({"Subject": "Demo", "StartDateTime": "2026-11-20T15:00:00Z"}))
    assert error["errorCode"] == "REQUIRED_FIELD_MISSING"
    # Then with one of them the other is derived, and ActivityDate follows StartDateTime
    by_duration = sf.Event.get(
        sf.Event.create({"Subject": "Demo", "StartDateTime": "2026-11-20T15:00:00Z", "DurationInMinutes": 45})["id"]
    )
    assert by_duration["EndDateTime"] == "2026-11-20T15:45:00.000+0000"
    assert by_duration["ActivityDate"] == "2026-11-20"
    by_end = sf.Event.get(
        sf.Event.create(
            {
                "Subject": "Demo",
                "StartDateTime": "2026-11-20T23:30:00+01:00",
                "EndDateTime": "2026-11-21T00:30:00+01:00",
            }
        )["id"]
    )
    assert by_end["DurationInMinutes"] == 60 and by_end["StartDateTime"] == "2026-11-20T22:30:00.000+0000"
    # And moving the start keeps the duration
    sf.Event.update(by_end["Id"], {"StartDateTime": "2026-11-22T10:00:00Z"})
    moved = sf.Event.get(by_end["Id"])
    assert moved["EndDateTime"] == "2026-11-22T11:00:00.000+0000" and moved["ActivityDate"] == "2026-11-22"


def test_relations_need_shared_activities() -> None:
    # Given an org without Shared Activities
    with Emulator.from_fixture({"shared_activities": False, "records": {"Contact": [{"LastName": "Doe"}]}}) as emu:
        sf = salesforce_client(emu.connection)
        event_id = sf.Event.create({"Subject": "x", "StartDateTime": "2026-11-20T15:00:00Z", "DurationInMinutes": 30})[
            "id"
        ]
        # When an EventRelation is created or TaskRelation queried
        with pytest.raises(SalesforceResourceNotFound):
            sf.EventRelation.create({"EventId": event_id, "RelationId": emu.records("Contact")[0]["Id"]})
        with pytest.raises(SalesforceMalformedRequest) as info:
            sf.query("SELECT Id FROM TaskRelation")
        # Then NOT_FOUND and INVALID_TYPE
        assert info.value.content[0]["errorCode"] == "INVALID_TYPE"


def test_shared_activities_relations(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    contact_id = emulator.records("Contact")[0]["Id"]
    opp_id = emulator.records("Opportunity")[0]["Id"]
    other = sf.Contact.create({"LastName": "Second"})["id"]
    # Given an event with a who and a what
    event_id = sf.Event.create(
        {
            "Subject": "Demo",
            "StartDateTime": "2026-11-20T15:00:00Z",
            "DurationInMinutes": 30,
            "WhoId": contact_id,
            "WhatId": opp_id,
        }
    )["id"]
    # When a second contact is added as an EventRelation
    sf.EventRelation.create({"EventId": event_id, "RelationId": other, "IsParent": True, "IsInvitee": False})
    # Then the event's relations list the who, the what and the new contact
    result = sf.query(
        f"SELECT Id, (SELECT RelationId, IsWhat, IsParent FROM EventRelations) FROM Event WHERE Id = '{event_id}'"
    )
    relations = {r["RelationId"]: r["IsWhat"] for r in result["records"][0]["EventRelations"]["records"]}
    assert relations == {contact_id: False, opp_id: True, other: False}
    # And a task's TaskRelations work the same; TaskWhoRelation lists the contacts only
    task_id = sf.Task.create({"Subject": "Call", "WhoId": contact_id, "WhatId": opp_id})["id"]
    sf.TaskRelation.create({"TaskId": task_id, "RelationId": other})
    who = sf.query(f"SELECT RelationId FROM TaskWhoRelation WHERE TaskId = '{task_id}'")["records"]
    assert sorted(r["RelationId"] for r in who) == sorted([contact_id, other])


def test_one_primary_contact_role_per_opportunity(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    opp_id = emulator.records("Opportunity")[0]["Id"]
    old_role = emulator.records("OpportunityContactRole")[0]["Id"]
    contact_id = sf.Contact.create({"LastName": "NewChamp"})["id"]
    # When a new primary contact role is added
    new_role = sf.OpportunityContactRole.create(
        {"OpportunityId": opp_id, "ContactId": contact_id, "IsPrimary": True, "Role": "Evaluator"}
    )["id"]
    # Then the old primary is cleared
    roles = {
        r["Id"]: r["IsPrimary"]
        for r in sf.query(f"SELECT Id, IsPrimary FROM OpportunityContactRole WHERE OpportunityId = '{opp_id}'")[
            "records"
        ]
    }
    assert roles == {old_role: False, new_role: True}


def test_content_note_round_trip(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    opp_id = emulator.records("Opportunity")[0]["Id"]
    html = "<p>Call notes &amp; next steps</p><p>Budget: 50k</p>"
    # When a note is created from base64 HTML and linked to the opportunity
    note_id = sf.ContentNote.create({"Title": "Call notes", "Content": base64.b64encode(html.encode()).decode()})["id"]
    sf.ContentDocumentLink.create({"ContentDocumentId": note_id, "LinkedEntityId": opp_id, "ShareType": "V"})
    # Then its id is a ContentDocument id, the content comes back as base64 and is dumped decoded
    assert note_id.startswith("069")
    assert base64.b64decode(sf.ContentNote.get(note_id)["Content"]).decode() == html
    assert sf.query(f"SELECT Title FROM ContentDocument WHERE Id = '{note_id}'")["records"][0]["Title"] == "Call notes"
    assert [n["Content"] for n in emulator.dump()["records"]["ContentNote"]] == [html]
    links = sf.query(f"SELECT ContentDocumentId FROM ContentDocumentLink WHERE LinkedEntityId = '{opp_id}'")
    assert [r["ContentDocumentId"] for r in links["records"]] == [note_id]
    # And plain text with an unescaped ampersand or a script tag is refused
    bad = base64.b64encode(b"Tom & Jerry <script>x</script>").decode()
    assert (
        error_of(lambda: sf.ContentNote.create({"Title": "x", "Content": bad}))["errorCode"]
        == "FIELD_INTEGRITY_EXCEPTION"
    )


def test_content_document_link_query_needs_a_filter(sf: simple_salesforce.Salesforce) -> None:
    # When ContentDocumentLink is queried without an Id filter
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query("SELECT Id FROM ContentDocumentLink")
    # Then MALFORMED_QUERY with the implementation restriction
    assert info.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    assert info.value.content[0]["message"].startswith("Implementation restriction: ContentDocumentLink requires")


def test_derived_fields(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    account_id = emulator.records("Account")[0]["Id"]
    # When an opportunity is closed won, a task completed and a lead created
    opp_id = sf.Opportunity.create(
        {"Name": "Deal", "StageName": "Qualification", "CloseDate": "2026-12-01", "AccountId": account_id}
    )["id"]
    before = sf.Opportunity.get(opp_id)
    sf.Opportunity.update(opp_id, {"StageName": "Closed Won"})
    opp = sf.Opportunity.get(opp_id)
    task = sf.Task.get(
        sf.Task.create({"Subject": "x", "Status": "Completed", "WhatId": opp_id, "ActivityDate": "2026-11-20"})["id"]
    )
    lead = sf.Lead.get(sf.Lead.create({"FirstName": "Ada", "LastName": "L", "Company": "C"})["id"])
    # Then IsClosed/IsWon follow the stage, task IsClosed the status, defaults apply, names are built
    assert (before["IsClosed"], before["IsWon"], before["Probability"]) == (False, False, 10)
    assert (opp["IsClosed"], opp["IsWon"], opp["Probability"]) == (True, True, 100)
    assert opp["LastModifiedDate"] >= before["LastModifiedDate"]
    assert task["IsClosed"] is True and task["Priority"] == "Normal" and task["TaskSubtype"] == "Task"
    assert task["OwnerId"] == emulator.integration_user_id and task["AccountId"] == account_id
    assert lead["Name"] == "Ada L" and lead["Status"] == "Open - Not Contacted" and lead["IsConverted"] is False
    assert sf.Opportunity.get(opp_id)["LastActivityDate"] == "2026-11-20"
    # And the standard stages are queryable
    stages = sf.query("SELECT ApiName, IsClosed, IsWon FROM OpportunityStage WHERE IsWon = true")["records"]
    assert [s["ApiName"] for s in stages] == ["Closed Won"]


def test_custom_object_and_reverse_relationship(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    opp_id = emulator.records("Opportunity")[0]["Id"]
    # When a custom record points at the opportunity
    review_id = sf.Deal_Review__c.create({"Opportunity__c": opp_id, "Metrics__c": "3x ROI"})["id"]
    # Then it has an a0-prefixed id and an auto-number name, and the reverse relationship finds it
    assert review_id.startswith("a0")
    result = sf.query(f"SELECT Name, (SELECT Metrics__c FROM Deal_Reviews__r) FROM Opportunity WHERE Id = '{opp_id}'")
    assert result["records"][0]["Deal_Reviews__r"]["records"][0]["Metrics__c"] == "3x ROI"
    parent = sf.query("SELECT Opportunity__r.Name FROM Deal_Review__c")["records"][0]
    assert parent["Opportunity__r"]["Name"] == "Globex expansion"


def test_all_day_event(sf: simple_salesforce.Salesforce) -> None:
    # When an all-day event is created from its date alone
    event = sf.Event.get(
        sf.Event.create({"Subject": "Offsite", "IsAllDayEvent": True, "ActivityDate": "2026-11-20"})["id"]
    )
    # Then it spans the day
    assert event["DurationInMinutes"] == 1440 and event["StartDateTime"] == "2026-11-20T00:00:00.000+0000"


def test_lead_activities_cannot_have_a_what_or_a_second_who(
    sf: simple_salesforce.Salesforce, emulator: Emulator
) -> None:
    lead_id = emulator.records("Lead")[0]["Id"]
    opp_id = emulator.records("Opportunity")[0]["Id"]
    contact_id = emulator.records("Contact")[0]["Id"]
    # When a task names a lead and an opportunity
    error = error_of(lambda: sf.Task.create({"Subject": "x", "WhoId": lead_id, "WhatId": opp_id}))
    # Then Salesforce's field integrity rule refuses it
    assert error["errorCode"] == "FIELD_INTEGRITY_EXCEPTION" and error["fields"] == ["WhatId"]
    # And a lead cannot join a task that already has a contact
    task_id = sf.Task.create({"Subject": "x", "WhoId": contact_id})["id"]
    assert (
        error_of(lambda: sf.TaskRelation.create({"TaskId": task_id, "RelationId": lead_id}))["errorCode"]
        == "FIELD_INTEGRITY_EXCEPTION"
    )


def test_duplicate_rule_blocks_a_single_create_naming_the_existing_record() -> None:
    # Given an org with a duplicate rule on Contact.Email
    org = {
        "duplicate_rules": [{"object": "Contact", "fields": ["Email"]}],
        "records": {"Contact": [{"Id": "jane", "LastName": "Doe", "Email": "jane@globex.com"}]},
    }
    with Emulator.from_fixture(org) as emu:
        sf = salesforce_client(emu.connection)
        existing = emu.records("Contact")[0]["Id"]
        # When the same email (other case) is created through sobjects/Contact
        error = error_of(lambda: sf.Contact.create({"LastName": "Dup", "Email": "JANE@globex.com"}))
        # Then DUPLICATES_DETECTED names the existing record (under Salesforce's misspelled key)
        match = error["duplicateResut"]["matchResults"][0]["matchRecords"][0]["record"]
        assert error["errorCode"] == "DUPLICATES_DETECTED" and match["Id"] == existing
