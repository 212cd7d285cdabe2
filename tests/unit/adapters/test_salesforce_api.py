"""SimpleSalesforceApi over a scripted HTTP transport: request counting, chunking, refresh, errors."""

from __future__ import annotations

import pytest
import requests
from callsync.errors import (
    OrgDisconnected,
    SalesforceRateLimited,
    SalesforceRejected,
    SalesforceSessionExpired,
    SalesforceUnavailable,
)

EXPIRED = (401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])


def test_query_follows_next_records_url_and_counts_each_page(gateway):
    # Given a query answered in three pages
    def handler(seen):
        if seen.path.endswith("/query/"):
            return 200, {
                "totalSize": 3,
                "done": False,
                "nextRecordsUrl": "/services/data/v62.0/query/01g-2000",
                "records": [{"Id": "1"}],
            }
        if seen.path.endswith("01g-2000"):
            return 200, {
                "totalSize": 3,
                "done": False,
                "nextRecordsUrl": "/services/data/v62.0/query/01g-4000",
                "records": [{"Id": "2"}],
            }
        return 200, {"totalSize": 3, "done": True, "records": [{"Id": "3"}]}

    g = gateway(handler)
    # When the query runs
    records = g.api.query("SELECT Id FROM Contact")
    # Then every page's records come back and each page counted once
    assert [r["Id"] for r in records] == ["1", "2", "3"]
    assert g.api.api_requests == 3
    assert g.http.seen[0].query["q"] == ["SELECT Id FROM Contact"]
    assert g.http.seen[0].headers["Authorization"] == "Bearer AT1"


def test_composite_is_one_request_with_relative_urls_made_absolute(gateway):
    # Given a composite with two subrequests
    g = gateway(
        lambda seen: (
            200,
            {
                "compositeResponse": [
                    {"body": {"id": "003"}, "httpStatusCode": 201, "referenceId": "c", "httpHeaders": {}},
                    {
                        "body": [{"errorCode": "NOT_FOUND", "message": "x"}],
                        "httpStatusCode": 404,
                        "referenceId": "d",
                        "httpHeaders": {},
                    },
                ]
            },
        )
    )
    # When it is sent
    answers = g.api.composite(
        [
            {"method": "POST", "url": "sobjects/Contact", "referenceId": "c", "body": {"LastName": "X"}},
            {"method": "GET", "url": "/services/data/v62.0/sobjects/Foo__c/describe", "referenceId": "d"},
        ],
        all_or_none=False,
    )
    # Then it is one request, sub-errors are returned (not raised), URLs are absolute
    assert g.api.api_requests == 1
    assert [a["httpStatusCode"] for a in answers] == [201, 404]
    sent = g.http.seen[0].body
    assert g.http.seen[0].path == "/services/data/v62.0/composite"
    assert [s["url"] for s in sent["compositeRequest"]] == [
        "/services/data/v62.0/sobjects/Contact",
        "/services/data/v62.0/sobjects/Foo__c/describe",
    ]
    assert sent["allOrNone"] is False


def test_composite_over_25_subrequests_is_refused_before_sending(gateway):
    g = gateway(lambda seen: (200, {"compositeResponse": []}))
    with pytest.raises(ValueError, match="25"):
        g.api.composite([{"method": "GET", "url": "limits/", "referenceId": f"r{i}"} for i in range(26)])
    assert g.http.seen == []


def test_collections_are_chunked_by_200_and_counted_per_chunk(gateway):
    # Given 450 records to create
    def handler(seen):
        return 200, [{"id": f"003{i}", "success": True, "errors": []} for i, _ in enumerate(seen.body["records"])]

    g = gateway(handler)
    records = [{"attributes": {"type": "Contact"}, "LastName": f"N{i}"} for i in range(450)]
    # When they are created
    results = g.api.create_records(records, all_or_none=True)
    # Then three collections requests of 200/200/50 went out, counted three
    assert [len(s.body["records"]) for s in g.http.seen] == [200, 200, 50]
    assert all(s.method == "POST" and s.path.endswith("/composite/sobjects") for s in g.http.seen)
    assert all(s.body["allOrNone"] is True for s in g.http.seen)
    assert len(results) == 450 and g.api.api_requests == 3


