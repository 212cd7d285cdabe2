"""SecretsManagerAppCredentials: how a failed read of the connected app's secret surfaces."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from callsync.adapters.secrets_tokens import SecretsManagerAppCredentials
from callsync.errors import PermanentError


class FailingSecrets:
    def __init__(self, code: str) -> None:
        self.code = code

    def get_secret_value(self, **kwargs: Any) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, "GetSecretValue")


def test_a_transient_aws_error_is_raised_as_is_for_the_state_machine_to_retry():
    # Given Secrets Manager answers the app secret's read with a transient error
    credentials = SecretsManagerAppCredentials(FailingSecrets("InternalServiceError"), "callsync/app")
    # When the credentials are read / Then the AWS error is not turned into a permanent one
    with pytest.raises(ClientError) as caught:
        credentials()
    assert not isinstance(caught.value, PermanentError)


def test_any_other_aws_error_is_permanent():
    # Given the integration cannot read the app secret (missing, denied)
    credentials = SecretsManagerAppCredentials(FailingSecrets("AccessDeniedException"), "callsync/app")
    # When the credentials are read / Then it is permanent and names the secret and the code
    with pytest.raises(PermanentError, match=r"callsync/app cannot be read \(AccessDeniedException\)"):
        credentials()
