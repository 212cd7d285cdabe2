"""template.yaml, read as an operator would: alarms that reach someone, timeouts that retry, safe
deploys, names and keys per stack, complete alarms, least privilege."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from callsync.adapters.salesforce_api import DEADLINE_RESERVE_SECONDS
from callsync_dev.cfn import load_template, resources_of_type
from callsync_dev.connect import STACK_OUTPUTS

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
GLOBALS = TEMPLATE["Globals"]["Function"]
FUNCTIONS = resources_of_type(TEMPLATE, "AWS::Serverless::Function")
ALARMS = resources_of_type(TEMPLATE, "AWS::CloudWatch::Alarm")
ASL = json.loads((ROOT / RESOURCES["PostCallSyncStateMachine"]["Properties"]["DefinitionUri"]).read_text())


def props(logical: str) -> dict[str, Any]:
    return dict(RESOURCES[logical].get("Properties") or {})


def timeout_of(function: str) -> int:
    return int(props(function).get("Timeout", GLOBALS["Timeout"]))


def references(value: Any) -> set[str]:
    """Logical ids ``value`` depends on (Ref, GetAtt, ${...} in Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref":
                found.add(str(arg).split(".")[0])
            elif key == "Fn::GetAtt":
                found.add(arg[0] if isinstance(arg, list) else str(arg).split(".")[0])
            elif key == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) else arg
                found |= {n.split(".")[0] for n in re.findall(r"\$\{([^}!]+)\}", text) if not n.startswith("AWS::")}
                if isinstance(arg, list):
                    found |= references(arg[1])
            else:
                found |= references(arg)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found


def statements(document: Any) -> list[dict[str, Any]]:
    return list(document["Statement"])


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------- alarms that notify (customer managed key)


