"""Successful answers that are not the documented shape become ``SalesforceMalformedResponse``.

Shapes: Salesforce REST API Developer Guide, "Query", "Composite" and "sObject Collections"
(summarised in salesforce-rest.md, "Resources"). A garbled 200 must never surface as
AttributeError/KeyError/TypeError in an adapter or a service.
"""

from __future__ import annotations

import pytest
from callsync.errors import InvalidRequestBody, PermanentError, RetryableError, SalesforceMalformedResponse

QUERY = {"method": "GET", "url": "query/?q=SELECT+Id+FROM+Contact", "referenceId": "q"}
CREATE = {"method": "POST", "url": "sobjects/Task", "referenceId": "t", "body": {"Subject": "x"}}


def sub(ref, status, body):
    return {"referenceId": ref, "httpStatusCode": status, "httpHeaders": {}, "body": body}


def test_the_malformed_answer_class_is_permanent():
    # Given the error tree / Then a garbled answer is not retried as if Salesforce were down
    assert issubclass(SalesforceMalformedResponse, PermanentError)
    assert not issubclass(SalesforceMalformedResponse, RetryableError)


def test_a_composite_answered_with_a_list_is_malformed(gateway):
    # Given Salesforce answers 200 with a list where the composite object belongs
    g = gateway(lambda seen: (200, [sub("q", 200, {"done": True, "records": []})]))
    # When a composite is sent / Then the gateway names the problem
    with pytest.raises(SalesforceMalformedResponse, match="composite request"):
        g.api.composite([QUERY])


def test_a_composite_without_an_answer_for_a_subrequest_is_malformed(gateway):
    # Given the answer leaves out one of the two subrequests
    g = gateway(lambda seen: (200, {"compositeResponse": [sub("q", 200, {"done": True, "records": []})]}))
    # When both are sent / Then the missing one is named
    with pytest.raises(SalesforceMalformedResponse, match=r"no answer for subrequest\(s\) t"):
        g.api.composite([QUERY, CREATE])


@pytest.mark.parametrize(
    ("request_", "body"),
    [
        (QUERY, [{"Id": "003"}]),  # a list where a query page belongs
        (QUERY, {"done": True}),  # no records
        (QUERY, {"done": True, "records": ["003"]}),  # records that are not objects
        (CREATE, {"success": True}),  # a create without an id
        (CREATE, ["00T"]),
    ],
)
def test_a_successful_subresponse_of_the_wrong_shape_is_malformed(gateway, request_, body):
    # Given one subresponse is 2xx but its body is not what the subrequest answers with
    g = gateway(lambda seen: (200, {"compositeResponse": [sub(request_["referenceId"], 200, body)]}))
    # When the composite is sent / Then it is a malformed answer naming the subrequest
    with pytest.raises(SalesforceMalformedResponse, match=f"subrequest {request_['referenceId']}"):
        g.api.composite([request_])


def test_a_failed_subresponse_keeps_its_error_body_whatever_its_shape(gateway):
    # Given a subrequest failed (its body is an error list, not a query page)
    error = [{"errorCode": "INVALID_FIELD", "message": "No such column"}]
    g = gateway(lambda seen: (200, {"compositeResponse": [sub("q", 400, error)]}))
    # When the composite is sent / Then the subresponse is returned for the error tree to classify
    (answer,) = g.api.composite([QUERY])
    assert answer["httpStatusCode"] == 400 and answer["body"] == error


def test_a_collection_with_fewer_results_than_records_is_malformed(gateway):
    # Given 2 records sent and one result back
    g = gateway(lambda seen: (200, [{"id": "003A", "success": True, "errors": []}]))
    records = [{"attributes": {"type": "Contact"}, "LastName": n} for n in ("A", "B")]
    # When they are created / Then the gateway refuses the answer instead of pairing records wrongly
    with pytest.raises(SalesforceMalformedResponse, match="1 results for 2 records"):
        g.api.create_records(records)


