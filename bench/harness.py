"""The step handlers in-process, in the state machine's order, over moto (from template.yaml) + the emulator.

``StepHarness`` is what Step Functions would do minus its interpreter: it builds the start
state the consumer builds (``{call, settings}``), invokes each Task's function with the
state as JSON, and stores the result under the state's key (the ASL ``ResultPath``). The
handlers get the same ``Dependencies`` as in ``callsync run`` (``LocalFunction.invoke``), so
the describe cache, the token cache and the HTTP session live as long as the harness:
the first call of a harness is *cold*, the next ones are *warm*.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from callsync.models.event import CallProcessed
from callsync.models.settings import OrgSettings
from callsync_dev.emulator import Emulator
from callsync_dev.localstack import LocalStack

from bench.aws_calls import AwsCallCounter

# (state key, template function) in the order of statemachine/post_call_sync.asl.json
STEPS: list[tuple[str, str]] = [
    ("match", "MatchOpportunityFunction"),
    ("contacts", "CreateContactsFunction"),
    ("fields", "SyncFieldsFunction"),
    ("activity", "LogActivityFunction"),
]
RECORD = "RecordOutcomeFunction"
BUDGET = "CheckApiBudgetFunction"
STEP_NAMES = {
    "budget": "CheckApiBudget",
    "match": "MatchOpportunity",
    "contacts": "CreateContacts",
    "fields": "SyncFields",
    "activity": "LogActivity",
    "record": "RecordOutcome",
}
# Steps that may call Salesforce (CheckApiBudget: its usage reading, when the stored one is stale).
SALESFORCE_STEPS = frozenset(STEP_NAMES[k] for k in ("budget", "match", "contacts", "fields", "activity"))


@dataclass
class StepMeasure:
    step: str
    seconds: float
    emulator_requests: int  # counted by the emulator (the truth)
    reported_requests: int | None  # the step's own StepReport.api_requests (None: RecordOutcome)
    aws_calls: dict[str, int] = field(default_factory=dict)  # "dynamodb.PutItem" -> n


@dataclass
class CallMeasure:
    call_id: str
    steps: list[StepMeasure]
    state: dict[str, Any]

    @property
    def api_requests(self) -> int:
        return sum(s.emulator_requests for s in self.steps)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.steps)


class StepHarness:
    """``with StepHarness(org, settings) as h: h.run_call(event)`` — see the module docstring."""

    def __init__(self, org: dict[str, Any], settings: dict[str, Any] | list[dict[str, Any]]) -> None:
        self.org = org
        self.settings = settings if isinstance(settings, list) else [settings]
        self.emulator: Emulator | None = None
        self.stack: LocalStack | None = None
        self.aws = AwsCallCounter()

    def __enter__(self) -> StepHarness:
        self.emulator = Emulator.from_fixture(self.org).start()
        try:
            conn = self.emulator.connection
            self.stack = LocalStack(extra_env={"SALESFORCE_CA_BUNDLE": conn["ca_file"]})
            self.stack.start()
            self._seed(conn)
        except BaseException:
            self.__exit__()
            raise
        self.aws.install()
        return self

    def __exit__(self, *exc: object) -> None:
        self.aws.uninstall()
        if self.stack is not None:
            self.stack.stop()
            self.stack = None
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None

    def _seed(self, conn: dict[str, str]) -> None:
        assert self.stack is not None
        env = self.stack.function("StartSyncFunction").env
        self.stack.put_secret(
            env.get("APP_SECRET_NAME", "callsync/app"),
            {"client_id": conn["client_id"], "client_secret": conn["client_secret"]},
        )
        for item in self.settings:
            self.stack.put_settings(item)
            self.stack.put_secret(
                f"{env.get('SECRET_PREFIX', 'callsync/org/')}{item['org_id']}",
                {
                    "instance_url": conn["instance_url"],
                    "access_token": conn["access_token"],
                    "refresh_token": conn["refresh_token"],
                    "issued_at": str(int(time.time() * 1000)),
                },
            )

    @property
    def emu(self) -> Emulator:
        assert self.emulator is not None, "use StepHarness as a context manager"
        return self.emulator

    def start_state(self, event: dict[str, Any]) -> dict[str, Any]:
        """The execution input the consumer builds: the validated call and the org's settings."""
        call = CallProcessed.model_validate(event)
        item = next(s for s in self.settings if s["org_id"] == call.org_id)
        return {
            "call": call.model_dump(mode="json"),
            "settings": OrgSettings.model_validate(item).model_dump(mode="json"),
        }

    def invoke(
        self, logical_id: str, payload: dict[str, Any], step: str, *, reported: bool = True
    ) -> tuple[dict[str, Any], StepMeasure]:
        """One Task: the payload goes through JSON both ways, as between Step Functions and Lambda."""
        assert self.stack is not None
        fn = self.stack.function(logical_id)
        fn.handler()  # import outside the timing (a cold start is measured separately)
        before = self.emu.api_requests
        body = json.loads(json.dumps(payload))
        with self.aws.counting() as calls:
            started = time.perf_counter()
            result = json.loads(json.dumps(fn.invoke(body)))
            seconds = time.perf_counter() - started
        used = self.emu.api_requests - before
        own = self._reported_requests(payload, step) if reported else None
        return result, StepMeasure(step, seconds, used, own, dict(calls))

    def _reported_requests(self, payload: dict[str, Any], step: str) -> int:
        """What the step recorded in the ledger as its request count (its report is the ledger's, not the state's)."""
        from callsync.adapters.dynamodb_ledger import DynamoDbLedger
        from callsync.models.event import call_key

        assert self.stack is not None
        call = payload["call"]
        key = call_key(call["org_id"], call["call_id"], int(call.get("revision") or 1))
        entries = DynamoDbLedger(self.stack.table("LedgerTable")).entries(key)
        report = next(e.report for e in entries if e.report is not None and e.report.step == step)
        return report.api_requests

    def run_call(self, event: dict[str, Any]) -> CallMeasure:
        """CheckApiBudget → MatchOpportunity → CreateContacts → SyncFields → LogActivity →
        RecordOutcome(SUCCEEDED), as the state machine runs a call its budget admits."""
        state = self.start_state(event)
        budget_input = {"call": state["call"], "settings": state["settings"], "execution_name": event["call_id"]}
        budget, measure = self.invoke(BUDGET, budget_input, STEP_NAMES["budget"], reported=False)
        if budget.get("deferred"):
            raise RuntimeError(f"the API budget guard held benchmark call {event['call_id']}: {budget}")
        state["budget"] = budget
        measures = [measure]
        for key, logical_id in STEPS:
            result, measure = self.invoke(logical_id, state, STEP_NAMES[key])
            state[key] = result
            measures.append(measure)
        outcome = {
            "status": "SUCCEEDED",
            "call": state["call"],
            "execution_arn": f"arn:aws:states:us-east-1:123456789012:execution:bench:{event['call_id']}",
        }
        _, measure = self.invoke(RECORD, outcome, STEP_NAMES["record"], reported=False)
        measures.append(measure)
        return CallMeasure(event["call_id"], measures, state)
