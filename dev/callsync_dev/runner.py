"""``callsync run``: the deployed architecture on one machine, one message per event file.

1. Start the Salesforce emulator with the org fixture, and the local stack (``LocalStack``:
   moto built from ``template.yaml``).
2. Seed the settings table (the items as given, unvalidated) and, for every org in the settings,
   the OAuth secret ``<SECRET_PREFIX><org_id>`` from the emulator's connection, plus the
   connected app's secret.
3. Send each event file as one SQS message, in order (the same file twice = a duplicate delivery).
4. Consume the queue the way the Lambda event source mapping does: batches of up to the
   template's ``BatchSize``, the real consumer handler, delete what succeeded, make reported
   failures visible again (SQS moves a message to the DLQ after ``maxReceiveCount`` receives).
5. Wait until every started execution has finished, then collect one run per message.

``sequential``: one message at a time, in the given order, each settled (its execution finished)
before the next is sent — a series of calls over time instead of a burst.

``state``: a directory holding the environment between runs (``callsync_dev.state_dir``): the org
(``org.json``, editable between runs) and the AWS side (tables, secrets, finished executions).
Without it, the emulated org is a throwaway copy of the fixture and the AWS side lives for one run.

``dry_run``: in a dry run the report says "would" and ``RunResult.org`` is the org as it was
*before* the run — the emulator's writes are discarded, and nothing is saved to ``state``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callsync_dev.localstack import LocalStack
from callsync_dev.state_dir import StateDir, StateError

DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEMO_ORG = DEMO_DIR / "demo_org.json"
DEMO_SETTINGS = DEMO_DIR / "demo_settings.json"
DEMO_EVENT = DEMO_DIR / "demo_event.json"

FINAL_STATUSES = ("SUCCEEDED", "FAILED", "REJECTED", "SKIPPED", "DUPLICATE", "DEFERRED", "PREVIEWED")
OK_STATUSES = frozenset({"SUCCEEDED", "SKIPPED", "DUPLICATE", "DEFERRED", "PREVIEWED"})
REASON_STATUSES = frozenset({"SKIPPED", "DEFERRED"})  # runs whose ``reason`` says why nothing (more) ran
SETTLE_TIMEOUT_SECONDS = 600.0
STEP_ORDER = ("CheckApiBudget", "MatchOpportunity", "CreateContacts", "SyncFields", "LogActivity")
RETRY_WAIT_SCALE_ENV = "CALLSYNC_RETRY_WAIT_SCALE"  # multiplies the ASL's retry waits locally (default 0.01)


class UsageError(Exception):
    """Bad arguments or unreadable input files (exit code 2)."""


@dataclass
class EventInput:
    path: str
    body: str


@dataclass
class RunResult:
    runs: list[dict[str, Any]]
    org: dict[str, Any]
    api_requests: int
    ledger: list[dict[str, Any]]
    dlq: list[str]
    dlq_messages: list[dict[str, Any]]
    dry_run: bool = False
    executions: dict[str, dict[str, Any]] = field(default_factory=dict)  # arn -> describe_execution
    instance_url: str = ""
    wall_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # about the run itself (e.g. an ignored --org)
    state_dir: str | None = None
    peak_concurrent_requests: int = 0  # the most Salesforce REST requests the emulator answered at once

    @property
    def exit_code(self) -> int:
        return 0 if all(r["status"] in OK_STATUSES for r in self.runs) else 1

    def to_json(self) -> dict[str, Any]:
        """The ``--out`` document (INTERFACES.md §4), plus the optional ``dlq_messages`` and ``dry_run``."""
        return {
            "runs": self.runs,
            "org": self.org,
            "api_requests": self.api_requests,
            "ledger": self.ledger,
            "dlq": self.dlq,
            "dlq_messages": self.dlq_messages,
            "dry_run": self.dry_run,
            "state_dir": self.state_dir,
        }


def read_events(paths: Sequence[str | Path]) -> list[EventInput]:
    events = []
    for p in paths:
        path = Path(p)
        try:
            body = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"cannot read event file {path}: {e}") from e
        if not body.strip():
            raise UsageError(f"event file {path} is empty (an SQS message body cannot be empty)")
        events.append(EventInput(str(path), body))
    if not events:
        raise UsageError("no event files given")
    return events


def read_json_file(path: str | Path, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"cannot read {what} {path}: {e}") from e


def settings_items(settings: Any) -> list[dict[str, Any]]:
    """One settings object, or a list of them (several orgs), each with an ``org_id``."""
    items = settings if isinstance(settings, list) else [settings]
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("org_id"), str) or not item["org_id"]:
            raise UsageError("settings: each item must be a JSON object with an org_id")
    return items


def run(
    event_paths: Sequence[str | Path],
    *,
    org: str | Path | dict[str, Any] | None = None,
    settings: str | Path | dict[str, Any] | list[dict[str, Any]] | None = None,
    dry_run: bool = False,
    retry_wait_scale: float | None = None,
    sequential: bool = False,
    state: str | Path | None = None,
    org_concurrency: int | None = None,
) -> RunResult:
    """Run the events through the local stack; see the module docstring.

    Raises:
        UsageError: unreadable event/org/settings files or state directory.
    """
    from callsync_dev.emulator import Emulator, FixtureError

    started = time.monotonic()
    events = read_events(event_paths)
    notes: list[str] = []
    try:
        state_dir = StateDir(state) if state is not None else None
        restoring = state_dir is not None and state_dir.has_aws
        org_fixture: dict[str, Any] | None
        if state_dir is not None and state_dir.has_org:
            org_fixture = state_dir.read_org()
            if org is not None:
                notes.append(f"--org ignored: the org of this environment is {state_dir.org_path}")
        else:
            org_fixture = read_json_file(org, "org fixture") if isinstance(org, str | Path) else org
            if org_fixture is None:
                org_fixture = read_json_file(DEMO_ORG, "org fixture")
    except StateError as e:
        raise UsageError(str(e)) from e
    raw_settings = read_json_file(settings, "settings") if isinstance(settings, str | Path) else settings
    if raw_settings is None and not restoring:
        raw_settings = read_json_file(DEMO_SETTINGS, "settings")
    items = settings_items(raw_settings) if raw_settings is not None else []

    try:
        emulator = Emulator.from_fixture(org_fixture)
    except FixtureError as e:
        where = state_dir.org_path if state_dir is not None and state_dir.has_org else "org fixture"
        raise UsageError(f"{where}: {e}") from e
    emulator.start()
    try:
        before = emulator.dump() if dry_run else None
        connection = {**emulator.connection, "issued_at": str(int(time.time() * 1000))}
        # the identity URL a token answer carries (``id``): names the integration user, as `callsync connect` stores it
        connection["id"] = f"{connection['instance_url']}/id/{emulator.store.org_id}/{emulator.integration_user_id}"
        stack_kwargs: dict[str, Any] = {"extra_env": {"SALESFORCE_CA_BUNDLE": connection["ca_file"]}}
        if org_concurrency is not None:  # the template's OrgConcurrency parameter, for this run
            stack_kwargs["extra_env"]["ORG_CONCURRENCY"] = str(org_concurrency)
        scale = retry_wait_scale if retry_wait_scale is not None else _env_scale()
        if scale is not None:
            stack_kwargs["retry_wait_scale"] = scale
        with LocalStack(**stack_kwargs) as stack:
            if state_dir is not None and restoring:
                try:
                    state_dir.restore(stack, connection)
                except StateError as e:
                    raise UsageError(str(e)) from e
            _seed(stack, items, connection)
            if sequential:
                result = _collect(stack, events, [_send_and_settle(stack, event) for event in events])
            else:
                result = deliver(stack, events)
            if state_dir is not None and not dry_run:
                state_dir.save(stack)
        result.api_requests = emulator.api_requests
        result.peak_concurrent_requests = emulator.app.meter.peak_active
        result.org = before if before is not None else emulator.dump()
        if state_dir is not None and not dry_run:
            state_dir.write_org(result.org)
        result.dry_run = dry_run
        result.instance_url = connection["instance_url"]
        result.notes = notes
        result.state_dir = str(state_dir.path) if state_dir is not None else None
    finally:
        emulator.stop()
    result.wall_seconds = time.monotonic() - started
    return result


def _env_scale() -> float | None:
    raw = os.environ.get(RETRY_WAIT_SCALE_ENV)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError as e:
        raise UsageError(f"{RETRY_WAIT_SCALE_ENV} must be a number, not {raw!r}") from e
    if value < 0:
        raise UsageError(f"{RETRY_WAIT_SCALE_ENV} must be >= 0")
    return value


def _seed(stack: LocalStack, items: list[dict[str, Any]], connection: dict[str, str]) -> None:
    """The settings items (each replaces its org's stored item), the app secret, and an OAuth secret
    for each org that has none yet (a restored one keeps its other keys, e.g. a disconnection)."""
    env = stack.function("StartSyncFunction").env
    prefix = env.get("SECRET_PREFIX", "callsync/org/")
    stack.put_secret(
        env.get("APP_SECRET_NAME", "callsync/app"),
        {"client_id": connection["client_id"], "client_secret": connection["client_secret"]},
    )
    existing = stack.secrets()
    for item in items:
        stack.put_settings(item)
        name = f"{prefix}{item['org_id']}"
        if name not in existing:
            stack.put_secret(
                name,
                {
                    "instance_url": connection["instance_url"],
                    "access_token": connection["access_token"],
                    "refresh_token": connection["refresh_token"],
                    "issued_at": connection["issued_at"],
                    **({"id": connection["id"]} if connection.get("id") else {}),
                },
            )


def deliver(stack: LocalStack, events: list[EventInput]) -> RunResult:
    """Send ``events`` to a running local stack's queue together, let the consumer take them, and wait until
    their executions ended (their runs; the org and the request counts are the caller's, see ``run``)."""
    message_ids = _send(stack, events)
    _consume(stack)
    return _collect(stack, events, message_ids)


def _send(stack: LocalStack, events: list[EventInput]) -> list[str]:
    sqs = stack.client("sqs")
    return [sqs.send_message(QueueUrl=stack.queue_url, MessageBody=e.body)["MessageId"] for e in events]


def _send_and_settle(stack: LocalStack, event: EventInput) -> str:
    """Send one message, let the consumer take it, and wait until its execution (if any) finished."""
    (message_id,) = _send(stack, [event])
    _consume(stack)
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    delivery = _deliveries(_ledger_entries(stack)).get(message_id)
    if delivery is not None and delivery["status"] == "STARTED" and delivery.get("execution_arn"):
        _wait_for(stack, delivery["execution_arn"], deadline)
    return message_id


def _deliveries(ledger: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The consumer's last decision per SQS message id."""
    deliveries: dict[str, dict[str, Any]] = {}
    for entry in ledger:
        if entry.get("kind") == "step" and str(entry.get("step", "")).startswith("delivery#"):
            previous = deliveries.get(entry["message_id"])
            if previous is None or entry["recorded_at"] >= previous["recorded_at"]:
                deliveries[entry["message_id"]] = entry
    return deliveries


def _batch_size(stack: LocalStack) -> int:
    spec = stack.template["Resources"]["StartSyncFunction"]["Properties"].get("Events") or {}
    for source in spec.values():
        if source.get("Type") == "SQS":
            return int(source["Properties"].get("BatchSize", 10))
    return 10


def _sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as the Lambda event source mapping delivers it."""
    attributes = {k: str(v) for k, v in (message.get("Attributes") or {}).items()}
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": {
            k: {"stringValue": v.get("StringValue"), "dataType": v["DataType"]}
            for k, v in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    }


def _consume(stack: LocalStack, timeout: float = SETTLE_TIMEOUT_SECONDS) -> None:
    """Poll the queue like the event source mapping until it is empty (visible and in flight)."""
    sqs = stack.client("sqs")
    consumer = stack.function("StartSyncFunction")
    queue_arn = stack.resolver.attrs[("CallProcessedQueue", "Arn")]
    batch_size = min(_batch_size(stack), 10)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=stack.queue_url,
            MaxNumberOfMessages=batch_size,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            attrs = sqs.get_queue_attributes(
                QueueUrl=stack.queue_url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            if int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"]) == 0:
                return
            time.sleep(0.05)
            continue
        event = {"Records": [_sqs_record(m, queue_arn) for m in messages]}
        try:
            response = consumer.invoke(event)
            failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
        except Exception:  # the whole invocation failed: Lambda retries the whole batch
            failed = {m["MessageId"] for m in messages}
        for m in messages:
            if m["MessageId"] in failed:
                # Locally, no need to wait out the visibility timeout before the redelivery.
                sqs.change_message_visibility(
                    QueueUrl=stack.queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                sqs.delete_message(QueueUrl=stack.queue_url, ReceiptHandle=m["ReceiptHandle"])
    raise TimeoutError(f"the queue did not drain within {timeout:.0f} s")


def _wait_for(stack: LocalStack, arn: str, deadline: float) -> dict[str, Any]:
    sfn = stack.client("stepfunctions")
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        if time.monotonic() > deadline:
            raise TimeoutError(f"execution {arn} still running")
        time.sleep(0.05)


def _dlq_messages(stack: LocalStack) -> list[dict[str, Any]]:
    sqs = stack.client("sqs")
    seen: dict[str, dict[str, Any]] = {}
    while True:
        batch = sqs.receive_message(
            QueueUrl=stack.dlq_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            WaitTimeSeconds=0,
            VisibilityTimeout=30,
        ).get("Messages", [])
        new = [m for m in batch if m["MessageId"] not in seen]
        if not new:
            break
        for m in new:
            attrs = m.get("MessageAttributes") or {}
            seen[m["MessageId"]] = {
                "message_id": m["MessageId"],
                "source_message_id": (attrs.get("source_message_id") or {}).get("StringValue") or m["MessageId"],
                "body": m["Body"],
                "reason": (attrs.get("reject_reason") or {}).get("StringValue"),
                "error_type": (attrs.get("error_type") or {}).get("StringValue"),
            }
    return list(seen.values())


def _ledger_entries(stack: LocalStack) -> list[dict[str, Any]]:
    """Every ledger entry in the flat JSON shape of ``--out``, in table order (call, revision, step)."""
    from callsync.adapters.dynamodb_ledger import entry_from_item

    items = sorted(stack.scan_table("LedgerTable"), key=lambda i: (i["call_key"], i["sk"]))
    return [entry_from_item(i).as_json() for i in items]


def _collect(stack: LocalStack, events: list[EventInput], message_ids: list[str]) -> RunResult:
    ledger = _ledger_entries(stack)
    deliveries = _deliveries(ledger)
    dlq = _dlq_messages(stack)
    in_dlq = {m["source_message_id"] for m in dlq}
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    executions: dict[str, dict[str, Any]] = {}
    runs: list[dict[str, Any]] = []
    for event, message_id in zip(events, message_ids, strict=True):
        delivery = deliveries.get(message_id)
        run: dict[str, Any] = {
            "call_id": None,
            "status": "FAILED",
            "error": None,
            "execution_arn": None,
            "message_id": message_id,
            "event_file": event.path,
            "call_key": None,
            "warnings": [],
            "reason": None,
            "max_state_bytes": None,
        }
        if delivery is None:
            where = "moved to the DLQ" if message_id in in_dlq else "not consumed"
            run["error"] = f"the consumer failed on every delivery; the message was {where}"
            run["call_id"] = _call_id_of(event.body)
            runs.append(run)
            continue
        run.update(
            call_id=delivery.get("call_id"), call_key=delivery["call_key"], execution_arn=delivery.get("execution_arn")
        )
        status = delivery["status"]
        if status == "STARTED":
            described = _wait_for(stack, delivery["execution_arn"], deadline)
            executions[delivery["execution_arn"]] = described
            if described["status"] == "SUCCEEDED":
                run["status"] = "SUCCEEDED"
            else:
                run["status"] = "FAILED"
                run["error"] = _execution_error(described)
            run["max_state_bytes"] = max_state_bytes(stack, delivery["execution_arn"])
        else:
            run["status"] = status
            if status == "REJECTED":
                run["error"] = delivery.get("reason")
        if run["status"] in REASON_STATUSES:
            run["reason"] = delivery.get("reason")
        runs.append(run)
    # Executions may still write to the ledger after the consumer's pass: read it again.
    ledger = _ledger_entries(stack)
    for run in runs:
        if run["execution_arn"] in executions:
            run["warnings"] = step_warnings(ledger, run["call_key"])
            held = deferred_reason(ledger, run["call_key"], run["execution_arn"])
            if run["status"] == "SUCCEEDED" and held is not None:  # the API budget guard held the call
                run.update(status="DEFERRED", reason=held)
            elif run["status"] == "SUCCEEDED" and outcome_status(ledger, run["call_key"]) == "PREVIEWED":
                run["status"] = "PREVIEWED"
    return RunResult(
        runs=runs,
        org={},
        api_requests=0,
        ledger=ledger,
        dlq=[m["body"] for m in dlq],
        dlq_messages=dlq,
        executions={k: _jsonable(v) for k, v in executions.items()},
    )


def outcome_status(ledger: list[dict[str, Any]], call_key: str) -> str | None:
    """How the ledger says the call's run ended (PREVIEWED: an execution that succeeded in preview mode)."""
    return next(
        (str(e["status"]) for e in ledger if e.get("call_key") == call_key and e.get("kind") == "outcome"), None
    )


def deferred_reason(ledger: list[dict[str, Any]], call_key: str, execution_arn: str) -> str | None:
    """The reason when this execution's outcome in the ledger is ``DEFERRED`` (held by the API budget)."""
    for entry in ledger:
        if (
            entry.get("call_key") == call_key
            and entry.get("kind") == "outcome"
            and entry.get("status") == "DEFERRED"
            and entry.get("execution_arn") == execution_arn
        ):
            return str(entry.get("reason") or "held by the API budget")
    return None


def step_warnings(ledger: list[dict[str, Any]], call_key: str) -> list[str]:
    """Every warning the steps of one call recorded, in step order, each once."""
    steps = [
        e
        for e in ledger
        if e.get("call_key") == call_key
        and e.get("kind") == "step"
        and not str(e.get("step", "")).startswith("delivery#")
    ]
    order = {name: i for i, name in enumerate(STEP_ORDER)}
    steps.sort(key=lambda e: (order.get(str(e.get("step")), len(order)), str(e.get("recorded_at", ""))))
    seen: dict[str, None] = {}
    for entry in steps:
        for warning in entry.get("warnings") or []:
            seen.setdefault(str(warning), None)
    return list(seen)


def max_state_bytes(stack: LocalStack, execution_arn: str) -> int | None:
    """The largest state payload (UTF-8 bytes) the execution carried: the execution's input and every
    state's input and output, read from the execution history."""
    sfn = stack.client("stepfunctions")
    largest: int | None = None
    kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        for event in page.get("events", []):
            for key, part in (
                ("executionStartedEventDetails", "input"),
                ("stateEnteredEventDetails", "input"),
                ("stateExitedEventDetails", "output"),
            ):
                payload = (event.get(key) or {}).get(part)
                if isinstance(payload, str):
                    size = len(payload.encode("utf-8"))
                    largest = size if largest is None else max(largest, size)
        if not page.get("nextToken"):
            return largest
        kwargs["nextToken"] = page["nextToken"]


def _execution_error(described: dict[str, Any]) -> str:
    error = described.get("error") or described["status"]
    cause = described.get("cause")
    if cause:
        try:
            parsed = json.loads(cause)
            cause = parsed.get("errorMessage", cause) if isinstance(parsed, dict) else cause
        except json.JSONDecodeError:
            pass
        return f"{error}: {cause}"
    return str(error)


def _call_id_of(body: str) -> str | None:
    try:
        raw = json.loads(body)
    except json.JSONDecodeError:
        return None
    value = raw.get("call_id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def _jsonable(described: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps({k: v for k, v in described.items() if k != "ResponseMetadata"}, default=str))
