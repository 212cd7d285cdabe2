"""The emulator org for the matching tests, moto AWS with the template's tables, wired Dependencies."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from callsync.composition import Dependencies, build_dependencies
from callsync.config import Config
from callsync_dev.emulator import Emulator
from moto import mock_aws

ORG = "acme"
TABLES = {
    "callsync-settings": [("org_id", "HASH")],
    "callsync-ledger": [("call_key", "HASH"), ("sk", "RANGE")],
    "callsync-describe-cache": [("pk", "HASH")],
    "callsync-claims": [("pk", "HASH")],
}

# The call starts 2026-11-20T15:00:00Z. Ids are 18 characters with the usual prefixes.
GLOBEX, PARTNER, INITECH = "001000000000001AAA", "001000000000002AAA", "001000000000003AAA"
JANE, BOB, OBRIEN = "003000000000001AAA", "003000000000002AAA", "003000000000003AAA"
EXPANSION, RENEWAL, OLD, PILOT, PARTNER_DEAL = (f"00600000000000{i}AAA" for i in range(1, 6))


def org_fixture() -> dict[str, Any]:
    return {
        "schema": {"Opportunity": {"fields": {"Pain__c": {"type": "textarea"},
                                              "Secret__c": {"type": "string"}}}},
        "hidden_fields": ["Opportunity.Secret__c"],
        "records": {
            "User": [
                {"Id": "005000000000001AAA", "Name": "Alice Rep", "Email": "alice@ourco.com", "IsActive": True},
                {"Id": "005000000000002AAA", "Name": "Carl Contractor", "Email": "carl@contractor.io",
                 "IsActive": True},
                {"Id": "005000000000003AAA", "Name": "Gone", "Email": "gone@old.io", "IsActive": False},
            ],
            "Account": [
                {"Id": GLOBEX, "Name": "Globex", "Website": "https://www.globex.com/home"},
                {"Id": PARTNER, "Name": "Partner Co", "Website": "partner.co"},
                {"Id": INITECH, "Name": "Initech", "Website": "http://initech.com"},
            ],
            "Contact": [
                {"Id": JANE, "FirstName": "Jane", "LastName": "Doe", "Email": "jane@globex.com", "AccountId": GLOBEX},
                {"Id": BOB, "FirstName": "Bob", "LastName": "Roe", "Email": "bob@globex.com", "AccountId": GLOBEX},
                {"Id": OBRIEN, "FirstName": "Pat", "LastName": "O'Brien", "Email": "o'brien@globex.com",
                 "AccountId": GLOBEX},
            ],
            "Lead": [
                {"LastName": "Lee", "Company": "Startup", "Email": "lee@startup.io"},
                {"LastName": "Conv", "Company": "Startup", "Email": "conv@startup.io", "IsConverted": True},
            ],
            "Opportunity": [
                {"Id": EXPANSION, "Name": "Globex - Expansion", "AccountId": GLOBEX, "StageName": "Prospecting",
                 "CloseDate": "2026-12-31", "CreatedDate": "2026-10-01T10:00:00Z", "Pain__c": "slow reports"},
                {"Id": RENEWAL, "Name": "Globex - Renewal", "AccountId": GLOBEX, "StageName": "Closed Won",
                 "CloseDate": "2026-11-20", "CreatedDate": "2026-09-01T10:00:00Z"},
                {"Id": OLD, "Name": "Globex - Old", "AccountId": GLOBEX, "StageName": "Closed Lost",
                 "CloseDate": "2025-01-10", "CreatedDate": "2024-09-01T10:00:00Z"},
                {"Id": PILOT, "Name": "Globex - Pilot", "AccountId": GLOBEX, "StageName": "Prospecting",
                 "CloseDate": "2027-01-31", "CreatedDate": "2026-12-20T10:00:00Z"},
                {"Id": PARTNER_DEAL, "Name": "Partner resale", "AccountId": PARTNER, "StageName": "Prospecting",
                 "CloseDate": "2027-01-31", "CreatedDate": "2026-08-01T10:00:00Z"},
            ],
            "OpportunityContactRole": [
                {"OpportunityId": EXPANSION, "ContactId": JANE, "IsPrimary": True, "Role": "Decision Maker"},
                {"OpportunityId": RENEWAL, "ContactId": BOB, "IsPrimary": True},
                {"OpportunityId": PARTNER_DEAL, "ContactId": BOB, "IsPrimary": False, "Role": "Influencer"},
            ],
            "Event": [
                {"Subject": "[Airspeed] Globex weekly", "StartDateTime": "2026-11-20T15:00:00Z",
                 "EndDateTime": "2026-11-20T15:30:00Z", "WhatId": GLOBEX},
            ],
        },
    }  # fmt: skip


@pytest.fixture
def emulator() -> Iterator[Callable[..., Emulator]]:
    started: list[Emulator] = []

    def start(fixture: dict[str, Any] | None = None) -> Emulator:
        emu = Emulator.from_fixture(fixture or org_fixture()).start()
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        client = session.client("dynamodb")
        for name, keys in TABLES.items():
            client.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
                AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
                BillingMode="PAY_PER_REQUEST",
            )
        yield session


@pytest.fixture
def connect(aws: Any) -> Callable[[Emulator], Dependencies]:
    """Stores the emulator's tokens like `callsync connect` would; returns Dependencies built on them."""

    def wire(emu: Emulator) -> Dependencies:
        conn = emu.connection
        config = Config(salesforce_ca_bundle=conn["ca_file"])
        secrets = aws.client("secretsmanager")
        secrets.create_secret(
            Name=config.app_secret_name,
            SecretString=json.dumps({"client_id": conn["client_id"], "client_secret": conn["client_secret"]}),
        )
        secrets.create_secret(
            Name=config.secret_prefix + ORG,
            SecretString=json.dumps(
                {
                    "instance_url": conn["instance_url"],
                    "access_token": conn["access_token"],
                    "refresh_token": conn["refresh_token"],
                    "issued_at": "0",
                    "id": "x",
                }
            ),
        )
        return build_dependencies(config, boto_session=aws)

    return wire


@dataclass
class LambdaContext:
    """What Powertools' inject_lambda_context reads from a Lambda context."""

    function_name: str = "callsync-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:callsync-test"
    aws_request_id: str = "req-1"


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()
