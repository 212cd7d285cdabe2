"""Builders shared by the matching unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from callsync.models.event import CallProcessed
from callsync.models.match import AccountInfo, OpportunityInfo
from callsync.models.settings import OrgSettings

CALL_START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def make_call(participants: list[dict[str, Any]], host: str = "alice@ourco.com", **extra: Any) -> CallProcessed:
    body: dict[str, Any] = {
        "schema_version": 1,
        "org_id": "acme",
        "call_id": "c1",
        "title": "Globex weekly",
        "started_at": CALL_START.isoformat(),
        "duration_seconds": 1800,
        "medium": "video",
        "host_email": host,
        "participants": participants,
        "summary": "We talked.",
        "call_url": "https://app.example.com/calls/c1",
        **extra,
    }
    return CallProcessed.model_validate(body)


def make_settings(**extra: Any) -> OrgSettings:
    return OrgSettings.model_validate({"org_id": "acme", "internal_domains": ["ourco.com"], **extra})


def opp(
    oid: str,
    *,
    account: str | None = "001A",
    created: timedelta = timedelta(days=-30),
    closed: bool = False,
    close_date: str | None = None,
    last_activity: str | None = None,
    modified: datetime | None = None,
    name: str | None = None,
) -> OpportunityInfo:
    """An Opportunity created ``created`` relative to the call start."""
    return OpportunityInfo(
        id=oid,
        name=name or f"Deal {oid}",
        account_id=account,
        is_closed=closed,
        close_date=close_date,
        created_date=CALL_START + created,
        last_activity_date=last_activity,
        last_modified_date=modified,
        account=AccountInfo(id=account, name=f"Account {account}") if account else None,
    )
