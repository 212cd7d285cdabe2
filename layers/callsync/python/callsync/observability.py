"""One Logger, Tracer and Metrics for every callsync function (Powertools).

Service name and metric namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE (template.yaml Globals). Log lines carry org,
call and execution ids through ``logger.append_keys``; never a token or a secret.

Metrics: ``metrics`` carries the ``service`` dimension only (what the alarms watch);
``add_org_metric`` emits a metric a second time with ``service`` and ``org_id`` (its own
EMF document), so failures and API requests can be read per org without splitting the
alarmed aggregate.

Tracing: when it is off (``POWERTOOLS_TRACE_DISABLED``, or outside Lambda, under SAM
local or Chalice local — Powertools' own rules) the Tracer gets a no-op provider, so
``aws_xray_sdk.core`` (about 100 ms of import) is never loaded; when it is on, the
Tracer is Powertools' default (X-Ray recorder, auto-patching at import).
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Generator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

_TRUTHY = ("1", "y", "yes", "t", "true", "on")


def tracing_disabled(env: dict[str, str] | None = None) -> bool:
    """Whether Powertools would disable tracing in this environment (the same rules as ``Tracer``)."""
    env = dict(os.environ if env is None else env)
    if env.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in _TRUTHY:
        return True
    in_lambda = bool(env.get("LAMBDA_TASK_ROOT"))
    return not in_lambda or bool(env.get("AWS_SAM_LOCAL")) or bool(env.get("AWS_CHALICE_CLI_MODE"))


class _NoOpSegment(BaseSegment):
    """A segment that records nothing (tracing is off)."""

    def close(self, end_time: int | None = None) -> None:
        return None

    def add_subsegment(self, subsegment: Any) -> None:
        return None

    def remove_subsegment(self, subsegment: Any) -> None:
        return None

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        return None


class NoOpTracingProvider(BaseProvider):
    """Tracing provider for when tracing is off: every subsegment is a no-op, nothing is imported."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _NoOpSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncGenerator[BaseSegment, None]:
        yield _NoOpSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def patch(self, modules: Sequence[str]) -> None:
        return None

    def patch_all(self) -> None:
        return None


def make_tracer(service: str = "callsync", env: dict[str, str] | None = None) -> Tracer:
    """Powertools' Tracer; without X-Ray (and without importing it) when tracing is off."""
    if tracing_disabled(env):
        return Tracer(service=service, disabled=True, provider=NoOpTracingProvider())
    return Tracer(service=service)


logger = Logger(service="callsync")
tracer = make_tracer()
metrics = Metrics(namespace="Callsync", service="callsync")


def add_org_metric(name: str, value: float, org_id: str, unit: MetricUnit = MetricUnit.Count) -> None:
    """Emit ``name`` with the dimensions ``service`` and ``org_id`` (one EMF document, flushed now).

    Off under the same rule as ``metrics`` (POWERTOOLS_METRICS_DISABLED), which ``single_metric`` ignores.
    """
    if is_metrics_disabled():
        return
    with single_metric(name=name, unit=unit, value=value, namespace=metrics.namespace,
                       default_dimensions={"service": metrics.service or "callsync"}) as metric:  # fmt: skip
        metric.add_dimension(name="org_id", value=org_id)
