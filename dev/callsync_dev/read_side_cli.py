"""``callsync context`` and ``callsync closed-deals``: the read-side functions on one machine.

Both run the real handlers (``functions/crm_context``, ``functions/watch_closed_deals``)
in-process against an embedded AWS (moto: the settings, ledger, describe-cache and claims
tables, the org secret, an EventBridge bus whose rule forwards ``deal.closed`` to a queue so
the printed events are the ones that reached the bus) and the Salesforce emulator seeded with
``--org`` (default: the demo org) and ``--settings`` (default: the demo settings).

The lead wires this module with ``register_cli(subparsers)`` (see ``callsync_dev.cli``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

from callsync.composition import Dependencies, build_dependencies
from callsync.config import Config

from callsync_dev.emulator import Emulator, FixtureError
from callsync_dev.localstack import LocalLambdaContext
from callsync_dev.runner import DEMO_ORG, DEMO_SETTINGS, UsageError, read_json_file, settings_items

REPO_ROOT = Path(__file__).resolve().parents[2]
EVENT_BUS = "callsync-events"
REGION = "us-east-1"
_TABLES = {
    "settings_table": [("org_id", "HASH")],
    "ledger_table": [("call_key", "HASH"), ("sk", "RANGE")],
    "describe_cache_table": [("pk", "HASH")],
    "claims_table": [("pk", "HASH")],
}
_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true", "EVENT_BUS_NAME": EVENT_BUS,
}  # fmt: skip


def load_handler(function_dir: str) -> ModuleType:
    """``functions/<dir>/app.py`` imported under a unique module name."""
    path = REPO_ROOT / "functions" / function_dir / "app.py"
    spec = importlib.util.spec_from_file_location(f"callsync_fn_{function_dir}", path)
    if spec is None or spec.loader is None:
        raise UsageError(f"no handler at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class LocalReadSide:
    """The embedded AWS + emulator a read-side run uses."""

    emulator: Emulator
    aws: Any  # boto3 Session inside mock_aws
    config: Config
    queue_url: str
    _deps: Dependencies | None = field(default=None, repr=False)

    def dependencies(self) -> Dependencies:
        """One Dependencies per 'process' (cached describes live in it)."""
        if self._deps is None:
            self._deps = build_dependencies(self.config, boto_session=self.aws)
        return self._deps

    def invoke(self, function_dir: str, event: dict[str, Any], deps: Dependencies | None = None) -> dict[str, Any]:
        handler = load_handler(function_dir).handler
        context = LocalLambdaContext(
            function_name=f"callsync-{function_dir}",
            invoked_function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:x",
        )
        return dict(handler(event, context, deps=deps or self.dependencies()))

    def bus_events(self) -> list[dict[str, Any]]:
        """Every event the bus delivered to the capture queue so far (consumed)."""
        sqs = self.aws.client("sqs")
        out: list[dict[str, Any]] = []
        while True:
            got = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = got.get("Messages") or []
            if not messages:
                return out
            for message in messages:
                out.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def put_settings(self, item: dict[str, Any]) -> None:
        from callsync.adapters.dynamodb_items import to_item

        self.aws.resource("dynamodb").Table(self.config.settings_table).put_item(Item=to_item(item))


@contextmanager
def local_read_side(org_fixture: Any, settings: list[dict[str, Any]]) -> Iterator[LocalReadSide]:
    """Moto AWS (tables, secrets, bus → queue) and a started emulator; every org in ``settings``
    is connected to the one emulated org."""
    import boto3
    from moto import mock_aws

    with mock.patch.dict(os.environ, _AWS_ENV), mock_aws(), Emulator.from_fixture(org_fixture) as emu:
        conn = emu.connection
        config = Config(salesforce_ca_bundle=conn["ca_file"])
        aws = boto3.session.Session(region_name=REGION)
        dynamodb = aws.client("dynamodb")
        for attr, keys in _TABLES.items():
            name = getattr(config, attr)
            dynamodb.create_table(
                TableName=name, BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
                AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
            )  # fmt: skip
        secrets = aws.client("secretsmanager")
        secrets.create_secret(Name=config.app_secret_name, SecretString=json.dumps(
            {"client_id": conn["client_id"], "client_secret": conn["client_secret"]}))  # fmt: skip
        events = aws.client("events")
        events.create_event_bus(Name=EVENT_BUS)
        sqs = aws.client("sqs")
        queue_url = sqs.create_queue(QueueName="deal-closed-capture")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(
            Name="deal-closed",
            EventBusName=EVENT_BUS,
            EventPattern=json.dumps({"source": ["callsync"], "detail-type": ["deal.closed"]}),
        )
        events.put_targets(Rule="deal-closed", EventBusName=EVENT_BUS, Targets=[{"Id": "q", "Arn": queue_arn}])
        side = LocalReadSide(emulator=emu, aws=aws, config=config, queue_url=queue_url)
        for item in settings:
            side.put_settings(item)
            secrets.create_secret(Name=config.secret_prefix + item["org_id"], SecretString=json.dumps({
                "instance_url": conn["instance_url"], "access_token": conn["access_token"],
                "refresh_token": conn["refresh_token"], "issued_at": str(int(time.time() * 1000)),
            }))  # fmt: skip
        yield side


# ---- commands ------------------------------------------------------------------------------------


class _Stderr:
    """Writes to whatever ``sys.stderr`` is at the time (tests replace it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _quiet_logs(verbose: bool) -> None:
    """Function logs (Powertools JSON) go to stderr, INFO only with --verbose: stdout is the JSON answer."""
    from callsync.observability import logger

    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler.stream, _Stderr):
            handler.stream = _Stderr()


