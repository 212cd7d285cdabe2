"""REST resources through simple-salesforce over HTTPS: versions, describe, sObject CRUD, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
import simple_salesforce
from callsync_dev.emulator import Emulator
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)


def raw(emulator: Emulator, method: str, path: str, **kwargs: object) -> requests.Response:
    """A plain HTTPS request to the emulator with the connection's token."""
    conn = emulator.connection
    session = requests.Session()
    session.trust_env = False
    headers = {"Authorization": f"Bearer {conn['access_token']}", **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    return session.request(method, conn["instance_url"] + path, headers=headers, verify=conn["ca_file"], **kwargs)  # type: ignore[arg-type]


def test_versions_list_includes_pinned_version(emulator: Emulator) -> None:
    # When the versions resource is read
    response = raw(emulator, "GET", "/services/data/")
    # Then it lists 62.0 with its URL
    assert {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"} in response.json()


def test_global_describe_lists_shared_activity_objects(sf: simple_salesforce.Salesforce) -> None:
    # When the org with Shared Activities is described
    names = {o["name"] for o in sf.describe()["sobjects"]}
    # Then TaskRelation and TaskWhoRelation are listed, with the custom object
    assert {"TaskRelation", "TaskWhoRelation", "EventRelation", "Deal_Review__c", "Contact"} <= names


def test_global_describe_without_shared_activities_hides_relations() -> None:
    # Given an org without Shared Activities
    with Emulator.from_fixture({"shared_activities": False}) as emu:
        sf = _client(emu)
        # When it is described
        names = {o["name"] for o in sf.describe()["sobjects"]}
        # Then the relation objects are absent, and their sobject URL is NOT_FOUND
        assert "TaskRelation" not in names and "TaskWhoRelation" not in names and "EventRelation" not in names
        with pytest.raises(SalesforceResourceNotFound):
            sf.EventRelation.describe()


def test_describe_fields_types_and_picklists(sf: simple_salesforce.Salesforce) -> None:
    # When Task and Opportunity are described
    task = {f["name"]: f for f in sf.Task.describe()["fields"]}
    opp = sf.Opportunity.describe()
    fields = {f["name"]: f for f in opp["fields"]}
    # Then the overridden Task.Type picklist and the restricted TaskSubtype are reported
    assert [v["value"] for v in task["Type"]["picklistValues"]] == ["Call", "Discovery"]
    assert task["TaskSubtype"]["restrictedPicklist"] is True and task["TaskSubtype"]["updateable"] is False
    assert task["Description"]["filterable"] is False and task["Subject"]["length"] == 255
    assert task["WhatId"]["referenceTo"][:2] == ["Account", "Opportunity"]
    assert "Deal_Review__c" in task["WhatId"]["referenceTo"]
    # And custom fields, hidden fields and required fields are as the fixture says
    assert fields["Competitors__c"]["type"] == "multipicklist" and fields["Competitors__c"]["custom"] is True
    assert "Secret__c" not in fields
    assert fields["IsClosed"]["updateable"] is False
    required = {n for n, f in fields.items() if f["createable"] and not f["nillable"] and not f["defaultedOnCreate"]}
    assert required == {"Name", "StageName", "CloseDate"}
    # And child relationships include the custom reverse relationship
    rels = {r["relationshipName"] for r in opp["childRelationships"]}
    assert {"OpportunityContactRoles", "Deal_Reviews__r"} <= rels


def test_read_only_field_is_visible_but_not_updateable(sf: simple_salesforce.Salesforce) -> None:
    # When Account is described
    fields = {f["name"]: f for f in sf.Account.describe()["fields"]}
    # Then Industry is there but neither createable nor updateable
    assert fields["Industry"]["updateable"] is False and fields["Industry"]["createable"] is False


def test_describe_honours_if_modified_since(emulator: Emulator) -> None:
    # Given the Last-Modified of a describe
    first = raw(emulator, "GET", "/services/data/v62.0/sobjects/Contact/describe")
    assert first.status_code == 200
    # When asked again with If-Modified-Since at (or after) that date
    again = raw(
        emulator,
        "GET",
        "/services/data/v62.0/sobjects/Contact/describe",
        headers={"If-Modified-Since": first.headers["Last-Modified"]},
    )
    # Then the answer is 304 without a body; an older date gets 200
    assert again.status_code == 304 and again.content == b""
    older = format_datetime(datetime.now(UTC) - timedelta(days=2), usegmt=True)
    assert (
        raw(
            emulator, "GET", "/services/data/v62.0/sobjects/Contact/describe", headers={"If-Modified-Since": older}
        ).status_code
        == 200
    )


def test_create_get_update_delete(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    # Given a new account
    account = sf.Account.create({"Name": "Initech", "NumberOfEmployees": 50})
    account_id = account["id"]
    assert account_id.startswith("001") and account["success"] is True and account["errors"] == []
    # When it is read, updated through its 15-char id, read again and deleted
    record = sf.Account.get(account_id)
    assert record["attributes"]["type"] == "Account" and record["NumberOfEmployees"] == 50
    assert record["CreatedDate"].endswith("+0000")
    assert sf.Account.update(account_id[:15], {"Website": "https://initech.example"}) == 204
    assert sf.Account.get(account_id)["Website"] == "https://initech.example"
    assert sf.Account.delete(account_id) == 204
    # Then it is gone for GET and the delete is visible in queryAll only
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get(account_id)
    assert sf.query(f"SELECT Id FROM Account WHERE Id = '{account_id}'")["totalSize"] == 0
    assert (
        sf.query_all(f"SELECT Id, IsDeleted FROM Account WHERE Id = '{account_id}'", include_deleted=True)["records"][
            0
        ]["IsDeleted"]
        is True
    )


def test_get_with_fields_parameter(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    # Given the fixture contact
    contact_id = emulator.records("Contact")[0]["Id"]
    # When only two fields are asked for
    record = sf.Contact.get(contact_id, params={"fields": "Name,Email"})
    # Then only those come back
    assert set(record) == {"attributes", "Name", "Email"} and record["Name"] == "Hank Scorpio"


def test_unknown_object_and_path_are_not_found(emulator: Emulator, sf: simple_salesforce.Salesforce) -> None:
    # When an unknown object or path is requested
    with pytest.raises(SalesforceResourceNotFound) as info:
        sf.Nope__c.describe()
    # Then NOT_FOUND comes back as JSON
    assert info.value.content[0]["errorCode"] == "NOT_FOUND"
    assert raw(emulator, "GET", "/services/data/v62.0/nothing/here").status_code == 404
    assert raw(emulator, "GET", "/elsewhere").json()[0]["errorCode"] == "NOT_FOUND"


def test_wrong_method_is_405(emulator: Emulator) -> None:
    # When PUT is sent to a record
    response = raw(emulator, "PUT", "/services/data/v62.0/sobjects/Contact/describe")
    # Then 405 with a JSON error
    assert response.status_code == 405 and response.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_malformed_json_is_400(emulator: Emulator) -> None:
    # When a create body is not JSON
    response = raw(
        emulator,
        "POST",
        "/services/data/v62.0/sobjects/Contact/",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    # Then JSON_PARSER_ERROR, no traceback
    assert response.status_code == 400 and response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert "Traceback" not in response.text


def test_bad_token_is_invalid_session(emulator: Emulator) -> None:
    # Given a client with a made-up token
    conn = {**emulator.connection, "access_token": "00D!bogus"}
    sf = _client_from(conn)
    # When it calls the API
    with pytest.raises(simple_salesforce.SalesforceExpiredSession) as info:
        sf.query("SELECT Id FROM Contact")
    # Then 401 INVALID_SESSION_ID
    assert info.value.content[0]["errorCode"] == "INVALID_SESSION_ID"


def test_limits_resource_and_header(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    # When the limits resource is read after one query
    sf.query("SELECT Id FROM Contact")
    limits = sf.limits()
    # Then DailyApiRequests reflects two requests and the header was parsed by simple-salesforce
    assert limits["DailyApiRequests"] == {"Max": 15000, "Remaining": 15000 - 2}
    assert sf.api_usage["api-usage"].used == 2 and sf.api_usage["api-usage"].total == 15000


def test_unknown_server_error_never_leaks_a_traceback(emulator: Emulator) -> None:
    # When a composite body is a list instead of an object
    response = raw(emulator, "POST", "/services/data/v62.0/composite", json=[1, 2])
    # Then a Salesforce-shaped 400, not a traceback
    assert response.status_code == 400 and "Traceback" not in response.text
    with pytest.raises((SalesforceMalformedRequest, SalesforceGeneralError)):
        _client(emulator).restful("composite", method="POST", json={"compositeRequest": "x"})


def _client(emu: Emulator) -> simple_salesforce.Salesforce:
    return _client_from(emu.connection)


def _client_from(conn: dict[str, str]) -> simple_salesforce.Salesforce:
    from callsync_dev.emulator.testing import salesforce_client

    return salesforce_client(conn)


def test_internal_error_is_a_salesforce_shaped_500(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a handler that crashes
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(emulator.app, "dispatch", boom)
    # When a request reaches it
    response = raw(emulator, "GET", "/services/data/v62.0/limits")
    # Then a JSON 500 without the traceback or the message
    assert response.status_code == 500 and response.json()[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    assert "secret internals" not in response.text and "Traceback" not in response.text


def test_deleting_an_account_deletes_its_contacts(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    # When the fixture account is deleted
    sf.Account.delete(emulator.records("Account")[0]["Id"])
    # Then its contacts, opportunities and their roles are gone too
    assert emulator.records("Contact") == [] and emulator.records("Opportunity") == []
    assert emulator.records("OpportunityContactRole") == []


def test_resource_directory_basic_info_and_identity(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    # When the resource directory, an object's basic info and the identity URL are read
    directory = raw(emulator, "GET", "/services/data/v62.0/").json()
    basic = sf.Contact.metadata()
    identity = raw(emulator, "GET", f"/id/{emulator.store.org_id}/{emulator.integration_user_id}").json()
    # Then each has Salesforce's shape
    assert directory["query"] == "/services/data/v62.0/query"
    assert basic["objectDescribe"]["keyPrefix"] == "003" and basic["recentItems"] == []
    assert identity["user_id"] == emulator.integration_user_id


def test_collections_retrieve(sf: simple_salesforce.Salesforce, emulator: Emulator) -> None:
    contact_id = emulator.records("Contact")[0]["Id"]
    # When records are fetched by ids through a collection, one of them missing
    records = sf.restful(
        "composite/sobjects/Contact", params={"ids": f"{contact_id},003000000000000AAA", "fields": "Name,Email"}
    )
    # Then found ones come back with the asked fields and the missing one is null
    assert records[0]["Name"] == "Hank Scorpio" and records[1] is None


def test_revoked_access_token_is_dead(emulator: Emulator) -> None:
    conn = emulator.connection
    session = requests.Session()
    session.trust_env = False
    # When the access token is revoked
    response = session.post(
        conn["instance_url"] + "/services/oauth2/revoke", data={"token": conn["access_token"]}, verify=conn["ca_file"]
    )
    # Then the API refuses it
    assert response.status_code == 200
    assert raw(emulator, "GET", "/services/data/v62.0/limits").status_code == 401
