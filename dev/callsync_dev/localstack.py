"""The deployed architecture on one machine: an embedded AWS (moto) built from ``template.yaml``.

``LocalStack`` reads the template and creates, inside ``moto.mock_aws``:

- every ``AWS::DynamoDB::Table`` (key schema, billing mode, TTL) and ``AWS::SQS::Queue``
  (visibility timeout, retention, redrive policy to the DLQ);
- every ``AWS::Serverless::Function`` (registered in moto's Lambda under its ``FunctionName``; its
  environment is the template's ``Globals`` plus its own variables, resolved); a reference to its
  ``AutoPublishAlias`` (``!Ref Fn.Alias``) is the alias-qualified ARN, routed to the same handler;
- every ``AWS::Serverless::StateMachine``, from its ``DefinitionUri`` file with its
  ``DefinitionSubstitutions`` — the same definition that deploys — executed by moto's ASL
  interpreter. moto has no state machine versions or aliases, so the state machine's alias
  (``<StateMachine>Alias<name>``) resolves to the state machine's own ARN.

Lambda invocations (from the state machine, or ``invoke``) are routed to the in-process handler
of the function they name: ``functions/<dir>/app.py`` imported under a unique module name, called
as ``handler(event, context, deps)`` with dependencies built from that function's environment.
A handler's exception becomes a Lambda function error whose ``errorType`` is the exception's
class name, which is what the ASL's ``Retry``/``Catch`` match on.

Retry waits are real sleeps in the interpreter; locally they are multiplied by
``retry_wait_scale`` (default 0.01: 3 s → 30 ms). The definition itself is not changed.

DynamoDB writes are atomic per item in AWS (a condition is checked and the write applied as one
operation); moto checks and writes in Python, where two handler threads can interleave. The local
stack serves moto's DynamoDB requests one at a time so conditional writes (claims, leases) keep that
guarantee.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import os
import threading
import time
import traceback
import types
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

from callsync_dev.cfn import REPO_ROOT, TEMPLATE_PATH, Resolver, load_template, resources_of_type

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
DEFAULT_RETRY_WAIT_SCALE = 0.01

# Kept on after the stack stops when the process had no value of its own: a state machine execution still
# finishing in moto's background thread must not print EMF metrics or traces into the command's own output.
_KEPT_AFTER_EXIT = frozenset({"POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_TRACE_DISABLED"})
_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
}


class HandlerMissing(Exception):
    """A function of the template has no ``app.py`` in this checkout."""


@dataclass
class LocalLambdaContext:
    """The parts of the Lambda context object handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 60
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class LocalFunction:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler_spec: str  # "app.handler"
    env: dict[str, str]
    memory: int
    timeout: int
    _handler: Callable[..., Any] | None = None
    _deps: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> Callable[..., Any]:
        with self._lock:
            if self._handler is None:
                module_name, _, attr = self.handler_spec.rpartition(".")
                path = self.code_dir / f"{module_name}.py"
                if not path.is_file():
                    raise HandlerMissing(f"{self.logical_id}: {path.relative_to(REPO_ROOT)} does not exist")
                unique = f"callsync_fn_{self.code_dir.name}_{module_name}"
                spec = importlib.util.spec_from_file_location(unique, path)
                if spec is None or spec.loader is None:
                    raise HandlerMissing(f"{self.logical_id}: cannot import {path}")
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                self._handler = getattr(module, attr)
            return self._handler

    def dependencies(self) -> Any:
        """``callsync.composition.build_dependencies`` for this function's environment (built once)."""
        with self._lock:
            if self._deps is None:
                from callsync.composition import build_dependencies
                from callsync.config import Config

                self._deps = build_dependencies(Config.from_env(self.env))
            return self._deps

    def invoke(self, event: Any) -> Any:
        handler = self.handler()
        context = LocalLambdaContext(
            function_name=self.name,
            invoked_function_arn=self.arn,
            memory_limit_in_mb=self.memory,
            timeout_seconds=self.timeout,
        )
        return handler(event, context, deps=self.dependencies())


