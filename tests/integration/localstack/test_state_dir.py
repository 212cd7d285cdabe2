"""``--state DIR``: what one local stack saves, a fresh one restores, without loss."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from callsync_dev.localstack import LocalStack
from callsync_dev.state_dir import StateDir

pytestmark = pytest.mark.integration

CONNECTION = {
    "instance_url": "https://127.0.0.1:4444",
    "access_token": "new-access",
    "refresh_token": "new-refresh",
    "issued_at": "1700000000000",
    "ca_file": "/tmp/ca.pem",
    "client_id": "cid",
    "client_secret": "cs",
}


def test_tables_secrets_and_execution_names_survive_a_new_stack(tmp_path: Path) -> None:
    state = StateDir(tmp_path / "state")
    item = {
        "call_key": {"S": "acme#c1#1"},
        "sk": {"S": "outcome"},
        "amount": {"N": "12.50"},
        "blob": {"B": b"\x00\xffbytes"},
        "tags": {"SS": ["a", "b"]},
        "nested": {"M": {"ok": {"BOOL": True}}},
    }
    # Given a stack with a ledger item of every awkward type, an org secret, a plain secret and a finished execution
    with LocalStack() as first:
        first.client("dynamodb").put_item(TableName=first.tables["LedgerTable"], Item=item)
        first.put_secret(
            "callsync/org/acme",
            {
                "instance_url": "https://127.0.0.1:1111",
                "access_token": "old",
                "refresh_token": "old-r",
                "issued_at": "1",
                "disconnected": {"reason": "revoked", "at": "2026-06-03"},
            },
        )
        first.put_secret_string("callsync/other", "not json")
        sfn = first.client("stepfunctions")
        arn = sfn.start_execution(stateMachineArn=first.state_machine_arn, name="acme-c1-1", input="{}")["executionArn"]
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            time.sleep(0.05)
        # When it is saved
        state.save(first)
    # And restored into a fresh stack
    with LocalStack() as second:
        state.restore(second, CONNECTION)
        # Then the item comes back exactly (bytes, sets and numbers included)
        got = second.client("dynamodb").get_item(
            TableName=second.tables["LedgerTable"], Key={"call_key": {"S": "acme#c1#1"}, "sk": {"S": "outcome"}}
        )["Item"]
        assert got == item
        # And the org secret points at the new emulator and keeps its other keys; the plain secret is as it was
        secrets = second.secrets()
        org = json.loads(secrets["callsync/org/acme"])
        assert (org["instance_url"], org["access_token"], org["refresh_token"]) == (
            "https://127.0.0.1:4444",
            "new-access",
            "new-refresh",
        )
        assert org["disconnected"] == {"reason": "revoked", "at": "2026-06-03"}
        assert secrets["callsync/other"] == "not json"
        # And the finished execution's name is still taken, and it can be described
        sfn = second.client("stepfunctions")
        with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
            sfn.start_execution(stateMachineArn=second.state_machine_arn, name="acme-c1-1", input='{"x": 1}')
        assert sfn.describe_execution(executionArn=arn)["name"] == "acme-c1-1"