def test_a_collection_answered_with_an_object_is_malformed(gateway):
    g = gateway(lambda seen: (200, {"id": "003A", "success": True}))
    with pytest.raises(SalesforceMalformedResponse):
        g.api.create_records([{"attributes": {"type": "Contact"}, "LastName": "A"}])


def test_a_query_page_that_is_a_list_is_malformed(gateway):
    g = gateway(lambda seen: (200, [{"Id": "003"}]))
    with pytest.raises(SalesforceMalformedResponse, match="query of Contact"):
        g.api.query("SELECT Id FROM Contact")


def test_a_body_that_is_not_json_is_malformed_not_unavailable(gateway):
    # Given a 200 whose body is HTML (a proxy page), not JSON
    g = gateway(lambda seen: (200, b"<html>maintenance</html>"))
    # When a composite is sent / Then it is a malformed answer (permanent), not SalesforceUnavailable
    with pytest.raises(SalesforceMalformedResponse, match="not JSON"):
        g.api.composite([QUERY])


def test_a_describe_without_fields_is_malformed(gateway):
    g = gateway(lambda seen: (200, {"name": "Contact", "fields": {"Email": "email"}}))
    with pytest.raises(SalesforceMalformedResponse, match="describe of Contact"):
        g.api.describe("Contact")


def test_a_request_body_with_nan_is_never_sent_and_is_permanent(gateway):
    # Given a record carrying NaN (Python's json would write it; Salesforce's parser refuses it)
    g = gateway(lambda seen: (200, [{"id": "006A", "success": True, "errors": []}]))
    # When it is sent / Then requests refuses to encode it: a permanent error, and nothing went out
    with pytest.raises(InvalidRequestBody, match="NaN"):
        g.api.update_records([{"attributes": {"type": "Opportunity"}, "Id": "006A", "Amount": float("nan")}])
    assert g.http.rest() == []


class AnsweringApi:
    """ports.SalesforceApi whose composite answers every query with the given records."""

    instance_url = "https://acme.my.salesforce.test"
    api_version = "62.0"
    api_requests = 0

    def __init__(self, records):
        self.records = records

    def composite(self, subrequests, *, all_or_none=False):
        return [sub(s["referenceId"], 200, {"done": True, "records": self.records}) for s in subrequests]


@pytest.mark.parametrize(
    "records",
    [
        [{"Email": "jane@globex.com"}],
        [{"Id": None, "Email": "a@x.com"}, {"Id": "003A", "Email": "b@x.com"}],
    ],
    ids=["no-Id", "wrong-types"],
)
def test_records_without_the_selected_keys_are_malformed_not_a_key_error(records):
    from callsync.adapters.salesforce_people import SalesforcePeopleWriter

    # Given a lookup answered with records that lack the Id the query selected (or carry the wrong types)
    people = SalesforcePeopleWriter(AnsweringApi(records))
    # When the adapter reads them / Then the step sees the named error, never KeyError/TypeError
    with pytest.raises(SalesforceMalformedResponse, match="Contact/Lead lookup"):
        people.find_people(["jane@globex.com"])


def test_a_describe_subresponse_with_no_body_is_malformed(gateway):
    # Given a 200 describe subresponse without a body (a 304 carries none; a 200 must)
    g = gateway(lambda seen: (200, {"compositeResponse": [sub("d", 200, None)]}))
    # When a describe composite is sent / Then it is malformed, not an empty describe
    with pytest.raises(SalesforceMalformedResponse, match="subrequest d"):
        g.api.composite([{"method": "GET", "url": "sobjects/Contact/describe", "referenceId": "d"}])


def test_a_304_describe_subresponse_needs_no_body(gateway):
    g = gateway(lambda seen: (200, {"compositeResponse": [sub("d", 304, None)]}))
    (answer,) = g.api.composite([{"method": "GET", "url": "sobjects/Contact/describe", "referenceId": "d"}])
    assert answer["httpStatusCode"] == 304
