"""The ASL retries every retryable error class by name, and catches everything else (errors.py docstring)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from callsync.errors import all_retryable_names

ASL = Path(__file__).resolve().parents[2] / "statemachine" / "post_call_sync.asl.json"
STEPS = ("CheckApiBudget", "MatchOpportunity", "CreateContacts", "SyncFields", "LogActivity")
LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}


def states() -> dict[str, Any]:
    return dict(json.loads(ASL.read_text())["States"])


def retried_names(state: dict[str, Any]) -> set[str]:
    return {name for retrier in state.get("Retry", []) for name in retrier["ErrorEquals"]}


def test_every_retryable_class_name_is_retried_by_every_step() -> None:
    # Given the retryable classes of callsync.errors, subclasses of subclasses included
    names = all_retryable_names()
    assert "SalesforceUnavailable" in names  # the tree is really read
    # Then each step's Retry lists each of them, and the Lambda service errors
    for step in STEPS:
        missing = (names | LAMBDA_SERVICE_ERRORS) - retried_names(states()[step])
        assert not missing, f"{step} does not retry {sorted(missing)}"


def test_retries_back_off_exponentially_with_jitter() -> None:
    for step in STEPS:
        for retrier in states()[step]["Retry"]:
            assert retrier["BackoffRate"] > 1
            assert retrier["JitterStrategy"] == "FULL"
            assert retrier["MaxAttempts"] >= 2
            assert retrier.get("MaxDelaySeconds", 0) > retrier["IntervalSeconds"]


def test_no_retrier_retries_a_permanent_error_or_everything() -> None:
    from callsync import errors

    permanent = {
        cls.__name__
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.PermanentError)
    }
    for name, state in states().items():
        retried = retried_names(state)
        assert not retried & permanent, name
        assert "States.ALL" not in retried, name


def test_every_step_catches_everything_into_record_failure_then_fails() -> None:
    all_states = states()
    for step in STEPS:
        (catcher,) = all_states[step]["Catch"]
        assert catcher["ErrorEquals"] == ["States.ALL"]
        assert catcher["Next"] == "RecordFailure"
        assert catcher["ResultPath"] == "$.error"  # keeps the call in the state for RecordFailure
    failure = all_states["RecordFailure"]
    assert failure["Parameters"]["status"] == "FAILED"
    assert failure["Parameters"]["error.$"] == "$.error"
    assert all_states[failure["Next"]]["Type"] == "Fail"


def test_steps_run_in_order_and_end_by_recording_success() -> None:
    all_states = states()
    order = [json.loads(ASL.read_text())["StartAt"]]
    while following := all_states[order[-1]].get("Next") or all_states[order[-1]].get("Default"):
        order.append(following)
    assert order == [STEPS[0], "WithinApiBudget", *STEPS[1:], "RecordSuccess", "Done"]
    assert [all_states[s]["ResultPath"] for s in STEPS] == [
        "$.budget",
        "$.match",
        "$.contacts",
        "$.fields",
        "$.activity",
    ]
    assert all_states["RecordSuccess"]["Parameters"]["status"] == "SUCCEEDED"


def test_a_call_the_budget_holds_goes_straight_to_record_deferred_and_succeeds() -> None:
    # Given the choice after the API budget guard
    all_states = states()
    (held,) = all_states["WithinApiBudget"]["Choices"]
    # Then a deferred budget skips every Salesforce step: it records DEFERRED with the guard's reason, then ends
    assert (held["Variable"], held["BooleanEquals"], held["Next"]) == ("$.budget.deferred", True, "RecordDeferred")
    record = all_states["RecordDeferred"]
    assert record["Parameters"]["status"] == "DEFERRED" and record["Parameters"]["reason.$"] == "$.budget.reason"
    assert all_states[record["Next"]]["Type"] == "Succeed"


TIMEOUT_ERRORS = {"Sandbox.Timedout", "States.Timeout", "Lambda.ClientExecutionTimeoutException"}


def tasks() -> dict[str, Any]:
    return {name: state for name, state in states().items() if state["Type"] == "Task"}


def test_every_task_retries_timeouts_a_capped_number_of_times() -> None:
    # Given every Task of the state machine (the steps and both outcome writers)
    for name, state in tasks().items():
        # Then the Lambda timeout, the task timeout and the invoke's own timeout are retried ...
        (retrier,) = [r for r in state["Retry"] if set(r["ErrorEquals"]) & TIMEOUT_ERRORS]
        assert set(retrier["ErrorEquals"]) == TIMEOUT_ERRORS, name
        # ... by one retrier of their own, capped: a step that always times out fails after 3 attempts
        assert 1 <= retrier["MaxAttempts"] <= 2, name
        assert retrier["JitterStrategy"] == "FULL" and retrier["MaxDelaySeconds"] <= 60, name


def worst_chain_seconds(state: dict[str, Any]) -> float:
    """The longest single retrier chain of a task: every attempt runs to its TimeoutSeconds and every
    wait is the capped maximum."""
    longest = 0.0
    for retrier in state["Retry"]:
        waits = sum(min(retrier["IntervalSeconds"] * retrier["BackoffRate"] ** n, retrier["MaxDelaySeconds"])
                    for n in range(retrier["MaxAttempts"]))  # fmt: skip
        longest = max(longest, waits + (retrier["MaxAttempts"] + 1) * state["TimeoutSeconds"])
    return longest


def test_the_execution_timeout_leaves_room_for_any_one_exhausted_retry_chain() -> None:
    # Given the state machine's own TimeoutSeconds (an execution past it ends TIMED_OUT, alarmed)
    definition = json.loads(ASL.read_text())
    timeout = definition["TimeoutSeconds"]
    # Then a step exhausting its longest retrier (e.g. SalesforceRateLimited) and RecordFailure's own
    # worst case still fit: retries give up into RecordFailure (a FAILED outcome) before the execution times out
    record_failure = worst_chain_seconds(tasks()["RecordFailure"])
    for name, state in tasks().items():
        assert worst_chain_seconds(state) + record_failure < timeout, name
    assert timeout <= 24 * 3600  # a stuck execution still ends the same day


def test_every_task_has_a_timeout() -> None:
    for name, state in tasks().items():
        assert 0 < state["TimeoutSeconds"] <= 900, name
