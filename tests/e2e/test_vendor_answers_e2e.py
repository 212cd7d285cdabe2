"""Salesforce answers that are not the documented shape, through `callsync run`.

A garbled 200 (a list where the composite object belongs, a body that is not JSON) ends the call
`FAILED` with the named permanent error `SalesforceMalformedResponse`, never AttributeError/KeyError,
and is not retried as if Salesforce were unavailable. Shapes: Salesforce REST API Developer Guide,
"Composite" (summarised in salesforce-rest.md, "Resources").
"""

from __future__ import annotations

import pytest
from callsync_dev.runner import DEMO_ORG, run

from tests.support.demo import load, write_event

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    "body",
    [[{"compositeResponse": []}], "<html>we are down for maintenance</html>"],
    ids=["list-instead-of-object", "not-json"],
)
def test_a_garbled_200_fails_the_call_with_a_named_permanent_error(tmp_path, body):
    # Given an org whose first composite request is answered 200 with a garbled body
    org = load(DEMO_ORG)
    org["faults"] = [{"method": "POST", "path": "composite$", "skip": 0, "times": 1, "status": 200, "body": body}]
    event = write_event(tmp_path, "call")
    # When the demo call runs
    result = run([event], org=org)
    # Then the call fails with the named error (not a Python error), the ledger records it once
    (outcome,) = result.runs
    assert outcome["status"] == "FAILED"
    assert outcome["error"].startswith("SalesforceMalformedResponse: Salesforce sent a malformed answer")
    assert "AttributeError" not in outcome["error"] and "KeyError" not in outcome["error"]
    # And it was not retried: the fault fires once, so a retry would have succeeded
    (execution,) = result.executions.values()
    assert execution["error"] == "SalesforceMalformedResponse"