class LocalStack:
    """Context manager: ``with LocalStack(extra_env=...) as stack:`` — the template's resources in moto."""

    def __init__(
        self,
        template_path: Path = TEMPLATE_PATH,
        *,
        stack_name: str = "callsync-local",
        extra_env: dict[str, str] | None = None,
        retry_wait_scale: float = DEFAULT_RETRY_WAIT_SCALE,
    ) -> None:
        self.template_path = template_path
        self.template = load_template(template_path)
        self.stack_name = stack_name
        self.extra_env = dict(extra_env or {})
        self.retry_wait_scale = retry_wait_scale
        self.resolver = Resolver(self.template, region=REGION, account_id=ACCOUNT_ID, stack_name=stack_name)
        self.functions: dict[str, LocalFunction] = {}
        self.tables: dict[str, str] = {}  # logical id -> table name
        self.queues: dict[str, str] = {}  # logical id -> queue url
        self.state_machines: dict[str, str] = {}  # logical id -> arn
        self._patches: list[Any] = []
        self._mock: Any = None
        self._saved_env: dict[str, str | None] = {}

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        from moto import mock_aws

        for key, value in _AWS_ENV.items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        self._mock = mock_aws(
            config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        )
        self._mock.start()
        try:
            self._patch_lambda_invoke()
            self._patch_retry_waits()
            self._patch_dynamodb_atomic_writes()
            self._assign_physical_ids()
            self._create_tables()
            self._create_queues()
            self._create_event_buses()
            self._create_functions()
            self._create_state_machines()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for patch in reversed(self._patches):
            patch.stop()
        self._patches.clear()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        for key, value in self._saved_env.items():
            if value is not None:
                os.environ[key] = value
            elif key not in _KEPT_AFTER_EXIT:
                os.environ.pop(key, None)
        self._saved_env.clear()

    # ------------------------------------------------------------------ accessors
    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name=REGION)

    def function(self, logical_id: str) -> LocalFunction:
        return self.functions[logical_id]

    def function_by_name(self, name_or_arn: str) -> LocalFunction:
        name = name_or_arn.split(":function:", 1)[-1].split(":", 1)[0]
        for fn in self.functions.values():
            if fn.name == name:
                return fn
        raise KeyError(f"no function {name_or_arn} in {self.template_path.name}")

    @property
    def queue_url(self) -> str:
        return self.queues["CallProcessedQueue"]

    @property
    def dlq_url(self) -> str:
        return self.queues["CallProcessedDLQ"]

    @property
    def state_machine_arn(self) -> str:
        return self.state_machines["PostCallSyncStateMachine"]

    def put_settings(self, item: dict[str, Any]) -> None:
        """Store a settings item as is (unvalidated, like a hand-edited table item)."""
        table = self._table_resource("SettingsTable")
        table.put_item(Item=json.loads(json.dumps(item), parse_float=Decimal))

    def put_secret(self, name: str, value: dict[str, Any]) -> None:
        self.put_secret_string(name, json.dumps(value))

    def put_secret_string(self, name: str, value: str) -> None:
        sm = self.client("secretsmanager")
        try:
            sm.create_secret(Name=name, SecretString=value)
        except sm.exceptions.ResourceExistsException:
            sm.put_secret_value(SecretId=name, SecretString=value)

    def scan_table(self, logical_id: str) -> list[dict[str, Any]]:
        table = self._table_resource(logical_id)
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = table.scan(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return [_plain(i) for i in items]
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def table(self, logical_id: str) -> Any:
        """The boto3 Table resource of the template's table ``logical_id`` (for adapters built on it)."""
        return self._table_resource(logical_id)

    def table_items(self, logical_id: str) -> list[dict[str, Any]]:
        """Every item of a table in DynamoDB's typed JSON (``{"S": ...}``), bytes as base64: lossless."""
        ddb = self.client("dynamodb")
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.tables[logical_id]}
        while True:
            page = ddb.scan(**kwargs)
            items.extend(_typed_to_json(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def load_table_items(self, logical_id: str, items: list[dict[str, Any]]) -> None:
        """Put items written by ``table_items`` back (replacing items with the same key)."""
        ddb = self.client("dynamodb")
        for item in items:
            ddb.put_item(TableName=self.tables[logical_id], Item=_typed_from_json(item))

    def secrets(self) -> dict[str, str]:
        """Every secret's name and current string value."""
        sm = self.client("secretsmanager")
        names: list[str] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = sm.list_secrets(**kwargs)
            names.extend(s["Name"] for s in page.get("SecretList", []))
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
        return {name: str(sm.get_secret_value(SecretId=name)["SecretString"]) for name in sorted(names)}

    def finished_executions(self) -> list[dict[str, Any]]:
        """Every execution of every state machine (name, ARN, status, input, output, error, cause)."""
        sfn = self.client("stepfunctions")
        found: list[dict[str, Any]] = []
        for arn in self.state_machines.values():
            for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
                for listed in page["executions"]:
                    described = sfn.describe_execution(executionArn=listed["executionArn"])
                    found.append(
                        {
                            "state_machine_arn": arn,
                            "name": described["name"],
                            "execution_arn": described["executionArn"],
                            "status": described["status"],
                            "input": described.get("input"),
                            "output": described.get("output"),
                            "error": described.get("error"),
                            "cause": described.get("cause"),
                            "start_date": str(described["startDate"]),
                            "stop_date": str(described["stopDate"]) if described.get("stopDate") else None,
                        }
                    )
        return found

    def restore_executions(self, records: list[dict[str, Any]]) -> None:
        """Make executions of an earlier local run known again, closed, so their names stay taken.

        Step Functions keeps a closed execution's name (``ExecutionAlreadyExists``) for 90 days; a
        local environment that persists between runs keeps them the same way. Only what
        ``describe_execution`` and the name check read is restored (not the history).
        """
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        backend = stepfunctions_parser_backends[ACCOUNT_ID][REGION]
        for record in records:
            if record.get("status") == "RUNNING":
                continue  # an interrupted run: the name is free again, as if that execution was never started
            machine = backend.describe_state_machine(record["state_machine_arn"])
            if any(e.name == record["name"] for e in machine.executions):
                continue
            machine.executions.append(_ClosedExecution.from_record(record))  # type: ignore[arg-type]

    def _table_resource(self, logical_id: str) -> Any:
        import boto3

        return boto3.resource("dynamodb", region_name=REGION).Table(self.tables[logical_id])

    # ------------------------------------------------------------------ creation
    def _physical_name(self, logical_id: str) -> str:
        return f"{self.stack_name}-{logical_id}"

    def _assign_physical_ids(self) -> None:
        res = self.resolver
        arn_prefix = f"arn:aws:{{}}:{REGION}:{ACCOUNT_ID}"
        for logical in resources_of_type(self.template, "AWS::DynamoDB::Table"):
            name = self._physical_name(logical)
            res.refs[logical] = name
            res.attrs[(logical, "Arn")] = f"{arn_prefix.format('dynamodb')}:table/{name}"
        for logical in resources_of_type(self.template, "AWS::SQS::Queue"):
            name = self._physical_name(logical)
            res.refs[logical] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}"
            res.attrs[(logical, "Arn")] = f"{arn_prefix.format('sqs')}:{name}"
            res.attrs[(logical, "QueueName")] = name
        globals_fn = (self.template.get("Globals") or {}).get("Function") or {}
        for logical, spec in resources_of_type(self.template, "AWS::Serverless::Function").items():
            props = spec.get("Properties") or {}
            name = str(res.resolve(props["FunctionName"])) if "FunctionName" in props else self._physical_name(logical)
            arn = f"{arn_prefix.format('lambda')}:function:{name}"
            res.refs[logical] = name
            res.attrs[(logical, "Arn")] = arn
            # AutoPublishAlias: `!Ref Fn.Alias` (and SAM's generated `FnAlias<name>`) is the qualified ARN;
            # invocations of it reach the same in-process handler (``function_by_name`` drops the qualifier).
            alias = props.get("AutoPublishAlias", globals_fn.get("AutoPublishAlias"))
            if alias:
                res.refs[f"{logical}.Alias"] = res.refs[f"{logical}Alias{alias}"] = f"{arn}:{alias}"
        for logical, spec in resources_of_type(self.template, "AWS::Serverless::StateMachine").items():
            name = self._physical_name(logical)
            res.refs[logical] = f"{arn_prefix.format('states')}:stateMachine:{name}"
            res.attrs[(logical, "Name")] = name
            res.attrs[(logical, "Arn")] = res.refs[logical]
            # moto has no state machine versions or aliases: the alias resolves to the state machine itself.
            alias = (spec.get("Properties") or {}).get("AutoPublishAlias")
            if alias:
                res.refs[f"{logical}Alias{alias}"] = res.refs[f"{logical}.Alias"] = res.refs[logical]
        for logical in resources_of_type(self.template, "AWS::Serverless::LayerVersion"):
            res.refs[logical] = f"{arn_prefix.format('lambda')}:layer:{self._physical_name(logical)}:1"
        for logical, spec in resources_of_type(self.template, "AWS::Events::EventBus").items():
            name = str(res.resolve(spec.get("Properties", {}).get("Name", self._physical_name(logical))))
            res.refs[logical] = name
            res.attrs[(logical, "Name")] = name
            res.attrs[(logical, "Arn")] = f"{arn_prefix.format('events')}:event-bus/{name}"

    def _create_tables(self) -> None:
        ddb = self.client("dynamodb")
        for logical, spec in resources_of_type(self.template, "AWS::DynamoDB::Table").items():
            props = self.resolver.resolve(spec["Properties"])
            name = self.resolver.refs[logical]
            ddb.create_table(
                TableName=name,
                AttributeDefinitions=props["AttributeDefinitions"],
                KeySchema=props["KeySchema"],
                BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
            )
            ttl = props.get("TimeToLiveSpecification")
            if ttl and ttl.get("Enabled"):
                ddb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
                )
            self.tables[logical] = name

    def _create_queues(self) -> None:
        sqs = self.client("sqs")
        specs = resources_of_type(self.template, "AWS::SQS::Queue")
        # Dead-letter targets first: a redrive policy must name an existing queue.
        ordered = sorted(specs, key=lambda k: "RedrivePolicy" in specs[k].get("Properties", {}))
        for logical in ordered:
            props = self.resolver.resolve(specs[logical].get("Properties", {}))
            attributes: dict[str, str] = {}
            for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds"):
                if key in props:
                    attributes[key] = str(props[key])
            if "RedrivePolicy" in props:
                policy = dict(props["RedrivePolicy"])
                policy["maxReceiveCount"] = int(policy["maxReceiveCount"])
                attributes["RedrivePolicy"] = json.dumps(policy)
            url = sqs.create_queue(QueueName=self.resolver.attrs[(logical, "QueueName")], Attributes=attributes)[
                "QueueUrl"
            ]
            self.queues[logical] = url
            self.resolver.refs[logical] = url

    def _create_event_buses(self) -> None:
        events = self.client("events")
        for logical in resources_of_type(self.template, "AWS::Events::EventBus"):
            events.create_event_bus(Name=self.resolver.refs[logical])

    def _create_functions(self) -> None:
        globals_fn = (self.template.get("Globals") or {}).get("Function") or {}
        global_env = self.resolver.resolve((globals_fn.get("Environment") or {}).get("Variables") or {})
        role_arn = self._execution_role()
        lam = self.client("lambda")
        code = _placeholder_zip()
        for logical, spec in resources_of_type(self.template, "AWS::Serverless::Function").items():
            props = spec["Properties"]
            own_env = self.resolver.resolve((props.get("Environment") or {}).get("Variables") or {})
            env = {k: str(v) for k, v in {**global_env, **own_env, **self.extra_env}.items() if v is not None}
            fn = LocalFunction(
                logical_id=logical,
                name=self.resolver.refs[logical],
                arn=self.resolver.attrs[(logical, "Arn")],
                code_dir=(self.template_path.parent / props["CodeUri"]).resolve(),
                handler_spec=props.get("Handler", globals_fn.get("Handler", "app.handler")),
                env=env,
                memory=int(props.get("MemorySize", globals_fn.get("MemorySize", 128))),
                timeout=int(props.get("Timeout", globals_fn.get("Timeout", 3))),
            )
            lam.create_function(
                FunctionName=fn.name,
                Runtime=props.get("Runtime", globals_fn.get("Runtime", "python3.13")),
                Role=role_arn,
                Handler=fn.handler_spec,
                Code={"ZipFile": code},
                Timeout=fn.timeout,
                MemorySize=fn.memory,
                Environment={"Variables": env},
            )
            self.functions[logical] = fn

    def _create_state_machines(self) -> None:
        sfn = self.client("stepfunctions")
        role_arn = self._execution_role("states.amazonaws.com")
        for logical, spec in resources_of_type(self.template, "AWS::Serverless::StateMachine").items():
            props = spec["Properties"]
            definition = (self.template_path.parent / props["DefinitionUri"]).read_text(encoding="utf-8")
            substitutions = self.resolver.resolve(props.get("DefinitionSubstitutions") or {})
            for key, value in substitutions.items():
                definition = definition.replace("${" + key + "}", str(value))
            if "${" in definition:
                raise ValueError(f"{props['DefinitionUri']}: unsubstituted ${{...}} left in the definition")
            arn = sfn.create_state_machine(
                name=self.resolver.attrs[(logical, "Name")],
                definition=definition,
                roleArn=role_arn,
                type=props.get("Type", "STANDARD"),
            )["stateMachineArn"]
            self.state_machines[logical] = arn

    def _execution_role(self, principal: str = "lambda.amazonaws.com") -> str:
        iam = self.client("iam")
        name = f"{self.stack_name}-{principal.split('.')[0]}-role"
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}],
        }
        try:
            return str(iam.get_role(RoleName=name)["Role"]["Arn"])
        except iam.exceptions.NoSuchEntityException:
            return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])

    # ------------------------------------------------------------------ patches
    def _patch_lambda_invoke(self) -> None:
        from moto.awslambda_simple.models import LambdaSimpleBackend

        stack = self

        def invoke(
            backend: Any,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: dict[str, str],
        ) -> bytes:
            fn = stack.function_by_name(function_name)
            event = json.loads(body) if body else {}
            try:
                result = fn.invoke(event)
            except Exception as e:
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps(lambda_error(e)).encode()
            return json.dumps(result).encode()

        patch = mock.patch.object(LambdaSimpleBackend, "invoke", invoke)
        patch.start()
        self._patches.append(patch)

    def _patch_retry_waits(self) -> None:
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

        scale = self.retry_wait_scale
        scaled_time = types.SimpleNamespace(sleep=lambda seconds: time.sleep(max(0.0, seconds * scale)))
        patch = mock.patch.object(retrier_decl, "time", scaled_time)
        patch.start()
        self._patches.append(patch)

    def _patch_dynamodb_atomic_writes(self) -> None:
        """One DynamoDB request at a time in moto (each is atomic per item in AWS; moto reads and writes items in
        Python, where two handler threads could interleave, and deep-copies live items outside its backend)."""
        from moto.dynamodb.responses import DynamoHandler

        lock = threading.RLock()
        original = DynamoHandler.call_action

        def one_at_a_time(handler: Any) -> Any:
            with lock:
                return original(handler)

        patch = mock.patch.object(DynamoHandler, "call_action", one_at_a_time)
        patch.start()
        self._patches.append(patch)


