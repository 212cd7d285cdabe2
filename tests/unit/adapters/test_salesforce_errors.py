"""Every Salesforce errorCode of reference/salesforce-rest.md maps to one callsync error class."""

from __future__ import annotations

import pytest
import requests
from callsync.adapters.salesforce_errors import (
    from_requests_exception,
    from_salesforce_exception,
    raise_for_save_result,
    raise_for_save_results,
    raise_for_subresponse,
    raise_for_subresponses,
)
from callsync.errors import (
    MissingPermission,
    PermanentError,
    RetryableError,
    SalesforceRateLimited,
    SalesforceRejected,
    SalesforceRowLocked,
    SalesforceSessionExpired,
    SalesforceUnavailable,
)
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

# (errorCode, HTTP status, message, expected class)
TABLE = [
    ("INVALID_FIELD", 400, "No such column 'Foo__c' on entity 'Contact'", SalesforceRejected),
    ("INVALID_FIELD", 400, "No such column 'Secret__c' on sobject of type Opportunity", MissingPermission),
    ("MALFORMED_QUERY", 400, "unexpected token: FROM", SalesforceRejected),
    ("INVALID_TYPE", 400, "sObject type 'Foo__c' is not supported.", SalesforceRejected),
    ("NOT_FOUND", 404, "The requested resource does not exist", SalesforceRejected),
    ("REQUIRED_FIELD_MISSING", 400, "Required fields are missing: [LastName]", SalesforceRejected),
    (
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        400,
        "Stage: bad value for restricted picklist field: X",
        SalesforceRejected,
    ),
    ("STRING_TOO_LONG", 400, "Subject: data value too large: xxx (max length=255)", SalesforceRejected),
    ("FIELD_CUSTOM_VALIDATION_EXCEPTION", 400, "Close date must be in the future", SalesforceRejected),
    ("INVALID_FIELD_FOR_INSERT_UPDATE", 400, "Unable to create/update fields: Industry", MissingPermission),
    ("DUPLICATES_DETECTED", 400, "Use one of these records?", SalesforceRejected),
    ("INVALID_CROSS_REFERENCE_KEY", 400, "invalid cross reference id", SalesforceRejected),
    ("INSUFFICIENT_ACCESS_OR_READONLY", 400, "insufficient access rights on object id", MissingPermission),
    ("INSUFFICIENT_ACCESS_OR_READONLY", 403, "insufficient access rights on object id", MissingPermission),
    ("ENTITY_IS_DELETED", 404, "entity is deleted", SalesforceRejected),
    ("UNABLE_TO_LOCK_ROW", 400, "unable to obtain exclusive access to this record", SalesforceRowLocked),
    ("UNABLE_TO_LOCK_ROW", 500, "unable to obtain exclusive access to this record", SalesforceRowLocked),
    ("REQUEST_LIMIT_EXCEEDED", 403, "TotalRequests Limit exceeded.", SalesforceRateLimited),
    ("INVALID_SESSION_ID", 401, "Session expired or invalid", SalesforceSessionExpired),
    ("SERVER_UNAVAILABLE", 503, "try later", SalesforceUnavailable),
    ("SOMETHING_NEW", 502, "bad gateway", SalesforceUnavailable),
    ("SOMETHING_NEW", 403, "refused", MissingPermission),
    ("SOMETHING_NEW", 400, "odd", SalesforceRejected),
]

EXCEPTIONS = {
    400: SalesforceMalformedRequest,
    401: SalesforceExpiredSession,
    403: SalesforceRefusedRequest,
    404: SalesforceResourceNotFound,
}


@pytest.mark.parametrize(("code", "status", "message", "expected"), TABLE)
def test_rest_exception_maps_to_class_and_keeps_code(code, status, message, expected):
    # Given simple-salesforce raised for a whole REST request
    exc_cls = EXCEPTIONS.get(status, SalesforceGeneralError)
    vendor = exc_cls(
        "https://x/services/data/v62.0/query/?q=secret", status, "query", [{"message": message, "errorCode": code}]
    )
    # When it is translated
    error = from_salesforce_exception(vendor, "query of Contact")
    # Then the class, the code and a message naming the code and context come out; no URL
    assert type(error) is expected
    assert error.code == code
    assert code in error.message and "query of Contact" in error.message
    assert "https://" not in error.message


