"""What the emulated REST API takes and gives: requests, responses, a data endpoint's result.

Shared by ``app`` (routing), ``composite`` and ``collections`` without them importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from callsync_dev.emulator.errors import ApiError, request_error

MAX_URI_BYTES = 16_384  # Salesforce refuses longer request URIs (long SOQL IN lists must be chunked)


@dataclass
class Request:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    target_length: int = 0  # bytes of the request target (path and query string) as sent

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    """A data endpoint's answer before serialization (also a composite subresponse)."""

    status: int
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class Dispatch(Protocol):
    """Answers one data request (path relative to ``/services/data/vXX.X/``); raises ApiError."""

    def __call__(
        self, method: str, rest: str, version: str, query: dict[str, list[str]], headers: dict[str, str], body: Any
    ) -> Result: ...


def uri_too_long() -> ApiError:
    return request_error(
        414,
        "URI_TOO_LONG",
        f"The request URI is too long (more than {MAX_URI_BYTES:,} bytes); split long IN lists into several queries",
    )


def allows_duplicates(headers: dict[str, str]) -> bool:
    """``Sforce-Duplicate-Rule-Header: allowSave=true`` (lets an alert-only duplicate rule save)."""
    header = headers.get("sforce-duplicate-rule-header") or ""
    options = dict(part.strip().partition("=")[::2] for part in header.split(";") if "=" in part)
    return {k.strip().lower(): v.strip().lower() for k, v in options.items()}.get("allowsave") == "true"
