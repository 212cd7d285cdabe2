"""An embedded AWS (moto, in-process) for the admin commands' local mode.

The tables get the key schemas of ``template.yaml`` under the names ``Config`` uses,
so the adapters run exactly as they do against DynamoDB. Nothing outlives the
context unless the caller saves it (``callsync settings`` keeps its table in a file).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.exceptions import ClientError
from callsync.config import Config
from callsync.errors import PermanentError
from moto import mock_aws

from callsync_dev.cfn import load_template, resources_of_type

# template.yaml logical id → the Config field holding the table's name
TABLE_CONFIG_FIELDS = {
    "SettingsTable": "settings_table",
    "LedgerTable": "ledger_table",
    "DescribeCacheTable": "describe_cache_table",
    "ClaimsTable": "claims_table",
}
REGION = "us-east-1"


def create_tables(session: Any, config: Config) -> None:
    """Create the template's four tables (same keys) under ``config``'s names."""
    client = session.client("dynamodb")
    tables = resources_of_type(load_template(), "AWS::DynamoDB::Table")
    for logical_id, field_name in TABLE_CONFIG_FIELDS.items():
        props = tables[logical_id]["Properties"]
        client.create_table(
            TableName=getattr(config, field_name),
            KeySchema=props["KeySchema"],
            AttributeDefinitions=props["AttributeDefinitions"],
            BillingMode="PAY_PER_REQUEST",
        )


@contextlib.contextmanager
def local_aws(config: Config | None = None) -> Iterator[Any]:
    """A moto AWS with the tables; yields a boto3 Session (fake credentials, never real AWS)."""
    with mock_aws():
        session = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 (moto, never real AWS)
            region_name=REGION,
        )
        create_tables(session, config or Config())
        yield session


def has_aws_credentials() -> bool:
    """True when boto3 finds credentials (then the admin commands use real AWS)."""
    return boto3.session.Session().get_credentials() is not None


def stack_outputs(stack_name: str | None = None, *, session: Any = None) -> dict[str, str]:
    """The deployed stack's outputs (``CALLSYNC_STACK``, default ``callsync``), with the default AWS session."""
    import os

    name = stack_name or os.environ.get("CALLSYNC_STACK", "callsync")
    aws = session or boto3.session.Session()
    try:
        (stack,) = aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") != "ValidationError":
            raise
        raise PermanentError(
            f"no deployed stack {name!r} in this AWS account and region: set CALLSYNC_STACK to the stack's name, "
            "or pass --state DIR for the local environment"
        ) from e
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}


def deployed_replay_resources(stack_name: str | None = None) -> dict[str, Any]:
    """What ``callsync replay`` needs from the deployed stack: its tables, state machine alias and DLQ."""
    outputs = stack_outputs(stack_name)
    session = boto3.session.Session()
    dynamodb = session.resource("dynamodb")
    return {
        "ledger_table": dynamodb.Table(outputs["LedgerTableName"]),
        "settings_table": dynamodb.Table(outputs["SettingsTableName"]),
        "sfn": session.client("stepfunctions"),
        "state_machine_arn": outputs["PostCallSyncAliasArn"],
        "sqs": session.client("sqs"),
        "dlq_url": outputs["CallProcessedDLQUrl"],
    }


def deployed_status_resources(stack_name: str | None = None) -> dict[str, Any]:
    """What ``callsync status`` needs from the deployed stack: its ledger and settings tables."""
    outputs = stack_outputs(stack_name)
    dynamodb = boto3.session.Session().resource("dynamodb")
    return {
        "ledger_table": dynamodb.Table(outputs["LedgerTableName"]),
        "settings_table": dynamodb.Table(outputs["SettingsTableName"]),
    }


def deployed_config(stack_name: str | None = None, *, session: Any = None) -> Config:
    """The functions' configuration as the deployed stack sets it: tables and secret names from its outputs.

    The rest comes from the environment as for a function (``Config.from_env``).
    """
    outputs = stack_outputs(stack_name, session=session)
    return Config.from_env().model_copy(
        update={
            "settings_table": outputs["SettingsTableName"],
            "ledger_table": outputs["LedgerTableName"],
            "claims_table": outputs["ClaimsTableName"],
            "secret_prefix": outputs["OrgSecretPrefix"],
            "app_secret_name": outputs["AppSecretName"],
        }
    )
