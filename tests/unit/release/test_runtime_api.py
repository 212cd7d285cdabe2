"""The Runtime API emulator speaks the Lambda Runtime API 2018-06-01 as awslambdaric uses it."""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

import pytest
from callsync_dev.runtime_api import RuntimeApi

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"


def request(
    api: RuntimeApi, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"http://{api.address}/2018-06-01/runtime{path}", data=data, method=method, headers=headers or {}
    )
    with urllib.request.urlopen(req, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


@pytest.fixture
def api() -> Any:
    with RuntimeApi() as running:
        yield running


def test_next_hands_out_the_queued_event_with_the_invocation_headers(api: RuntimeApi) -> None:
    # Given an invocation queued for a function with a 30 s timeout
    request_id = api.submit({"hello": "world"}, function_arn=FUNCTION_ARN, timeout_seconds=30)
    # When the runtime asks for the next invocation
    status, headers, body = request(api, "GET", "/invocation/next")
    # Then it gets the event and the headers the runtime interface client reads
    assert status == 200
    assert json.loads(body) == {"hello": "world"}
    assert headers["Lambda-Runtime-Aws-Request-Id"] == request_id
    assert headers["Lambda-Runtime-Invoked-Function-Arn"] == FUNCTION_ARN
    assert int(headers["Lambda-Runtime-Deadline-Ms"]) > 0
    assert headers["Lambda-Runtime-Trace-Id"].startswith("Root=1-")


def test_a_response_ends_the_invocation_with_the_functions_result(api: RuntimeApi) -> None:
    # Given an invocation the runtime picked up
    request_id = api.submit({}, function_arn=FUNCTION_ARN, timeout_seconds=30)
    request(api, "GET", "/invocation/next")
    # When the runtime posts the handler's result
    status, _, _ = request(api, "POST", f"/invocation/{request_id}/response", {"ok": True})
    # Then the API accepts it and the invocation's outcome is that result
    assert status == 202
    outcome = api.wait(request_id, timeout_seconds=5)
    assert outcome is not None and not outcome.failed
    assert json.loads(outcome.response or b"") == {"ok": True}


def test_an_error_ends_the_invocation_as_a_function_error(api: RuntimeApi) -> None:
    # Given an invocation the runtime picked up
    request_id = api.submit({}, function_arn=FUNCTION_ARN, timeout_seconds=30)
    request(api, "GET", "/invocation/next")
    # When the handler raised and the runtime reports it
    error = {"errorMessage": "Salesforce is down", "errorType": "SalesforceUnavailable", "stackTrace": []}
    request(
        api,
        "POST",
        f"/invocation/{request_id}/error",
        error,
        headers={"Lambda-Runtime-Function-Error-Type": "SalesforceUnavailable"},
    )
    # Then the outcome is a failure carrying the error type Step Functions would match on
    outcome = api.wait(request_id, timeout_seconds=5)
    assert outcome is not None and outcome.failed
    assert outcome.error == error


def test_an_init_error_ends_the_wait_without_an_outcome(api: RuntimeApi) -> None:
    # Given an invocation waiting for a runtime that cannot import its handler
    request_id = api.submit({}, function_arn=FUNCTION_ARN, timeout_seconds=30)
    # When the runtime reports an init error
    request(
        api, "POST", "/init/error", {"errorMessage": "No module named 'app'", "errorType": "Runtime.ImportModuleError"}
    )
    # Then waiting returns at once with no outcome, and the init error is kept
    assert api.wait(request_id, timeout_seconds=5) is None
    assert api.init_error is not None and api.init_error["errorType"] == "Runtime.ImportModuleError"


def test_waiting_stops_when_the_function_process_is_gone(api: RuntimeApi) -> None:
    # Given an invocation nobody will answer, and a process that is no longer alive
    request_id = api.submit({}, function_arn=FUNCTION_ARN, timeout_seconds=30)
    gone = threading.Event()
    gone.set()
    # When waiting for it
    outcome = api.wait(request_id, timeout_seconds=30, alive=lambda: not gone.is_set())
    # Then the wait ends without an outcome instead of running out the timeout
    assert outcome is None
