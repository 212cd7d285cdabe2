"""The one place that turns transient AWS SDK errors into ``AwsUnavailable``.

botocore raises ``ClientError`` (or a modeled subclass such as
``ProvisionedThroughputExceededException``) and its own connection errors; the
name Lambda reports for them is not one the state machine can match reliably
(Secrets Manager throttling is a plain ``ClientError``). Every handler is
wrapped in :func:`translating_aws_errors`, so a transient failure becomes a
``RetryableError`` the ASL retries and anything else (access denied, a
validation error) stays what it was: permanent, caught, in the ledger.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from callsync.errors import AWS_TRANSIENT_ERROR_CODES, AwsUnavailable, CallsyncError

F = TypeVar("F", bound=Callable[..., Any])

# botocore.exceptions names, compared by class name so this module imports no botocore.
_CONNECTION_ERRORS = frozenset(
    {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
    }
)


def transient_aws_error(error: BaseException) -> str | None:
    """The AWS error code (or botocore error name) when ``error`` is transient, else None."""
    if isinstance(error, CallsyncError):
        return None
    names = {cls.__name__ for cls in type(error).__mro__}
    if names & _CONNECTION_ERRORS:
        return type(error).__name__
    response = getattr(error, "response", None)
    if "ClientError" not in names or not isinstance(response, dict):
        return None
    code = str((response.get("Error") or {}).get("Code") or "")
    status = int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
    if code in AWS_TRANSIENT_ERROR_CODES or status >= 500:
        return code or str(status)
    return None


def translating_aws_errors(handler: F) -> F:
    """Handler decorator: transient AWS SDK errors leave as ``AwsUnavailable`` (retried by the ASL)."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except Exception as e:
            code = transient_aws_error(e)
            if code is None:
                raise
            operation = getattr(e, "operation_name", None) or "AWS call"
            raise AwsUnavailable(f"{operation} failed transiently ({code}); retrying", code=code) from e

    return wrapper  # type: ignore[return-value]
