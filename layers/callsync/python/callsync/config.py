"""Typed configuration, read once at cold start from the Lambda environment."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field


class Config(BaseModel):
    """Environment of every callsync function (set by template.yaml)."""

    settings_table: str = Field(default="callsync-settings")
    ledger_table: str = Field(default="callsync-ledger")
    describe_cache_table: str = Field(default="callsync-describe-cache")
    claims_table: str = Field(default="callsync-claims")
    secret_prefix: str = Field(default="callsync/org/")  # secret name = prefix + org_id
    app_secret_name: str = Field(default="callsync/app")  # OAuth client id/secret of the connected app
    state_machine_arn: str = Field(default="")
    dlq_url: str = Field(default="")
    event_bus_name: str = Field(default="callsync-events")  # deal.closed events (read side)
    # The per-org closed-deals watcher (alias ARN) the scheduled dispatcher invokes once per org; empty
    # (local tools) = the dispatcher runs every org's cycle itself.
    watch_org_function: str = Field(default="")
    # KMS key of the org and app secrets (`callsync connect` creates secrets with it; from stack outputs).
    secrets_kms_key_id: str | None = Field(default=None)
    salesforce_api_version: str = Field(default="62.0")
    describe_ttl_seconds: int = Field(default=86400)
    # At most this many Salesforce-bound invocations of one org at once (Salesforce allows 25 concurrent
    # long-running requests per org, shared with the org's other integrations).
    org_concurrency: int = Field(default=10, ge=1, le=25)
    secret_cache_seconds: int = Field(default=60)
    # Developer tooling only: a private CA bundle for the local emulator. Unset in AWS.
    salesforce_ca_bundle: str | None = Field(default=None)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        env = dict(os.environ if env is None else env)
        values = {name: env[name.upper()] for name in cls.model_fields if name.upper() in env}
        return cls.model_validate(values)


@lru_cache(maxsize=1)
def load_config() -> Config:
    return Config.from_env()
