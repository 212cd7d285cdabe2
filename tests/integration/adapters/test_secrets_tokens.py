"""SecretsManagerTokenStore against moto Secrets Manager: cache, conditional writes, disconnects."""

from __future__ import annotations

import pytest
from callsync.adapters.secrets_tokens import SecretsManagerAppCredentials, SecretsManagerTokenStore
from callsync.errors import ConcurrentUpdate, OrgDisconnected, PermanentError

from tests.support.stack import put_secret

pytestmark = pytest.mark.integration

TOKENS = {
    "instance_url": "https://acme.test",
    "access_token": "AT1",
    "refresh_token": "RT1",
    "issued_at": "1760000000000",
    "id": "https://login.test/id/00D/005",
}


def store(aws, config, clock=None):
    kwargs = {"clock": clock} if clock else {}
    return SecretsManagerTokenStore(
        aws.client("secretsmanager"), prefix=config.secret_prefix, cache_seconds=60, **kwargs
    )


def test_get_reads_the_org_secret_with_its_version_and_caches_it(aws, config):
    # Given the org's secret
    put_secret(aws, "callsync/org/acme", TOKENS)
    now = [0.0]
    tokens = store(aws, config, clock=lambda: now[0])
    # When read twice within the TTL, with the secret changed by someone else in between
    first = tokens.get("acme")
    aws.client("secretsmanager").put_secret_value(
        SecretId="callsync/org/acme", SecretString='{"instance_url": "x", "access_token": "AT9"}'
    )
    cached = tokens.get("acme")
    # Then the cache answers; after the TTL the new value is read
    assert first["access_token"] == cached["access_token"] == "AT1" and first["_version"]
    now[0] = 61
    assert tokens.get("acme")["access_token"] == "AT9"


def test_missing_secret_is_a_not_connected_org(aws, config):
    with pytest.raises(OrgDisconnected, match="callsync connect --org-id acme"):
        store(aws, config).get("acme")


def test_conditional_put_wins_once_then_conflicts(aws, config):
    # Given two processes read the same version
    put_secret(aws, "callsync/org/acme", TOKENS)
    a, b = store(aws, config), store(aws, config)
    read_a, read_b = a.get("acme"), b.get("acme")
    # When A writes conditionally / Then it wins and B's conditional write conflicts
    a.put("acme", {**read_a, "access_token": "AT-A"}, expected_version=read_a["_version"])
    with pytest.raises(ConcurrentUpdate):
        b.put("acme", {**read_b, "access_token": "AT-B"}, expected_version=read_b["_version"])
    # and everyone now reads A's tokens (B's cache was dropped); the version key is not stored
    assert b.get("acme")["access_token"] == "AT-A"
    raw = aws.client("secretsmanager").get_secret_value(
        SecretId="callsync/org/acme",
        VersionStage="AWSCURRENT",  # moto ignores stage moves without it
    )["SecretString"]
    assert "_version" not in raw and "AT-A" in raw


def test_unconditional_put_creates_the_secret(aws, config):
    tokens = store(aws, config)
    tokens.put("newco", TOKENS)
    assert store(aws, config).get("newco")["refresh_token"] == "RT1"


def test_disconnected_secret_raises_with_the_reason(aws, config):
    put_secret(aws, "callsync/org/acme", {**TOKENS, "disconnected": {"reason": "invalid_grant", "at": "now"}})
    with pytest.raises(OrgDisconnected) as caught:
        store(aws, config).get("acme")
    assert str(caught.value) == (
        "org acme is disconnected (invalid_grant): reconnect with `callsync connect --org-id acme`"
    )


def test_app_credentials(aws, config):
    put_secret(aws, config.app_secret_name, {"client_id": "cid", "client_secret": "cs"})
    assert SecretsManagerAppCredentials(aws.client("secretsmanager"), config.app_secret_name)() == {
        "client_id": "cid",
        "client_secret": "cs",
    }
    put_secret(aws, "broken", {"client_id": "cid"})
    with pytest.raises(PermanentError, match="client_secret"):
        SecretsManagerAppCredentials(aws.client("secretsmanager"), "broken")()
