"""The error a handler raises to answer with a Salesforce-shaped error body."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An API error: HTTP status, Salesforce ``errorCode``, message and the fields involved."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        fields: list[str] | None = None,
        extra: dict[str, Any] | None = None,
        *,
        record_level: bool = True,
    ) -> None:
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields or []
        self.extra = extra or {}  # more keys of the error object, e.g. DUPLICATES_DETECTED's duplicateResut
        self.record_level = record_level  # request-level errors (query, routing, session) have no "fields"

    def body(self) -> list[dict[str, Any]]:
        error: dict[str, Any] = {**self.extra, "message": self.message, "errorCode": self.error_code}
        if self.record_level:
            error["fields"] = self.fields
        return [error]

    def collection_error(self) -> dict[str, Any]:
        """The per-record shape used by sObject Collections: ``statusCode``, ``message``, ``fields`` only.

        Extra keys (a single-record DUPLICATES_DETECTED's ``duplicateResut``) are not part of it.
        """
        return {"statusCode": self.error_code, "message": self.message, "fields": self.fields}


def request_error(status: int, error_code: str, message: str) -> ApiError:
    """An error about the request itself (bad SOQL, unknown path, session): its body has no ``fields`` key."""
    return ApiError(status, error_code, message, record_level=False)


def not_found() -> ApiError:
    return request_error(404, "NOT_FOUND", "The requested resource does not exist")
