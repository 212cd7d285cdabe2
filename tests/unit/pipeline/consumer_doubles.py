"""Doubles for the consumer's own ports (executions, dead letters) and boto3-shaped clients."""

from __future__ import annotations

import json
from typing import Any

from callsync.services.start_sync import ExecutionAlreadyExists


class FakeExecutions:
    """Named executions like Step Functions: a taken name is refused unless the input is identical."""

    def __init__(self, *, fail_with: Exception | None = None) -> None:
        self.started: dict[str, dict[str, Any]] = {}
        self.fail_with = fail_with

    def start(self, name: str, payload: dict[str, Any]) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        arn = f"arn:aws:states:us-east-1:123456789012:execution:PostCallSync:{name}"
        if name in self.started:
            if self.started[name] == payload:
                return arn
            raise ExecutionAlreadyExists(arn)
        self.started[name] = payload
        return arn


class FakeDeadLetters:
    def __init__(self) -> None:
        self.messages: list[dict[str, str]] = []

    def send(self, body: str, *, reason: str, error_type: str, message_id: str) -> None:
        self.messages.append({"body": body, "reason": reason, "error_type": error_type, "message_id": message_id})


class _Exceptions:
    class ExecutionAlreadyExists(Exception):
        pass


class FakeStepFunctionsClient:
    """The two calls the consumer makes on a boto3 Step Functions client."""

    exceptions = _Exceptions

    def __init__(self, *, throttle_call_ids: set[str] | None = None) -> None:
        self.inputs: dict[str, str] = {}
        self.throttle_call_ids = throttle_call_ids or set()

    def start_execution(self, *, stateMachineArn: str, name: str, input: str) -> dict[str, Any]:
        if json.loads(input)["call"]["call_id"] in self.throttle_call_ids:
            raise RuntimeError("ThrottlingException: Rate exceeded")
        if name in self.inputs and self.inputs[name] != input:
            raise self.exceptions.ExecutionAlreadyExists(name)
        self.inputs[name] = input
        return {"executionArn": f"{stateMachineArn.replace(':stateMachine:', ':execution:')}:{name}"}


class FakeSqsClient:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        self.sent.append(kwargs)
        return {"MessageId": f"dlq-{len(self.sent)}"}
