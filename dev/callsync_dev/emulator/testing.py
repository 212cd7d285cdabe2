"""Helpers for tests that talk to the emulator through simple-salesforce."""

from __future__ import annotations

from typing import Any

import requests
import simple_salesforce


def salesforce_client(conn: dict[str, Any], *, version: str = "62.0") -> simple_salesforce.Salesforce:
    """A simple-salesforce client for an emulator connection (trusts only the emulator's CA)."""
    session = requests.Session()
    session.verify = conn["ca_file"]
    session.trust_env = False
    return simple_salesforce.Salesforce(
        instance_url=conn["instance_url"], session_id=conn["access_token"], session=session, version=version
    )
