"""The daily API allocation as Salesforce counts it, and injected faults."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from callsync_dev.emulator.errors import ApiError


class ApiMeter:
    """Counts API requests (composite = 1, collections = 1, each query page = 1, OAuth = 0).

    ``used`` counts this emulator's requests; ``total`` adds ``base``, the requests the org had already
    used in its rolling 24 hours (the fixture's ``api_usage``): the allocation and ``Sforce-Limit-Info``
    go by ``total``, as Salesforce counts every client of the org.
    """

    def __init__(self, limit: int, base: int = 0) -> None:
        self.limit = limit
        self.base = base
        self.used = 0
        self.active = 0  # REST requests being answered now
        self.peak_active = 0  # the most answered at once (the per-org concurrency callsync caps)
        self._lock = threading.Lock()

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        with self._lock:
            self.active += 1
            self.peak_active = max(self.peak_active, self.active)
        try:
            yield
        finally:
            with self._lock:
                self.active -= 1

    @property
    def total(self) -> int:
        return self.base + self.used

    def charge(self) -> None:
        """Count one request, or refuse it with 403 REQUEST_LIMIT_EXCEEDED when the allocation is spent."""
        with self._lock:
            if self.total >= self.limit:
                raise ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            self.used += 1

    def header(self) -> str:
        return f"api-usage={self.total}/{self.limit}"

    def reset(self) -> None:
        with self._lock:
            self.used = 0


class RawAnswer(ApiError):
    """A fault answered with the fixture's own ``body`` (e.g. a garbled 200), not an error list."""

    def __init__(self, status: int, raw: bytes) -> None:
        super().__init__(status, "RAW_ANSWER", "a fixture-defined answer")
        self.raw = raw


@dataclass
class Fault:
    """One fixture fault: the first ``skip`` matching requests pass, the next ``times`` fail."""

    path: re.Pattern[str]
    method: str | None
    skip: int
    times: int
    status: int
    error_code: str
    message: str
    seen: int = 0
    spec: dict[str, Any] = field(default_factory=dict)
    body: bytes | None = None  # "body": answered as is (a string) or as JSON, with ``status``

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Fault:
        return cls(
            path=re.compile(str(spec.get("path", ""))),
            method=(spec.get("method") or None),
            skip=int(spec.get("skip", 0)),
            times=int(spec.get("times", 1)),
            status=int(spec.get("status", 503)),
            error_code=str(spec.get("errorCode", "SERVER_UNAVAILABLE")),
            message=str(spec.get("message", "Server unavailable")),
            spec=dict(spec),
            body=None if "body" not in spec else _raw(spec["body"]),
        )


class FaultInjector:
    def __init__(self, specs: list[dict[str, Any]]) -> None:
        self.faults = [Fault.from_spec(s) for s in specs]
        self._lock = threading.Lock()

    def add(self, spec: dict[str, Any]) -> None:
        with self._lock:
            self.faults.append(Fault.from_spec(spec))

    def check(self, method: str, path: str) -> ApiError | None:
        """The error to answer with for this request, if a fault fires."""
        with self._lock:
            for fault in self.faults:
                if fault.method and fault.method.upper() != method.upper():
                    continue
                if not fault.path.search(path):
                    continue
                fault.seen += 1
                if fault.skip < fault.seen <= fault.skip + fault.times:
                    if fault.body is not None:
                        return RawAnswer(fault.status, fault.body)
                    return ApiError(fault.status, fault.error_code, fault.message)
            return None


def _raw(body: Any) -> bytes:
    return body.encode() if isinstance(body, str) else json.dumps(body).encode()
