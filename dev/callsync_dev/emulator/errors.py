"""The error a handler raises to answer with a Salesforce-shaped error body."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An API error: HTTP status, Salesforce ``errorCode``, message and the fields involved."""

    def __init__(self, status: int, error_code: str, message: str, fields: list[str] | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields or []
        self.extra = extra or {}  # more keys of the error object, e.g. DUPLICATES_DETECTED's duplicateResut

    def body(self) -> list[dict[str, Any]]:
        return [{**self.extra, "message": self.message, "errorCode": self.error_code, "fields": self.fields}]

    def collection_error(self) -> dict[str, Any]:
        """The per-record shape used by sObject Collections (``statusCode``, not ``errorCode``)."""
        return {**self.extra, "statusCode": self.error_code, "message": self.message, "fields": self.fields}


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")