@pytest.mark.parametrize(("code", "status", "message", "expected"), TABLE)
def test_composite_subresponse_maps_like_rest(code, status, message, expected):
    # Given a failed composite sub-response
    sub = {
        "body": [{"message": message, "errorCode": code, "fields": ["Name"]}],
        "httpStatusCode": status,
        "referenceId": "newContact",
    }
    # When / Then it raises the same class, naming the reference and field
    with pytest.raises(expected) as caught:
        raise_for_subresponse(sub)
    assert caught.value.code == code
    assert "newContact" in caught.value.message and "Name" in caught.value.message


@pytest.mark.parametrize(("code", "status", "message", "expected"), TABLE)
def test_collections_save_result_maps_by_status_code(code, status, message, expected):
    # Given a failed sObject Collections result (statusCode, not errorCode; no HTTP status per record)
    result = {"success": False, "errors": [{"statusCode": code, "message": message, "fields": ["LastName"]}]}
    # When it is raised
    if code == "SOMETHING_NEW":
        expected = SalesforceRejected  # without an HTTP status an unknown code is a rejection
    if code == "INVALID_FIELD":
        expected = MissingPermission  # a collections save is always a write: a hidden field
    with pytest.raises(expected) as caught:
        raise_for_save_result(result, "Contact")
    # Then the object, the field and the code are named
    assert caught.value.code == code
    assert "Contact" in caught.value.message and "LastName" in caught.value.message


def test_successful_subresponses_and_saves_do_not_raise():
    # Given successes (and a 304 revalidation) / When raised for / Then nothing happens
    raise_for_subresponse({"body": {"id": "003"}, "httpStatusCode": 201, "referenceId": "a"})
    raise_for_subresponse({"body": None, "httpStatusCode": 304, "referenceId": "a"})
    raise_for_save_result({"id": "003", "success": True, "errors": []}, "Contact")


def test_write_subrequest_invalid_field_is_a_missing_permission_even_with_query_wording():
    # Given an INVALID_FIELD answer to a PATCH subrequest
    sub = {
        "body": [{"message": "No such column 'Secret__c' on entity 'Opportunity'", "errorCode": "INVALID_FIELD"}],
        "httpStatusCode": 400,
        "referenceId": "opp",
    }
    # When the caller says the subrequest was a write / Then it is a permission problem
    with pytest.raises(MissingPermission):
        raise_for_subresponse(sub, method="PATCH")
    with pytest.raises(SalesforceRejected):
        raise_for_subresponse(sub, method="GET")


def test_root_cause_is_raised_before_processing_halted():
    # Given an allOrNone composite where the second subrequest failed and halted the first
    subs = [
        {"body": [{"errorCode": "PROCESSING_HALTED", "message": "halted"}], "httpStatusCode": 400, "referenceId": "a"},
        {"body": [{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}], "httpStatusCode": 400, "referenceId": "b"},
    ]
    # When / Then the lock (retryable) is what surfaces
    with pytest.raises(SalesforceRowLocked):
        raise_for_subresponses(subs)


def test_rolled_back_records_do_not_hide_the_failing_one():
    # Given an allOrNone collections answer
    results = [
        {"success": False, "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "x"}]},
        {
            "success": False,
            "errors": [
                {
                    "statusCode": "REQUIRED_FIELD_MISSING",
                    "message": "Required fields are missing: [LastName]",
                    "fields": ["LastName"],
                }
            ],
        },
    ]
    # When / Then the required-field rejection is raised, naming the object
    with pytest.raises(SalesforceRejected, match=r"Lead.*REQUIRED_FIELD_MISSING"):
        raise_for_save_results(results, ["Contact", "Lead"])


@pytest.mark.parametrize(
    "vendor",
    [requests.Timeout("read timed out"), requests.ConnectionError("refused"), requests.exceptions.SSLError("bad cert")],
)
def test_no_answer_is_unavailable(vendor):
    # Given the request got no answer / When translated / Then it is retryable
    error = from_requests_exception(vendor, "composite request")
    assert isinstance(error, SalesforceUnavailable)
    assert isinstance(error, RetryableError)


def test_every_class_is_in_the_right_tree():
    # Given the classes the mapping produces / Then retryable and permanent ones are where the ASL expects
    for cls in (SalesforceUnavailable, SalesforceRowLocked, SalesforceRateLimited, SalesforceSessionExpired):
        assert issubclass(cls, RetryableError)
    for cls in (MissingPermission, SalesforceRejected):
        assert issubclass(cls, PermanentError)


def test_text_body_and_duplicate_key_spelling_are_accepted():
    # Given a non-JSON error body / When translated / Then the text is kept and the status decides
    vendor = SalesforceGeneralError("u", 503, "composite", "Service Unavailable")
    error = from_salesforce_exception(vendor, "composite request")
    assert isinstance(error, SalesforceUnavailable) and "Service Unavailable" in error.message
