"""The error tree every step raises.

Step Functions matches on the exception's class name (the Lambda ``errorType``):
the ASL's ``Retry`` blocks list every :class:`RetryableError` subclass name and
its ``Catch`` blocks catch everything else. ``tests/unit/test_error_names.py``
checks that the two stay in step. Never swallow one of these into a
success-shaped return.
"""

from __future__ import annotations


class CallsyncError(Exception):
    """Base of every error callsync raises on purpose."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code  # vendor error code when there is one (e.g. UNABLE_TO_LOCK_ROW)

    def __str__(self) -> str:
        return self.message


class RetryableError(CallsyncError):
    """Transient: the same request may succeed later. Retried by the state machine."""


class SalesforceUnavailable(RetryableError):
    """5xx, SERVER_UNAVAILABLE, timeouts and connection errors."""


class SalesforceRowLocked(RetryableError):
    """UNABLE_TO_LOCK_ROW: another transaction holds the record."""


class SalesforceRateLimited(RetryableError):
    """REQUEST_LIMIT_EXCEEDED: daily allocation or concurrent long requests."""


class SalesforceSessionExpired(RetryableError):
    """INVALID_SESSION_ID still failing after one refresh-and-retry."""


class AwsUnavailable(RetryableError):
    """DynamoDB, Secrets Manager, SQS or Step Functions throttled or failed transiently."""


class ConcurrentUpdate(RetryableError):
    """A conditional write lost a race (secret version, claim); try again."""


class OrgBusy(RetryableError):
    """The org's Salesforce-bound invocations are at their cap (``api_budget`` concurrency); wait for a slot."""


class PermanentError(CallsyncError):
    """Retrying cannot help: the input, the permissions or the org must change."""


class InvalidEvent(PermanentError):
    """The call.processed message is not a valid v1 event."""


class SettingsNotFound(PermanentError):
    """No settings item for the org."""


class InvalidSettings(PermanentError):
    """The org's settings item does not validate."""


class OrgDisconnected(PermanentError):
    """The refresh token is revoked/expired (invalid_grant, invalid_client): reconnect the org."""


class MissingPermission(PermanentError):
    """The integration user lacks an object or field permission."""


class SalesforceRejected(PermanentError):
    """Salesforce refused a record or request (validation, required field, bad query)."""


class SalesforceMalformedResponse(PermanentError):
    """Salesforce answered with success but the body is not the documented shape.

    Not JSON, a list where an object is expected, missing keys, fewer results than records sent.
    Permanent, not retried: the outcome of the request is unknown (a write may have happened), and
    repeating it cannot make a contract mismatch go away. The call ends ``FAILED`` with this name;
    every step finds what an earlier attempt wrote, so a replay writes nothing twice.
    """


class InvalidRequestBody(PermanentError):
    """A request body cannot be encoded as JSON (e.g. NaN or Infinity): it was never sent."""


# AWS SDK error codes that are transient (after botocore's own retries). ``adapters.aws_errors``
# turns them into AwsUnavailable, which the state machine retries like every RetryableError.
AWS_TRANSIENT_ERROR_CODES: frozenset[str] = frozenset(
    {
        "ProvisionedThroughputExceededException",  # DynamoDB
        "RequestLimitExceeded",  # DynamoDB
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "InternalServerError",  # DynamoDB
        "InternalServiceError",  # Secrets Manager
        "InternalFailure",
        "ServiceUnavailable",
    }
)


def all_retryable_names() -> set[str]:
    """Every RetryableError class name, subclasses of subclasses included."""
    seen: set[str] = set()
    stack: list[type[RetryableError]] = [RetryableError]
    while stack:
        cls = stack.pop()
        seen.add(cls.__name__)
        stack.extend(cls.__subclasses__())
    return seen