def test_the_alarm_topic_is_encrypted_with_a_rotating_key_cloudwatch_may_use() -> None:
    # Given the alarm topic
    topic = props("AlarmTopic")
    # Then its key is a customer managed key of this stack (CloudWatch cannot use alias/aws/sns) ...
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": ["AlarmTopicKey", "Arn"]}
    key = props("AlarmTopicKey")
    assert key["EnableKeyRotation"] is True
    # ... whose policy lets cloudwatch.amazonaws.com (of this account) decrypt and generate data keys
    cloudwatch = {"Service": "cloudwatch.amazonaws.com"}
    (grant,) = [s for s in statements(key["KeyPolicy"]) if s.get("Principal") == cloudwatch]
    assert grant["Effect"] == "Allow"
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(as_list(grant["Action"]))
    assert grant["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}


def test_the_topic_policy_lets_only_this_accounts_alarms_publish() -> None:
    (policy,) = [p for p in resources_of_type(TEMPLATE, "AWS::SNS::TopicPolicy").values()
                 if p["Properties"]["Topics"] == [{"Ref": "AlarmTopic"}]]  # fmt: skip
    allows = [s for s in statements(policy["Properties"]["PolicyDocument"]) if s["Effect"] == "Allow"]
    assert allows, "no statement lets CloudWatch publish"
    for statement in allows:
        assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        assert as_list(statement["Action"]) == ["sns:Publish"]
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_notifies_the_topic(alarm: str) -> None:
    assert props(alarm)["AlarmActions"] == [{"Ref": "AlarmTopic"}]


# ---------------------------------------------------------------- timeouts that retry


def task_functions() -> dict[str, str]:
    """ASL task name -> the template function it invokes."""
    substitutions = props("PostCallSyncStateMachine")["DefinitionSubstitutions"]
    out: dict[str, str] = {}
    for name, state in ASL["States"].items():
        if state["Type"] == "Task":
            (variable,) = re.findall(r"\$\{(\w+)\}", state["Resource"])
            out[name] = substitutions[variable]["Ref"].split(".")[0]
    return out


def test_each_task_outlives_its_function_so_a_lambda_timeout_is_a_retried_error() -> None:
    # Given each task and the function it invokes
    for task, function in task_functions().items():
        # Then the function times out first (Sandbox.Timedout, retried) rather than the task (States.Timeout)
        assert ASL["States"][task]["TimeoutSeconds"] > timeout_of(function), task
        # And its Salesforce requests end DEADLINE_RESERVE_SECONDS before the function's timeout, leaving half of it
        assert timeout_of(function) / 2 >= DEADLINE_RESERVE_SECONDS, function
    assert "TimeoutSeconds" in ASL


# ---------------------------------------------------------------- safe deploys


def test_every_function_is_published_behind_the_live_alias_and_deployed_gradually() -> None:
    assert GLOBALS["AutoPublishAlias"] == "live"
    for logical, spec in FUNCTIONS.items():
        assert spec["Properties"].get("AutoPublishAlias", "live") == "live", logical
        assert "DeploymentPreference" not in spec["Properties"], logical  # the Globals one applies
    preference = GLOBALS["DeploymentPreference"]
    parameter = TEMPLATE["Parameters"][preference["Type"]["Ref"]]
    assert parameter["Default"].startswith(("Linear", "Canary"))
    assert preference["Alarms"] and all(a["Ref"] in ALARMS for a in preference["Alarms"])


def test_the_state_machine_invokes_aliases_and_is_versioned_behind_an_alias_deployed_gradually() -> None:
    machine = props("PostCallSyncStateMachine")
    for variable, value in machine["DefinitionSubstitutions"].items():
        function, _, attribute = value["Ref"].partition(".")
        assert (function in FUNCTIONS, attribute) == (True, "Alias"), variable
    assert machine["AutoPublishAlias"] == "live"
    preference = machine["DeploymentPreference"]
    assert TEMPLATE["Parameters"][preference["Type"]["Ref"]]["Default"] in {"LINEAR", "CANARY"}
    assert {"ExecutionsFailedAlarm", "ExecutionsTimedOutAlarm"} <= {a["Ref"] for a in preference["Alarms"]}


def test_the_consumer_starts_executions_through_the_state_machine_alias() -> None:
    start_sync = props("StartSyncFunction")
    alias = {"Ref": "PostCallSyncStateMachineAliaslive"}  # SAM's logical id for AutoPublishAlias: live
    assert start_sync["Environment"]["Variables"]["STATE_MACHINE_ARN"] == alias
    grants = [s for p in start_sync["Policies"] if isinstance(p, dict) and "Statement" in p for s in p["Statement"]]
    (start,) = [s for s in grants if "states:StartExecution" in as_list(s["Action"])]
    assert as_list(start["Resource"]) == [alias]


def test_rollback_alarms_do_not_depend_on_what_they_guard() -> None:
    # Given the alarms CodeDeploy and the state machine alias roll back on
    gating = {a["Ref"] for a in GLOBALS["DeploymentPreference"]["Alarms"]}
    gating |= {a["Ref"] for a in props("PostCallSyncStateMachine")["DeploymentPreference"]["Alarms"]}
    # Then none references a function (a function's alias waits for its deployment group, which waits for
    # the alarms; an alarm on a Ref of the function closes a dependency cycle through StartSync's alias ARN)
    for alarm in gating:
        assert not references(props(alarm)) & set(FUNCTIONS), alarm


# ---------------------------------------------------------------- names and keys per stack


def test_no_fixed_names_two_stacks_can_share_an_account() -> None:
    text = (ROOT / "template.yaml").read_text()
    for fixed in ("callsync-events", "callsync/org/", "callsync/app"):
        assert fixed not in text
    env = GLOBALS["Environment"]["Variables"]
    assert env["SECRET_PREFIX"] == {"Fn::Sub": "${AWS::StackName}/org/"}
    assert env["APP_SECRET_NAME"] == {"Fn::Sub": "${AWS::StackName}/app"}
    assert "${AWS::StackName}" in props("DealEventBus")["Name"]["Fn::Sub"]
    for logical, spec in FUNCTIONS.items():
        assert "${AWS::StackName}" in spec["Properties"]["FunctionName"]["Fn::Sub"], logical


def secret_readers() -> set[str]:
    """Functions whose policies reach the org secrets."""
    return {logical for logical, spec in FUNCTIONS.items()
            if "secretsmanager:GetSecretValue" in json.dumps(spec["Properties"].get("Policies", []))}  # fmt: skip


def test_the_org_secrets_key_rotates_and_opens_only_to_the_admin_role_and_the_token_readers() -> None:
    # Given the org secrets key
    key = props("OrgSecretsKey")
    assert key["EnableKeyRotation"] is True
    principals: set[str] = set()
    for statement in statements(key["KeyPolicy"]):
        assert statement["Effect"] == "Allow"
        for principal in as_list(statement["Principal"]["AWS"]):
            principals.add(principal.get("Ref") or principal["Fn::GetAtt"][0])
        if "kms:Decrypt" in as_list(statement["Action"]):
            assert statement["Condition"]["StringEquals"]["kms:ViaService"], statement["Sid"]
    # Then the only principals are the admin role and the roles of the functions that read tokens
    assert principals == {"KeyAdminRoleArn"} | {f"{f}Role" for f in secret_readers()}
    assert secret_readers() >= {"MatchOpportunityFunction", "CrmContextFunction", "WatchOrgDealsFunction"}
    # And those roles also hold kms:Decrypt on the key in their own policy
    use = props("OrgSecretsKeyUsePolicy")
    assert {r["Ref"] for r in use["Roles"]} == {f"{f}Role" for f in secret_readers()}
    (grant,) = statements(use["PolicyDocument"])
    assert "kms:Decrypt" in grant["Action"] and grant["Resource"] == {"Fn::GetAtt": ["OrgSecretsKey", "Arn"]}


def test_secret_grants_are_scoped_to_this_stacks_names_and_to_what_the_token_store_calls() -> None:
    for logical in secret_readers():
        text = json.dumps(props(logical)["Policies"])
        for arn in re.findall(r"secret:([^\"]+)\"", text):
            assert arn.startswith("${AWS::StackName}/"), (logical, arn)
        grants = [
            s
            for p in props(logical)["Policies"]
            if isinstance(p, dict) and "Statement" in p
            for s in p["Statement"]
            if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))
        ]
        (org,) = [s for s in grants if any("/org/" in json.dumps(r) for r in as_list(s["Resource"]))]
        (app,) = [s for s in grants if any("/app-" in json.dumps(r) for r in as_list(s["Resource"]))]
        # org secrets: read, and write a refreshed token (conditionally: a new version, then the stage move)
        assert set(org["Action"]) == {
            "secretsmanager:GetSecretValue",
            "secretsmanager:PutSecretValue",
            "secretsmanager:UpdateSecretVersionStage",
        }, logical
        assert as_list(app["Action"]) == ["secretsmanager:GetSecretValue"], logical  # the app secret: read only