def _inputs(args: argparse.Namespace) -> tuple[Any, list[dict[str, Any]]]:
    org = read_json_file(args.org or DEMO_ORG, "org fixture")
    settings = settings_items(read_json_file(args.settings or DEMO_SETTINGS, "settings"))
    return org, settings


def _org_id(args: argparse.Namespace, settings: list[dict[str, Any]]) -> str:
    if args.org_id:
        if args.org_id not in {s["org_id"] for s in settings}:
            raise UsageError(f"--org-id {args.org_id}: not in the settings")
        return str(args.org_id)
    return str(settings[0]["org_id"])


def context_command(args: argparse.Namespace) -> int:
    """Print the deal context of ``--email`` participants (JSON)."""
    _quiet_logs(args.verbose)
    try:
        org, settings = _inputs(args)
        request: dict[str, Any] = {
            "org_id": _org_id(args, settings),
            "participants": [{"email": e} for e in args.email],
        }
        if args.at:
            request["at"] = datetime.fromisoformat(args.at.replace("Z", "+00:00")).isoformat()
        for key in ("opportunity_id", "account_id", "host_email"):
            if getattr(args, key):
                request[key] = getattr(args, key)
        with local_read_side(org, settings) as side:
            result = side.invoke("crm_context", request)
    except (UsageError, FixtureError, ValueError) as e:
        print(f"callsync context: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def closed_deals_command(args: argparse.Namespace) -> int:
    """Run one watch cycle (``--cycles`` N for more) and print the deal.closed events that reached the bus."""
    _quiet_logs(args.verbose)
    try:
        org, settings = _inputs(args)
        org_ids = [_org_id(args, settings)] if args.org_id else None
        with local_read_side(org, settings) as side:
            cycles = [side.invoke("watch_closed_deals", {"org_ids": org_ids} if org_ids else {})
                      for _ in range(args.cycles)]  # fmt: skip
            delivered = side.bus_events()
    except (UsageError, FixtureError, ValueError) as e:
        print(f"callsync closed-deals: {e}", file=sys.stderr)
        return 2
    summary = [{k: v for k, v in o.items() if k != "published"} for c in cycles for o in c["orgs"]]
    print(json.dumps({"events": delivered, "cycles": summary}, indent=2, ensure_ascii=False))
    failed = any(o["status"] == "FAILED" for c in cycles for o in c["orgs"])
    return 1 if failed else 0


def register_cli(subparsers: Any) -> None:
    """Add ``context`` and ``closed-deals`` to the ``callsync`` command."""
    context = subparsers.add_parser("context", help="print the deal context (prep sheet data) from the emulator")
    context.add_argument("--org", metavar="ORG.json", help="org fixture (default: the demo org)")
    context.add_argument("--settings", metavar="SETTINGS.json", help="settings item or list (default: demo)")
    context.add_argument("--org-id", help="which org of the settings (default: the first)")
    context.add_argument(
        "--email", action="append", required=True, metavar="EMAIL", help="a participant's email (repeat for several)"
    )
    context.add_argument("--at", metavar="DATETIME", help="RFC 3339 time of the meeting (default: now)")
    context.add_argument("--opportunity-id", dest="opportunity_id", help="use this Opportunity (skip the rules)")
    context.add_argument("--account-id", dest="account_id", help="use this Account")
    context.add_argument("--host-email", dest="host_email", help="the meeting host (internal)")
    context.add_argument("--verbose", "-v", action="store_true", help="INFO logs of the function on stderr")
    context.set_defaults(handler=context_command)
    closed = subparsers.add_parser("closed-deals", help="run one closed-deals watch cycle locally, print the events")
    closed.add_argument("--org", metavar="ORG.json", help="org fixture (default: the demo org)")
    closed.add_argument("--settings", metavar="SETTINGS.json", help="settings item or list (default: demo)")
    closed.add_argument("--org-id", help="only this org (default: every org with win_loss.enabled)")
    closed.add_argument("--cycles", type=int, default=1, help="run N cycles back to back (shows exactly-once)")
    closed.add_argument("--verbose", "-v", action="store_true", help="INFO logs of the function on stderr")
    closed.set_defaults(handler=closed_deals_command)