def lambda_error(error: BaseException) -> dict[str, Any]:
    """The payload the Lambda Python runtime returns for an unhandled exception."""
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": "",
        "stackTrace": traceback.format_tb(error.__traceback__),
    }


def _plain(value: Any) -> Any:
    """DynamoDB values (Decimal, sets) as plain JSON values."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    return value


@dataclass
class _ClosedExecution:
    """A finished execution of an earlier run: what the name check and ``describe_execution`` read."""

    name: str
    execution_arn: str
    state_machine_arn: str
    status: str
    execution_input: str
    output: str | None
    error: str | None
    cause: str | None
    start_date: Any
    stop_date: Any
    output_details: dict[str, Any] = field(default_factory=lambda: {"included": True})

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> _ClosedExecution:
        from datetime import datetime

        def when(value: str | None) -> Any:
            return datetime.fromisoformat(value) if value else None

        return cls(
            name=record["name"],
            execution_arn=record["execution_arn"],
            state_machine_arn=record["state_machine_arn"],
            status=record["status"],
            execution_input=record.get("input") or "{}",
            output=record.get("output"),
            error=record.get("error"),
            cause=record.get("cause"),
            start_date=when(record.get("start_date")),
            stop_date=when(record.get("stop_date")),
        )

    @property
    def exec_arn(self) -> str:
        return self.execution_arn


def _typed_to_json(value: Any) -> Any:
    """DynamoDB typed attribute values as JSON: bytes (``B``/``BS``) become base64 text."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {k: _typed_to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed_to_json(v) for v in value]
    return value


def _typed_from_json(value: Any, binary: bool = False) -> Any:
    if isinstance(value, dict):
        return {k: _typed_from_json(v, binary=k in ("B", "BS")) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed_from_json(v, binary) for v in value]
    if binary and isinstance(value, str):
        return base64.b64decode(value)
    return value


def _placeholder_zip() -> bytes:
    """moto needs a code package to register a function; the code that runs is the in-process handler."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    raise RuntimeError('routed in-process')\n")
    return buffer.getvalue()


@contextmanager
def local_stack(**kwargs: Any) -> Iterator[LocalStack]:
    with LocalStack(**kwargs) as stack:
        yield stack
