"""``callsync backfill account-links`` without ``--state``: the deployed stack's tables and secrets (found through
its CloudFormation outputs), here moto and the emulator over HTTPS."""

from __future__ import annotations

import json
import pathlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from callsync.adapters.dynamodb_backfill_checkpoints import DynamoDbBackfillCheckpoints
from callsync.adapters.dynamodb_settings import DynamoDbSettingsStore
from callsync.config import Config
from callsync.domain.account_links import parse_lines
from callsync.models.backfill import BackfillStatus
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


def test_two_backfills_of_the_same_file_at_once_fill_each_account_once_with_its_url(
    aws: Any, emulator_for: StartEmulator, deps_for: Any
) -> None:
    # Given 12 Accounts without a link, and two operators starting the same file at the same moment
    org = {
        "schema": ORG["schema"],
        "records": {
            "Account": [
                {"Id": f"acct-{i}", "Name": f"Company {i}", "Website": f"https://company{i}.example"} for i in range(12)
            ]
        },
    }
    emulator = emulator_for(org)
    settings = OrgSettings(org_id="acme", account_link_field="Link__c")
    entries = parse_lines(
        [json.dumps({"domain": f"company{i}.example", "url": f"https://app.example/{i}"}) for i in range(12)]
    )
    services = [deps_for(emulator).account_link_backfill_service("acme", batch_size=3) for _ in range(2)]
    # When both run in parallel (each its own Salesforce client, the same claims table)
    with ThreadPoolExecutor(2) as pool:
        summaries = list(pool.map(lambda s: s.run(settings, entries, "same-file"), services))
    # Then both end cleanly, every Account holds its own URL, and the stored checkpoint is the finished one
    assert {s.status for s in summaries} <= {BackfillStatus.COMPLETED, BackfillStatus.ALREADY_DONE}, summaries
    assert all(s.counts.failed == 0 for s in summaries)
    links = {a["Name"]: a.get("Link__c") for a in emulator.dump()["records"]["Account"]}
    assert links == {f"Company {i}": f"https://app.example/{i}" for i in range(12)}
    stored = DynamoDbBackfillCheckpoints(aws.resource("dynamodb").Table(Config().claims_table)).get("acme", "same-file")
    assert stored is not None and stored.done and stored.next_line == 13
