"""Transient AWS SDK errors leave a handler as AwsUnavailable (retried by the ASL); the rest stay as they are."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from callsync.adapters.aws_errors import transient_aws_error, translating_aws_errors
from callsync.errors import AwsUnavailable, SalesforceRejected


def client_error(code: str, status: int = 400, operation: str = "GetSecretValue") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


def raising(error: BaseException):
    @translating_aws_errors
    def handler(event: dict, context: object, deps: object = None) -> dict:
        raise error

    return handler


@pytest.mark.parametrize(
    "error",
    [
        client_error("ThrottlingException"),  # Secrets Manager throttling: a plain ClientError
        client_error("ProvisionedThroughputExceededException", operation="PutItem"),
        client_error("InternalServiceError", 500),
        client_error("SomethingNew", 503),
        EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
    ],
)
def test_a_transient_aws_error_becomes_aws_unavailable(error: BaseException) -> None:
    # Given a handler whose AWS call fails transiently
    # When it runs
    with pytest.raises(AwsUnavailable) as caught:
        raising(error)({}, None, deps=None)
    # Then it leaves as AwsUnavailable (a RetryableError the state machine retries), the cause chained
    assert caught.value.__cause__ is error
    assert caught.value.code


@pytest.mark.parametrize(
    "error",
    [
        client_error("AccessDeniedException"),
        client_error("ResourceNotFoundException"),
        client_error("ConditionalCheckFailedException", operation="PutItem"),
        SalesforceRejected("REQUIRED_FIELD_MISSING"),
        ValueError("a bug"),
    ],
)
def test_anything_else_is_left_as_it_is(error: BaseException) -> None:
    # Given a permanent AWS error, a callsync error or a bug
    with pytest.raises(type(error)) as caught:
        raising(error)({}, None, deps=None)
    # Then the handler raises it unchanged (the state machine catches it: FAILED with its reason)
    assert caught.value is error
    assert transient_aws_error(error) is None
