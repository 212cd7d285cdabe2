"""template.yaml: the contracts others build on (table keys, env, queue semantics, least privilege)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from callsync.config import Config
from callsync_dev.cfn import load_template, resources_of_type

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]


@pytest.mark.parametrize(
    ("table", "keys", "ttl"),
    [
        ("SettingsTable", [("org_id", "HASH")], False),
        ("LedgerTable", [("call_key", "HASH"), ("sk", "RANGE")], True),
        ("DescribeCacheTable", [("pk", "HASH")], True),
        ("ClaimsTable", [("pk", "HASH")], True),
    ],
)
def test_tables_have_the_agreed_key_schemas(table: str, keys: list[tuple[str, str]], ttl: bool) -> None:
    props = RESOURCES[table]["Properties"]
    assert [(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]] == keys
    assert all(a["AttributeType"] == "S" for a in props["AttributeDefinitions"])
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    spec = props.get("TimeToLiveSpecification")
    assert (spec == {"AttributeName": "expires_at", "Enabled": True}) if ttl else spec is None


def test_every_function_is_python313_arm64_with_the_layer() -> None:
    fn = TEMPLATE["Globals"]["Function"]
    assert fn["Runtime"] == "python3.13" and fn["Architectures"] == ["arm64"]
    assert fn["Layers"] == [{"Ref": "CallsyncLayer"}]
    for logical, spec in resources_of_type(TEMPLATE, "AWS::Serverless::Function").items():
        assert (ROOT / spec["Properties"]["CodeUri"] / "app.py").is_file(), logical


def test_function_environment_names_config_fields() -> None:
    fields = {name.upper() for name in Config.model_fields}
    env = dict(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])
    env.update(RESOURCES["StartSyncFunction"]["Properties"]["Environment"]["Variables"])
    callsync_vars = {k for k in env if not k.startswith("POWERTOOLS_")}
    assert callsync_vars <= fields, callsync_vars - fields
    assert {"SETTINGS_TABLE", "LEDGER_TABLE", "STATE_MACHINE_ARN", "DLQ_URL", "SECRET_PREFIX"} <= callsync_vars


def test_queue_redrives_to_the_dlq_and_the_consumer_reports_partial_failures() -> None:
    redrive = RESOURCES["CallProcessedQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["CallProcessedDLQ", "Arn"]}
    (source,) = RESOURCES["StartSyncFunction"]["Properties"]["Events"].values()
    assert source["Type"] == "SQS"
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    visibility = RESOURCES["CallProcessedQueue"]["Properties"]["VisibilityTimeout"]
    assert visibility >= 6 * RESOURCES["StartSyncFunction"]["Properties"]["Timeout"]


def test_state_machine_is_standard_loaded_from_the_asl_file_with_every_substitution() -> None:
    props = RESOURCES["PostCallSyncStateMachine"]["Properties"]
    assert props["Type"] == "STANDARD"
    assert "Definition" not in props  # no inline copy next to the file
    text = (ROOT / props["DefinitionUri"]).read_text()
    assert set(re.findall(r"\$\{(\w+)\}", text)) == set(props["DefinitionSubstitutions"])
    assert props["Tracing"] == {"Enabled": True}
    assert props["Logging"]["Level"] in {"ERROR", "ALL"}


def _statements(policy: Any) -> list[dict[str, Any]]:
    if isinstance(policy, dict) and "Statement" in policy:
        return list(policy["Statement"])
    return []


def test_no_policy_grants_wildcard_actions() -> None:
    for logical, spec in RESOURCES.items():
        for policy in spec.get("Properties", {}).get("Policies", []) or []:
            for statement in _statements(policy):
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert all("*" not in a for a in actions), (logical, actions)
        text = json.dumps(spec.get("Properties", {}).get("Policies", []))
        assert "AdministratorAccess" not in text and "FullAccess" not in text, logical


@pytest.mark.parametrize(
    "metric",
    [
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "ExecutionsFailed",
        "Errors",
        "Throttles",
        "FeaturesSkipped",
    ],
)
def test_an_alarm_watches(metric: str) -> None:
    alarms = json.dumps(resources_of_type(TEMPLATE, "AWS::CloudWatch::Alarm"))
    assert f'"MetricName": "{metric}"' in alarms
    assert resources_of_type(TEMPLATE, "AWS::CloudWatch::Dashboard")
