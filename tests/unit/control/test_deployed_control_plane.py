"""Without ``--state``, ``callsync revert`` / ``reassociate`` act on the deployed stack: the tables and secrets
named by its outputs (the claims table, where the pipeline's writers take their leases, included)."""

from __future__ import annotations

import json

import boto3
import pytest
from callsync_dev.cfn import load_template
from callsync_dev.control_plane import control_plane
from moto import mock_aws

OUTPUTS = {
    "SettingsTableName": "prod-settings",
    "LedgerTableName": "prod-ledger",
    "OrgSecretPrefix": "prod/org/",
    "AppSecretName": "prod/app",
    "ClaimsTableName": "prod-claims",
}


def test_the_commands_need_only_outputs_and_resources_the_template_has() -> None:
    template = load_template()
    assert set(OUTPUTS) <= set(template["Outputs"])


def test_the_deployed_control_plane_uses_the_stacks_names(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a deployed stack "callsync" with the outputs
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("CALLSYNC_STACK", raising=False)
    template = {
        "Resources": {
            "ClaimsTable": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                },
            }
        },
        "Outputs": {name: {"Value": value} for name, value in OUTPUTS.items()},
    }
    with mock_aws():
        cloudformation = boto3.client("cloudformation")
        cloudformation.create_stack(StackName="callsync", TemplateBody=json.dumps(template))
        # When the commands build their dependencies without --state
        with control_plane(None) as (deps, settings_table, stack):
            # Then they use the stack's tables and secrets, and no local stack
            assert stack is None and settings_table.name == "prod-settings"
            config = deps.config
            assert (config.ledger_table, config.secret_prefix, config.app_secret_name) == (
                "prod-ledger",
                "prod/org/",
                "prod/app",
            )
            assert config.claims_table == "prod-claims"
