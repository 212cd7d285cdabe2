"""``callsync status`` without ``--state``: the deployed stack's ledger, found through the stack's outputs
(moto's CloudFormation and DynamoDB stand for the account)."""

from __future__ import annotations

import json

import boto3
import pytest
from callsync.adapters.dynamodb_ledger import DynamoDbLedger
from callsync.models.event import call_key
from callsync.models.ledger import Outcome, RecordChange, StepReport
from callsync_dev.cli import main
from moto import mock_aws

pytestmark = pytest.mark.integration

STACK = {
    "Resources": {
        name: {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k in keys],
                "KeySchema": [
                    {"AttributeName": k, "KeyType": t} for k, t in zip(keys, ("HASH", "RANGE"), strict=False)
                ],
            },
        }
        for name, keys in (("LedgerTable", ("call_key", "sk")), ("SettingsTable", ("org_id",)))
    },
    "Outputs": {
        "LedgerTableName": {"Value": {"Ref": "LedgerTable"}},
        "SettingsTableName": {"Value": {"Ref": "SettingsTable"}},
    },
}


def test_status_reads_the_deployed_ledger_named_by_the_stack_outputs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("CALLSYNC_STACK", "callsync-test")
    with mock_aws():
        # Given a deployed stack whose ledger holds a call that succeeded and created an Event
        cfn = boto3.client("cloudformation")
        cfn.create_stack(StackName="callsync-test", TemplateBody=json.dumps(STACK))
        outputs = {
            o["OutputKey"]: o["OutputValue"]
            for o in cfn.describe_stacks(StackName="callsync-test")["Stacks"][0]["Outputs"]
        }
        ledger = DynamoDbLedger(boto3.resource("dynamodb").Table(outputs["LedgerTableName"]))
        key = call_key("acme", "c1", 1)
        ledger.record_step(
            key,
            StepReport(
                step="LogActivity",
                api_requests=1,
                changes=[
                    RecordChange(
                        action="created",
                        object="Event",
                        id="00UA",
                        url="https://acme.my.salesforce.com/lightning/r/Event/00UA/view",
                    )
                ],
            ),
        )
        ledger.record_outcome(key, Outcome(status="SUCCEEDED"))
        # When an operator asks for the call's status without --state
        code = main(["status", "--call", "c1", "--org-id", "acme", "--json"])
        # Then it comes from that stack's ledger
        out = json.loads(capsys.readouterr().out)
        assert code == 0 and out["status"] == "SUCCEEDED" and out["api_requests"] == 1
        assert [(r["object"], r["id"], r["action"]) for r in out["records"]] == [("Event", "00UA", "created")]
