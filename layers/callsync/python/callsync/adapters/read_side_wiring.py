"""Composition of the read-side services from ``composition.Dependencies`` (one place, no globals).

Kept next to the adapters it builds so that ``composition.py`` stays untouched; the lead may fold
these two functions into it. Environment (template.yaml, docs/read-side-template.yaml):
``EVENT_BUS_NAME`` (deal.closed bus) besides the common ``Config`` variables.
"""

from __future__ import annotations

import os

import boto3

from callsync.adapters.dynamodb_watch_state import DynamoDbOrgDirectory, DynamoDbWatchState
from callsync.adapters.eventbridge_publisher import EventBridgePublisher
from callsync.adapters.salesforce_context import SalesforceClosedDealReader, SalesforceContextReader
from callsync.composition import Dependencies
from callsync.services.deal_context import DealContextService
from callsync.services.watch_closed_deals import OrgSalesforce, WatchClosedDeals

DEFAULT_EVENT_BUS = "callsync-events"


def event_bus_name() -> str:
    return os.environ.get("EVENT_BUS_NAME") or DEFAULT_EVENT_BUS


def context_service(deps: Dependencies, org_id: str) -> DealContextService:
    """A DealContextService over a fresh counting Salesforce client of ``org_id``."""
    api = deps.salesforce(org_id)
    return DealContextService(
        settings=deps.settings,
        reader=SalesforceContextReader(api),
        describes=deps.describes(org_id, api),
        instance_url=lambda: api.instance_url,
        api_requests=lambda: api.api_requests,
    )


def watch_service(deps: Dependencies, *, bus_name: str | None = None) -> WatchClosedDeals:
    """A WatchClosedDeals with the claims table (watermarks, deal states), the settings table and the bus."""
    aws = deps.boto_session or boto3.session.Session()
    dynamodb = aws.resource("dynamodb")

    def connect(org_id: str) -> OrgSalesforce:
        api = deps.salesforce(org_id)
        return OrgSalesforce(
            reader=SalesforceClosedDealReader(api),
            describes=deps.describes(org_id, api),
            instance_url=lambda: api.instance_url,
            api_requests=lambda: api.api_requests,
        )

    return WatchClosedDeals(
        settings=deps.settings,
        state=DynamoDbWatchState(dynamodb.Table(deps.config.claims_table)),
        claims=deps.claims,
        publisher=EventBridgePublisher(deps._client("events"), bus_name or event_bus_name()),
        connect=connect,
        directory=DynamoDbOrgDirectory(dynamodb.Table(deps.config.settings_table)),
    )