def test_connect_finds_the_names_and_the_key_in_the_stack_outputs() -> None:
    outputs = TEMPLATE["Outputs"]
    assert set(STACK_OUTPUTS) <= set(outputs)
    env = GLOBALS["Environment"]["Variables"]
    assert outputs["OrgSecretPrefix"]["Value"] == env["SECRET_PREFIX"]
    assert outputs["AppSecretName"]["Value"] == env["APP_SECRET_NAME"]
    assert outputs["OrgSecretsKeyArn"]["Value"] == {"Fn::GetAtt": ["OrgSecretsKey", "Arn"]}


# ---------------------------------------------------------------- alarms and metrics completed


def function_name_of(logical: str) -> Any:
    return FUNCTIONS[logical]["Properties"]["FunctionName"]


def watched(metric: str) -> dict[str, str]:
    """Function name (as the template writes it) -> the math expression's term, over every alarm on ``metric``."""
    out: dict[str, str] = {}
    for spec in ALARMS.values():
        for query in spec["Properties"].get("Metrics", []):
            stat = (query.get("MetricStat") or {}).get("Metric") or {}
            if stat.get("Namespace") == "AWS/Lambda" and stat.get("MetricName") == metric:
                (dimension,) = stat["Dimensions"]
                expression = next(q["Expression"] for q in spec["Properties"]["Metrics"] if "Expression" in q)
                out[json.dumps(dimension["Value"])] = expression + "|" + query["Id"]
    return out


@pytest.mark.parametrize("metric", ["Errors", "Throttles", "Duration"])
def test_every_function_is_in_the_function_alarms(metric: str) -> None:
    names = {json.dumps(function_name_of(f)) for f in FUNCTIONS}
    assert set(watched(metric)) == names


def test_duration_alarms_compare_each_function_with_its_own_timeout() -> None:
    for logical in FUNCTIONS:
        expression, term = watched("Duration")[json.dumps(function_name_of(logical))].split("|")
        assert f"{term} / {timeout_of(logical) * 1000}" in expression, logical


@pytest.mark.parametrize("metric", ["ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted",
                                    "ExecutionThrottled"])  # fmt: skip
def test_the_state_machine_is_alarmed_on(metric: str) -> None:
    assert any(a["Properties"].get("MetricName") == metric and a["Properties"]["Namespace"] == "AWS/States"
               for a in ALARMS.values())  # fmt: skip