def test_update_records_patches_and_requires_ids(gateway):
    g = gateway(lambda seen: (200, [{"id": "006A", "success": True, "errors": []}]))
    assert g.api.update_records([{"attributes": {"type": "Opportunity"}, "Id": "006A", "NextStep": "x"}])
    assert g.http.seen[0].method == "PATCH"
    with pytest.raises(ValueError, match="Id"):
        g.api.update_records([{"attributes": {"type": "Opportunity"}, "NextStep": "x"}])


def test_describe_304_is_none_and_sends_if_modified_since(gateway):
    # Given Salesforce answers 304 Not Modified
    g = gateway(lambda seen: (304, None))
    # When a describe is revalidated
    answer = g.api.describe("Contact", if_modified_since="Tue, 01 Jul 2025 10:00:00 GMT")
    # Then it is None, the header was sent and the request counted
    assert answer is None
    assert g.http.seen[0].headers["If-Modified-Since"] == "Tue, 01 Jul 2025 10:00:00 GMT"
    assert g.api.api_requests == 1


def test_expired_session_refreshes_once_retries_once_and_persists_the_token(gateway):
    # Given the stored access token is expired and the refresh grant works
    def handler(seen):
        if seen.path == "/services/oauth2/token":
            return 200, {
                "access_token": "AT2",
                "instance_url": "https://acme.my.salesforce.test",
                "issued_at": "1760000000000",
                "token_type": "Bearer",
            }
        if seen.headers["Authorization"] == "Bearer AT1":
            return EXPIRED
        return 200, {"compositeResponse": [{"body": {}, "httpStatusCode": 200, "referenceId": "l", "httpHeaders": {}}]}

    g = gateway(handler)
    # When a request is made
    g.api.composite([{"method": "GET", "url": "limits/", "referenceId": "l"}])
    # Then one grant went out with the app credentials, the request was retried with the new token
    grants = [s for s in g.http.seen if s.path == "/services/oauth2/token"]
    assert len(grants) == 1
    assert grants[0].body == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["RT1"],
        "client_id": ["cid"],
        "client_secret": ["csecret"],
    }
    assert g.http.rest()[-1].headers["Authorization"] == "Bearer AT2"
    # and only the successful REST request counts (no 401, no OAuth)
    assert g.api.api_requests == 1
    # and the new token was stored, the refresh token kept
    stored = g.tokens.get("acme")
    assert stored["access_token"] == "AT2" and stored["refresh_token"] == "RT1"


def test_rotated_refresh_token_is_stored(gateway):
    def handler(seen):
        if seen.path == "/services/oauth2/token":
            return 200, {
                "access_token": "AT2",
                "refresh_token": "RT2",
                "instance_url": "https://acme.my.salesforce.test",
            }
        return EXPIRED if seen.headers["Authorization"] == "Bearer AT1" else (200, {"sobjects": []})

    g = gateway(handler)
    g.api.describe_global()
    assert g.tokens.get("acme")["refresh_token"] == "RT2"


def test_still_expired_after_refresh_is_session_expired_from_the_vendor_error(gateway):
    # Given every token is refused
    def handler(seen):
        if seen.path == "/services/oauth2/token":
            return 200, {"access_token": "AT2"}
        return EXPIRED

    g = gateway(handler)
    # When / Then one refresh, one retry, then SalesforceSessionExpired chained to the 401
    with pytest.raises(SalesforceSessionExpired) as caught:
        g.api.query("SELECT Id FROM User")
    assert caught.value.__cause__ is not None
    assert len(g.http.rest()) == 2 and g.refresher.grants == 1
    assert "AT1" not in str(caught.value) and "AT2" not in str(caught.value)


def test_invalid_grant_marks_the_org_disconnected_without_retrying(gateway):
    # Given the refresh token is revoked
    def handler(seen):
        if seen.path == "/services/oauth2/token":
            return 400, {"error": "invalid_grant", "error_description": "expired access/refresh token"}
        return EXPIRED

    g = gateway(handler)
    # When a request is made
    with pytest.raises(OrgDisconnected) as caught:
        g.api.query("SELECT Id FROM User")
    # Then the message tells how to reconnect, one grant was tried, and the secret is marked
    assert str(caught.value) == (
        "org acme is disconnected (invalid_grant): reconnect with `callsync connect --org-id acme`"
    )
    assert g.refresher.grants == 1
    assert g.tokens.secrets["acme"]["disconnected"]["reason"] == "invalid_grant"
    # and later callers fail fast, without any request
    with pytest.raises(OrgDisconnected):
        g.tokens.get("acme")


