"""Live-org mode: the org under test named in the environment instead of an in-process emulator.

One switch for the contract tests (tests/emulator/test_live_contract.py) and the adapter integration tests
(tests/integration, those marked ``live_org``): with ``CALLSYNC_LIVE_INSTANCE_URL`` set they talk to that
org (docs/emulator.md, "Live-org contract mode"):

- ``CALLSYNC_LIVE_INSTANCE_URL`` (``https://<MyDomain>.my.salesforce.com``) and either
  ``CALLSYNC_LIVE_ACCESS_TOKEN`` or ``CALLSYNC_LIVE_CLIENT_ID`` + ``CALLSYNC_LIVE_CLIENT_SECRET`` +
  ``CALLSYNC_LIVE_REFRESH_TOKEN`` (a connected app's refresh-token grant);
- optional ``CALLSYNC_LIVE_CA_FILE`` (a private CA, e.g. a served emulator's) and
  ``CALLSYNC_LIVE_API_VERSION`` (default 62.0).
"""

from __future__ import annotations

import os
from typing import Any

import requests

INSTANCE_URL_VARIABLE = "CALLSYNC_LIVE_INSTANCE_URL"
NOT_LIVE_REASON = f"live-org mode: {INSTANCE_URL_VARIABLE} is not set"


def live_mode() -> bool:
    """True when an org is named in the environment."""
    return bool(os.environ.get(INSTANCE_URL_VARIABLE))


def api_version() -> str:
    return os.environ.get("CALLSYNC_LIVE_API_VERSION", "62.0")


def live_session() -> requests.Session:
    """A requests session that trusts the private CA when one is given (a served emulator's)."""
    session = requests.Session()
    ca_file = os.environ.get("CALLSYNC_LIVE_CA_FILE")
    if ca_file:
        session.verify = ca_file
        session.trust_env = False
    return session


def access_token(instance_url: str, session: requests.Session) -> str:
    """The given session id, or a fresh access token from the refresh-token grant."""
    token = os.environ.get("CALLSYNC_LIVE_ACCESS_TOKEN")
    if token:
        return token
    answer = session.post(
        f"{instance_url}/services/oauth2/token",
        timeout=30,
        data={
            "grant_type": "refresh_token",
            "client_id": os.environ["CALLSYNC_LIVE_CLIENT_ID"],
            "client_secret": os.environ["CALLSYNC_LIVE_CLIENT_SECRET"],
            "refresh_token": os.environ["CALLSYNC_LIVE_REFRESH_TOKEN"],
        },
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def instance_url() -> str:
    return os.environ[INSTANCE_URL_VARIABLE].rstrip("/")


class LiveOrg:
    """The live org in the place of an ``Emulator`` in the integration tests' ``emulator_for``.

    It offers what callsync's adapters need to reach an org, ``connection`` (the keys of
    ``Emulator.connection``), and nothing that only an emulator can give: no seeding, no faults, no
    server-side request count, no dump. Tests marked ``live_org`` use only ``connection``.
    """

    live = True

    def __init__(self) -> None:
        url = instance_url()
        self.connection: dict[str, Any] = {
            "instance_url": url,
            "access_token": access_token(url, live_session()),
            "refresh_token": os.environ.get("CALLSYNC_LIVE_REFRESH_TOKEN"),
            "client_id": os.environ.get("CALLSYNC_LIVE_CLIENT_ID"),
            "client_secret": os.environ.get("CALLSYNC_LIVE_CLIENT_SECRET"),
            "ca_file": os.environ.get("CALLSYNC_LIVE_CA_FILE") or None,
        }