def test_every_table_is_alarmed_on_read_and_write_throttles() -> None:
    seen = {(q["MetricStat"]["Metric"]["MetricName"], q["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"])
            for a in ALARMS.values() for q in a["Properties"].get("Metrics", [])
            if q.get("MetricStat", {}).get("Metric", {}).get("Namespace") == "AWS/DynamoDB"}  # fmt: skip
    tables = set(resources_of_type(TEMPLATE, "AWS::DynamoDB::Table"))
    assert seen == {(m, t) for m in ("ReadThrottleEvents", "WriteThrottleEvents") for t in tables}


def test_queue_visibility_covers_six_consumer_timeouts_plus_the_batching_window() -> None:
    (source,) = props("StartSyncFunction")["Events"].values()
    window = source["Properties"]["MaximumBatchingWindowInSeconds"]
    assert props("CallProcessedQueue")["VisibilityTimeout"] >= 6 * timeout_of("StartSyncFunction") + window


def test_the_asynchronous_watch_functions_do_not_retry_and_send_failures_to_an_alarmed_queue() -> None:
    for logical in ("WatchClosedDealsFunction", "WatchOrgDealsFunction"):
        config = props(logical)["EventInvokeConfig"]
        assert config["MaximumRetryAttempts"] == 0, logical  # the next cycle is the retry
        on_failure = config["DestinationConfig"]["OnFailure"]
        assert (on_failure["Type"], on_failure["Destination"]) == ("SQS", {"Fn::GetAtt": ["WatchFailuresQueue", "Arn"]})
    assert any(a["Properties"].get("Dimensions") == [{"Name": "QueueName",
                                                      "Value": {"Fn::GetAtt": ["WatchFailuresQueue", "QueueName"]}}]
               for a in ALARMS.values())  # fmt: skip


SAM_TABLE_POLICIES = {"DynamoDBReadPolicy": {"read"}, "DynamoDBWritePolicy": {"write"},
                      "DynamoDBCrudPolicy": {"read", "write"}}  # fmt: skip
# What each function's code does with each table (adapters it is wired with in callsync.composition).
TABLE_ACCESS = {
    "StartSyncFunction": {"SettingsTable": {"read"}, "LedgerTable": {"write"}},
    "MatchOpportunityFunction": {"LedgerTable": {"write"}, "DescribeCacheTable": {"read", "write"},
                                 "ClaimsTable": {"read", "write"}},
    "CreateContactsFunction": {"LedgerTable": {"write"}, "ClaimsTable": {"read", "write"}},
    "SyncFieldsFunction": {"LedgerTable": {"read", "write"}, "DescribeCacheTable": {"read", "write"},
                           "ClaimsTable": {"read", "write"}},
    "LogActivityFunction": {"LedgerTable": {"read", "write"}, "DescribeCacheTable": {"read", "write"},
                            "ClaimsTable": {"read", "write"}},
    "RecordOutcomeFunction": {"LedgerTable": {"read", "write"}},
    "CheckApiBudgetFunction": {"LedgerTable": {"write"}, "ClaimsTable": {"read", "write"}},
    "ResumeDeferredFunction": {"SettingsTable": {"read"}, "LedgerTable": {"read", "write"},
                               "ClaimsTable": {"read", "write"}},
    "CrmContextFunction": {"SettingsTable": {"read"}, "DescribeCacheTable": {"read", "write"}},
    "CallStatusFunction": {"LedgerTable": {"read"}},
    "WatchClosedDealsFunction": {"SettingsTable": {"read"}},
    "WatchOrgDealsFunction": {"SettingsTable": {"read"}, "DescribeCacheTable": {"read", "write"},
                              "ClaimsTable": {"read", "write"}},
}  # fmt: skip


def test_each_function_touches_only_its_tables() -> None:
    assert set(TABLE_ACCESS) == set(FUNCTIONS)
    for logical, spec in FUNCTIONS.items():
        granted: dict[str, set[str]] = {}
        for policy in spec["Properties"].get("Policies", []):
            for template_name, access in SAM_TABLE_POLICIES.items():
                if isinstance(policy, dict) and template_name in policy:
                    table = policy[template_name]["TableName"]["Ref"]
                    granted.setdefault(table, set()).update(access)
        assert granted == TABLE_ACCESS[logical], logical
        assert "dynamodb:" not in json.dumps([p for p in spec["Properties"].get("Policies", [])
                                              if isinstance(p, dict) and "Statement" in p]), logical  # fmt: skip