def test_token_endpoint_outage_is_retryable(gateway):
    def handler(seen):
        if seen.path == "/services/oauth2/token":
            return 503, {"error": "temporarily_unavailable"}
        return EXPIRED

    g = gateway(handler)
    with pytest.raises(SalesforceUnavailable):
        g.api.query("SELECT Id FROM User")
    assert "disconnected" not in g.tokens.secrets["acme"]


def test_server_errors_are_counted_and_mapped_with_the_vendor_cause(gateway):
    # Given a 503 SERVER_UNAVAILABLE
    g = gateway(lambda seen: (503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "try later"}]))
    # When / Then
    with pytest.raises(SalesforceUnavailable) as caught:
        g.api.query("SELECT Id FROM Opportunity WHERE Name = 'x'")
    assert caught.value.code == "SERVER_UNAVAILABLE"
    assert "query of Opportunity" in str(caught.value)
    assert type(caught.value.__cause__).__name__ == "SalesforceGeneralError"
    assert g.api.api_requests == 0  # a 5xx is not served, so not charged


def test_rejected_and_limit_answers_count_as_salesforce_charges_them(gateway):
    # Given a 400 (charged) and a REQUEST_LIMIT_EXCEEDED 403 (refused for the limit, not charged)
    answers = iter(
        [
            (400, [{"errorCode": "INVALID_FIELD", "message": "No such column"}]),
            (403, [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}]),
        ]
    )
    g = gateway(lambda seen: next(answers))
    # When both are tried / Then only the 400 counted
    with pytest.raises(SalesforceRejected):
        g.api.query("SELECT Foo__c FROM Contact")
    with pytest.raises(SalesforceRateLimited):
        g.api.query("SELECT Id FROM Contact")
    assert g.api.api_requests == 1


def test_rejected_query_names_the_code(gateway):
    g = gateway(lambda seen: (400, [{"errorCode": "MALFORMED_QUERY", "message": "unexpected token"}]))
    with pytest.raises(SalesforceRejected, match="MALFORMED_QUERY"):
        g.api.query("SELECT FROM")


def test_timeout_is_unavailable(gateway):
    def handler(seen):
        raise requests.ReadTimeout("read timed out")

    g = gateway(handler)
    with pytest.raises(SalesforceUnavailable) as caught:
        g.api.describe("Contact")
    assert isinstance(caught.value.__cause__, requests.ReadTimeout)
    assert g.api.api_requests == 0


def test_disconnected_org_fails_before_any_request(gateway):
    g = gateway(lambda seen: (200, {}), disconnected={"reason": "invalid_grant", "at": "2026-01-01T00:00:00Z"})
    with pytest.raises(OrgDisconnected):
        g.api.query("SELECT Id FROM User")
    assert g.http.seen == []


def test_every_answer_s_sforce_limit_info_becomes_the_org_s_usage_reading(gateway):
    # Given Salesforce answering with its usage header (REST API Developer Guide, "Limit Info Header")
    g = gateway(
        lambda seen: (200, {"totalSize": 0, "done": True, "records": []}, {"Sforce-Limit-Info": "api-usage=18/5000"})
    )
    seen = []
    g.api._on_usage = seen.append
    # When a query runs
    g.api.query("SELECT Id FROM Contact")
    # Then the reading is kept and handed on
    assert g.api.api_usage is not None and (g.api.api_usage.used, g.api.api_usage.limit) == (18, 5000)
    assert [(u.used, u.limit) for u in seen] == [(18, 5000)]


def test_read_usage_is_one_get_limits_request(gateway):
    # Given the limits resource answering with the header and DailyApiRequests
    g = gateway(
        lambda seen: (
            200,
            {"DailyApiRequests": {"Max": 15000, "Remaining": 2999}},
            {"Sforce-Limit-Info": "api-usage=12001/15000"},
        )
    )
    # When the usage is read / Then it is one request to limits/ and the header's reading
    usage = g.api.read_usage()
    assert (usage.used, usage.limit, g.api.api_requests) == (12001, 15000, 1)
    assert [s.path for s in g.http.rest()] == ["/services/data/v62.0/limits"]


def test_read_usage_falls_back_on_daily_api_requests_without_the_header(gateway):
    g = gateway(lambda seen: (200, {"DailyApiRequests": {"Max": 15000, "Remaining": 2999}}))
    usage = g.api.read_usage()
    assert (usage.used, usage.limit) == (12001, 15000)
