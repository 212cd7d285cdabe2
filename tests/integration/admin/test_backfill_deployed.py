"""``callsync backfill account-links`` without ``--state``: the deployed stack's tables and secrets (found through
its CloudFormation outputs), here moto and the emulator over HTTPS."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
from callsync.adapters.dynamodb_settings import DynamoDbSettingsStore
from callsync.config import Config
from callsync.models.settings import OrgSettings
from callsync_dev.cli import build_parser

from tests.support.stack import StartEmulator, seed_org_secrets

pytestmark = pytest.mark.integration

ORG: dict[str, Any] = {
    "schema": {"Account": {"fields": {"Link__c": {"type": "url", "length": 255}}}},
    "records": {
        "Account": [
            {"Id": "acct-globex", "Name": "Globex", "Website": "https://www.globex.com"},
            {"Id": "acct-initech", "Name": "Initech", "Website": "initech.example", "Link__c": "https://kept.example"},
        ]
    },
}


class DeployedSession:
    """The moto session, with CloudFormation answering DescribeStacks for the deployed stack ``callsync``."""

    def __init__(self, aws: Any, outputs: dict[str, str]) -> None:
        self.aws, self.outputs = aws, outputs

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # boto3's parameter name
        assert StackName == "callsync"
        return {"Stacks": [{"Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()]}]}

    def client(self, name: str) -> Any:
        return self if name == "cloudformation" else self.aws.client(name)

    def resource(self, name: str) -> Any:
        return self.aws.resource(name)


def test_without_state_it_fills_links_in_the_deployed_org(
    aws: Any,
    emulator_for: StartEmulator,
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a deployed stack (its settings table, claims table and org secrets) connected to an org
    emulator = emulator_for(ORG)
    config: Config = seed_org_secrets(aws, emulator)
    monkeypatch.setenv("SALESFORCE_CA_BUNDLE", str(config.salesforce_ca_bundle))
    settings = DynamoDbSettingsStore(aws.resource("dynamodb").Table(config.settings_table))
    settings.put(OrgSettings(org_id="acme", account_link_field="Link__c"))
    session = DeployedSession(
        aws,
        {
            "SettingsTableName": config.settings_table,
            "LedgerTableName": config.ledger_table,
            "ClaimsTableName": config.claims_table,
            "OrgSecretPrefix": config.secret_prefix,
            "AppSecretName": config.app_secret_name,
        },
    )
    file = tmp_path / "companies.jsonl"
    file.write_text(
        '{"domain": "globex.com", "url": "https://app.example/globex"}\n'
        '{"domain": "initech.example", "url": "https://app.example/initech"}\n'
    )
    # When an operator runs the backfill without --state
    args = build_parser().parse_args(["backfill", "account-links", "--file", str(file)])
    code = args.handler(args, boto_session=session)
    # Then the deployed org's empty link is filled and the set one kept
    out = capsys.readouterr().out
    assert code == 0 and "COMPLETED" in out and "filled            1" in out and "already set       1" in out, out
    links = {a["Name"]: a.get("Link__c") for a in emulator.dump()["records"]["Account"]}
    assert links == {"Globex": "https://app.example/globex", "Initech": "https://kept.example"}
    # And its checkpoint is in the stack's claims table
    items = aws.resource("dynamodb").Table(config.claims_table).scan()["Items"]
    assert [i["done"] for i in items if str(i["pk"]).startswith("backfill#account-links#acme#")] == [True]
