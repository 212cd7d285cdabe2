"""The SQS consumer's use case: one ``call.processed`` message → one PostCallSync execution, or a reason why not.

Decisions, in order (each one is recorded in the ledger, so nothing is lost):

- the body is over 256 KiB, not JSON or not a valid v1 event → ``REJECTED``: sent to the DLQ at
  once with the reason as a message attribute, and the message is acknowledged (retrying cannot help);
- the org has no (valid) settings → ``REJECTED`` the same way, the reason names the org;
- ``autosync: false`` → ``SKIPPED`` (unless ``preview: true``: a preview writes nothing, so it runs);
- excluded by the settings' ``exclusions`` (private, title keyword, domain, internal-only;
  ``domain.exclusions``) → ``SKIPPED`` with the reason: no execution, nothing written to Salesforce;
- the call is over the input limits (``domain.input_limits``): trimmed, with the notes as the
  report's warnings, or ``REJECTED`` naming the field;
- an execution named after org, call and revision already exists → ``DUPLICATE`` (nothing starts);
- otherwise → ``STARTED``.

Transient failures (DynamoDB, Step Functions or SQS errors) propagate: the batch reports the message
as failed and SQS redelivers it, up to the queue's ``maxReceiveCount``, then moves it to the DLQ.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from callsync.domain import input_limits
from callsync.domain.exclusions import exclusion_reason
from callsync.errors import InvalidEvent, InvalidSettings, PermanentError, SettingsNotFound
from callsync.models.event import call_key as event_call_key
from callsync.models.ledger import ConsumerStatus, DeliveryReport
from callsync.models.validation import parse_event
from callsync.ports import Ledger, SettingsStore

EXECUTION_NAME_MAX = 80
_READABLE_ORG = re.compile(r"^[A-Za-z0-9_]+$")
_READABLE_CALL = re.compile(r"^[A-Za-z0-9_-]+$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
REJECT_REASON_MAX = 1000  # SQS attribute values may be 256 KiB; keep the reason readable


class ExecutionAlreadyExists(Exception):
    """An execution with this name exists (running with other input, or closed)."""

    def __init__(self, execution_arn: str) -> None:
        super().__init__(execution_arn)
        self.execution_arn = execution_arn


class Executions(Protocol):
    """Starts PostCallSync executions."""

    def start(self, name: str, payload: dict[str, Any]) -> str:
        """Start an execution; returns its ARN.

        Raises:
            ExecutionAlreadyExists: the name is taken (redelivered or duplicate message).
        """


class DeadLetters(Protocol):
    """The dead-letter queue, for messages no retry can fix."""

    def send(self, body: str, *, reason: str, error_type: str, message_id: str) -> None: ...


@dataclass(frozen=True)
class Message:
    """One SQS message as the consumer sees it."""

    message_id: str
    body: str
    receive_count: int = 1


@dataclass(frozen=True)
class Decision:
    status: ConsumerStatus
    call_key: str
    report: DeliveryReport


def execution_name(org_id: str, call_id: str, revision: int) -> str:
    """A legal, unique Step Functions execution name for (org, call, revision).

    Readable ``{org}-{call}-{revision}`` when the org id has no ``-``, both ids use only
    ``[A-Za-z0-9_-]`` and it fits in 80 characters (then it splits back unambiguously);
    otherwise a sanitised prefix plus ``-h`` and a SHA-256 digest of the exact triple. A
    readable name always ends in ``-<digits>`` and a hashed one in ``-h<hex>``, so the two
    forms never collide.
    """
    readable = f"{org_id}-{call_id}-{revision}"
    if _READABLE_ORG.match(org_id) and _READABLE_CALL.match(call_id) and len(readable) <= EXECUTION_NAME_MAX:
        return readable
    digest = hashlib.sha256(json.dumps([org_id, call_id, revision]).encode()).hexdigest()[:24]
    suffix = f"-h{digest}"
    prefix = _UNSAFE.sub("_", f"{org_id}-{call_id}")[: EXECUTION_NAME_MAX - len(suffix)]
    return f"{prefix}{suffix}"


def _identity_of(body: str) -> tuple[str | None, str | None, int | None]:
    """Best-effort org/call/revision of a message that did not validate (for the ledger key)."""
    try:
        raw = json.loads(body)
    except json.JSONDecodeError:
        return None, None, None
    if not isinstance(raw, dict):
        return None, None, None
    org, call, rev = raw.get("org_id"), raw.get("call_id"), raw.get("revision", 1)
    return (
        org if isinstance(org, str) and org else None,
        call if isinstance(call, str) and call else None,
        rev if isinstance(rev, int) and not isinstance(rev, bool) else None,
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StartSync:
    """validate → settings → autosync? → excluded? → StartExecution(name = org-call-revision)."""

    def __init__(
        self,
        *,
        settings: SettingsStore,
        ledger: Ledger,
        executions: Executions,
        dead_letters: DeadLetters,
    ) -> None:
        self._settings = settings
        self._ledger = ledger
        self._executions = executions
        self._dead_letters = dead_letters

    def replay(self, message: Message, attempt: int) -> Decision:
        """Run a call again from its stored body, under the execution name ``<name>-replay<attempt>``.

        Everything else is what ``handle`` does, with the settings as they are now (the cause of the failure
        may have been fixed there). Every step is idempotent, so nothing already written is written twice.
        """
        return self.handle(message, name_suffix=f"-replay{attempt}")

    def handle(self, message: Message, *, name_suffix: str = "") -> Decision:
        """Decide what happens to one message and record it.

        Raises:
            Exception: anything transient (AWS errors); the message is then redelivered.
        """
        try:
            input_limits.check_message(message.body)
            call = parse_event(message.body)
        except InvalidEvent as e:
            org, call_id, rev = _identity_of(message.body)
            return self._reject(message, e, org_id=org, call_id=call_id, revision=rev)
        try:
            settings = self._settings.get(call.org_id)
        except (SettingsNotFound, InvalidSettings) as e:
            return self._reject(message, e, org_id=call.org_id, call_id=call.call_id, revision=call.revision)

        name = execution_name(call.org_id, call.call_id, call.revision)
        if name_suffix:  # a replay: never the name of a first delivery (those end in digits or -h<hex>)
            name = name[: EXECUTION_NAME_MAX - len(name_suffix)] + name_suffix
        base: dict[str, Any] = {
            "message_id": message.message_id,
            "org_id": call.org_id,
            "call_id": call.call_id,
            "revision": call.revision,
            "receive_count": message.receive_count,
            "execution_name": name,
        }
        if not settings.autosync and not settings.preview:  # a preview writes nothing: it runs with autosync off
            return self._record(
                call.call_key, status="SKIPPED", reason=f"autosync is off for org {call.org_id}", **base
            )
        excluded = exclusion_reason(call, settings)
        if excluded is not None:
            return self._record(call.call_key, status="SKIPPED", reason=excluded, **base)
        try:  # trimmed to fit (notes in the report), or refused naming the field
            admitted = input_limits.admit(
                call.model_dump(mode="json"), settings=settings.model_dump(mode="json"), message_id=message.message_id
            )
        except InvalidEvent as e:
            return self._reject(message, e, org_id=call.org_id, call_id=call.call_id, revision=call.revision)
        base["warnings"] = list(admitted.notes)
        payload = {
            "call": admitted.call,
            "settings": settings.model_dump(mode="json"),
            # Part of the input so that a second, distinct message for the same call is refused
            # (ExecutionAlreadyExists) even while the first execution still runs; the same SQS
            # message redelivered carries the same input and gets the running execution back.
            "message_id": message.message_id,
        }
        try:
            arn = self._executions.start(name, payload)
        except ExecutionAlreadyExists as e:
            return self._record(
                call.call_key,
                status="DUPLICATE",
                reason=f"{call.call_key} was already accepted (execution {name})",
                execution_arn=e.execution_arn,
                **base,
            )
        return self._record(call.call_key, status="STARTED", execution_arn=arn, **base)

    def _reject(
        self,
        message: Message,
        error: PermanentError,
        *,
        org_id: str | None,
        call_id: str | None,
        revision: int | None,
    ) -> Decision:
        reason = str(error)[:REJECT_REASON_MAX]
        error_type = type(error).__name__
        self._dead_letters.send(message.body, reason=reason, error_type=error_type, message_id=message.message_id)
        if org_id and call_id and revision and max(len(org_id), len(call_id)) <= input_limits.MAX_ID_CHARS:
            call_key = event_call_key(org_id, call_id, revision)
        else:
            call_key = f"rejected#{message.message_id}"
        return self._record(
            call_key,
            status="REJECTED",
            reason=reason,
            error_type=error_type,
            message_id=message.message_id,
            org_id=org_id,
            call_id=call_id,
            revision=revision,
            receive_count=message.receive_count,
        )

    def _record(self, call_key: str, *, status: ConsumerStatus, message_id: str, **fields: Any) -> Decision:
        report = DeliveryReport(
            step=f"delivery#{message_id}",
            status=status,
            message_id=message_id,
            received_at=_now(),
            **fields,
        )
        self._ledger.record_step(call_key, report)
        return Decision(status=status, call_key=call_key, report=report)


class StepFunctionsExecutions:
    """``Executions`` over a boto3 Step Functions client."""

    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self._client = client
        self._arn = state_machine_arn

    def start(self, name: str, payload: dict[str, Any]) -> str:
        try:
            response = self._client.start_execution(
                stateMachineArn=self._arn, name=name, input=json.dumps(payload, separators=(",", ":"))
            )
        except self._client.exceptions.ExecutionAlreadyExists as e:
            raise ExecutionAlreadyExists(self.execution_arn(name)) from e
        return str(response["executionArn"])

    def input_of(self, execution_arn: str) -> dict[str, Any]:
        """The input an execution was started with (``ReplayCall``'s stored input)."""
        return dict(json.loads(self._client.describe_execution(executionArn=execution_arn)["input"]))

    def status_of(self, execution_arn: str) -> str:
        return str(self._client.describe_execution(executionArn=execution_arn)["status"])

    def execution_arn(self, name: str) -> str:
        """``arn:…:stateMachine:<sm>`` → ``arn:…:execution:<sm>:<name>``."""
        head, _, sm_name = self._arn.rpartition(":")
        return f"{head.replace(':stateMachine', ':execution')}:{sm_name}:{name}"


class SqsDeadLetters:
    """``DeadLetters`` over a boto3 SQS client: the reason travels as message attributes."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, body: str, *, reason: str, error_type: str, message_id: str) -> None:
        def attr(value: str) -> dict[str, str]:
            return {"DataType": "String", "StringValue": value or "-"}

        self._client.send_message(
            QueueUrl=self._url,
            MessageBody=body if body else "(empty body)",
            MessageAttributes={
                "reject_reason": attr(reason),
                "error_type": attr(error_type),
                "source_message_id": attr(message_id),
            },
        )
