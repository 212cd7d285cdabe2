"""OAuth tokens in Secrets Manager: one secret per org, plus the connected app's credentials.

Org secret ``{secret_prefix}{org_id}`` holds JSON
``{"instance_url", "access_token", "refresh_token", "issued_at", "id"}`` and, once
the refresh token is dead, ``"disconnected": {"reason", "at"}``.

Conditional writes (``put(..., expected_version=V)``) are a compare-and-swap on
the ``AWSCURRENT`` label: the new value is stored as an ``AWSPENDING`` version,
then ``UpdateSecretVersionStage`` moves ``AWSCURRENT`` to it *from V*. Secrets
Manager refuses that move when ``AWSCURRENT`` is no longer on V (someone wrote
since), which surfaces as ``ConcurrentUpdate``. Values are never logged.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from callsync.adapters.aws_errors import transient_aws_error
from callsync.errors import ConcurrentUpdate, OrgDisconnected, PermanentError

VERSION_KEY = "_version"  # added by get(): the AWSCURRENT VersionId read; never stored


def disconnected_error(org_id: str, reason: str) -> OrgDisconnected:
    return OrgDisconnected(
        f"org {org_id} is disconnected ({reason}): reconnect with `callsync connect --org-id {org_id}`",
        code=reason,
    )


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class SecretsManagerTokenStore:
    """``ports.TokenStore`` on Secrets Manager with a per-process TTL cache.

    ``get`` returns the secret's JSON plus ``"_version"`` (its VersionId), which a
    caller passes back as ``expected_version`` for a conditional write.
    """

    def __init__(
        self,
        client: Any,
        *,
        prefix: str,
        cache_seconds: float = 60,
        clock: Callable[[], float] = time.monotonic,
        kms_key_id: str | None = None,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._kms_key_id = kms_key_id  # the key a new org secret is encrypted with (None: aws/secretsmanager)
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def secret_name(self, org_id: str) -> str:
        return f"{self._prefix}{org_id}"

    def get(self, org_id: str) -> dict[str, Any]:
        """The org's tokens (cached for ``cache_seconds``).

        Raises:
            OrgDisconnected: no secret, or the secret says the org is disconnected.
        """
        with self._lock:
            cached = self._cache.get(org_id)
        if cached is not None and self._clock() - cached[0] < self._cache_seconds:
            value = dict(cached[1])
        else:
            value = self._read(org_id)
        if value.get("disconnected"):
            raise disconnected_error(org_id, str(value["disconnected"].get("reason", "disconnected")))
        return value

    def get_fresh(self, org_id: str) -> dict[str, Any]:
        """Like ``get`` but always reads Secrets Manager (used around a token refresh)."""
        self.invalidate(org_id)
        return self.get(org_id)

    def invalidate(self, org_id: str) -> None:
        with self._lock:
            self._cache.pop(org_id, None)

    def _read(self, org_id: str) -> dict[str, Any]:
        name = self.secret_name(org_id)
        try:
            answer = self._client.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")
        except ClientError as e:
            if _error_code(e) == "ResourceNotFoundException":
                raise OrgDisconnected(
                    f"org {org_id} is not connected (no secret {name}): "
                    f"connect it with `callsync connect --org-id {org_id}`",
                    code="not_connected",
                ) from e
            raise
        try:
            value = json.loads(answer["SecretString"])
        except (KeyError, ValueError) as e:
            raise PermanentError(f"secret {name} is not a JSON object", code="invalid_secret") from e
        if not isinstance(value, dict):
            raise PermanentError(f"secret {name} is not a JSON object", code="invalid_secret")
        value[VERSION_KEY] = answer["VersionId"]
        with self._lock:
            self._cache[org_id] = (self._clock(), dict(value))
        return value

    def put(self, org_id: str, tokens: dict[str, Any], *, expected_version: str | None = None) -> None:
        """Store ``tokens`` (keys starting with ``_`` are dropped).

        Raises:
            ConcurrentUpdate: ``expected_version`` is no longer the current version.
        """
        name = self.secret_name(org_id)
        body = json.dumps({k: v for k, v in tokens.items() if not k.startswith("_")})
        token = str(uuid.uuid4())
        if expected_version is None:
            version = self._put_current(name, body, token)
        else:
            version = self._put_if_current(org_id, name, body, token, expected_version)
        stored = json.loads(body)
        stored[VERSION_KEY] = version
        with self._lock:
            self._cache[org_id] = (self._clock(), stored)

    def _put_current(self, name: str, body: str, token: str) -> str:
        try:
            answer = self._client.put_secret_value(SecretId=name, SecretString=body, ClientRequestToken=token)
        except ClientError as e:
            if _error_code(e) != "ResourceNotFoundException":
                raise
            key = {"KmsKeyId": self._kms_key_id} if self._kms_key_id else {}
            answer = self._client.create_secret(Name=name, SecretString=body, ClientRequestToken=token, **key)
        return str(answer["VersionId"])

    def _put_if_current(self, org_id: str, name: str, body: str, token: str, expected: str) -> str:
        answer = self._client.put_secret_value(
            SecretId=name, SecretString=body, ClientRequestToken=token, VersionStages=["AWSPENDING"]
        )
        new_version = str(answer["VersionId"])
        try:
            self._client.update_secret_version_stage(
                SecretId=name,
                VersionStage="AWSCURRENT",
                MoveToVersionId=new_version,
                RemoveFromVersionId=expected,
            )
        except ClientError as e:
            if _error_code(e) in {"InvalidParameterException", "InvalidRequestException"}:
                self.invalidate(org_id)
                raise ConcurrentUpdate(
                    f"tokens of org {org_id} changed since version {expected}", code="secret_version"
                ) from e
            raise
        return new_version


class SecretsManagerAppCredentials:
    """The connected app's ``{"client_id", "client_secret"}`` from one secret, cached per process."""

    def __init__(
        self,
        client: Any,
        name: str,
        *,
        cache_seconds: float = 300,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._name = name
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cached: tuple[float, dict[str, str]] | None = None

    def __call__(self) -> dict[str, str]:
        if self._cached is not None and self._clock() - self._cached[0] < self._cache_seconds:
            return self._cached[1]
        try:
            raw = json.loads(self._client.get_secret_value(SecretId=self._name)["SecretString"])
        except ClientError as e:
            if transient_aws_error(e):
                raise  # the handler boundary turns it into AwsUnavailable, which the state machine retries
            raise PermanentError(f"app secret {self._name} cannot be read ({_error_code(e)})") from e
        except (KeyError, ValueError) as e:
            raise PermanentError(f"app secret {self._name} is not a JSON object") from e
        if not isinstance(raw, dict) or not raw.get("client_id") or not raw.get("client_secret"):
            raise PermanentError(f"app secret {self._name} needs client_id and client_secret")
        value = {"client_id": str(raw["client_id"]), "client_secret": str(raw["client_secret"])}
        self._cached = (self._clock(), value)
        return value
