"""Strong validation on sObject Rows: ``ETag``, ``If-Match`` and ``If-None-Match`` (Account records only).

As the REST API's "Conditional Request Headers" page describes: reading or updating an Account record answers
with an ``ETag`` (a hash of the record); ``If-None-Match`` naming the current tag turns a GET into 304 Not
Modified (no body) and refuses a PATCH with 412; ``If-Match`` naming other tags only refuses the request with
412 Precondition Failed. On other objects the headers have no effect and no tag is sent.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from callsync_dev.emulator.errors import ApiError, request_error

ETAG_OBJECTS = frozenset({"Account"})


def entity_tag(record: Mapping[str, Any]) -> str:
    """The record's tag, shaped like Salesforce's (``"<base64 hash>--gzip"``)."""
    canonical = json.dumps({k: v for k, v in record.items() if k != "attributes"}, sort_keys=True, default=str)
    digest = base64.b64encode(hashlib.sha256(canonical.encode()).digest()).decode()
    return f'"{digest}--gzip"'


def _listed(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def _names(header: str | None, tag: str) -> bool:
    return header is not None and any(t in ("*", tag) for t in _listed(header))


def precondition_failed(object_name: str) -> ApiError:
    return request_error(412, "PRECONDITION_FAILED", f"The {object_name} record does not match the precondition")


def check(method: str, object_name: str, headers: Mapping[str, str], tag: str) -> bool:
    """Whether a GET may answer 304; raises 412 when a precondition fails. ``headers`` are lower-case."""
    if_match, if_none_match = headers.get("if-match"), headers.get("if-none-match")
    if if_match is not None and not _names(if_match, tag):
        raise precondition_failed(object_name)
    if _names(if_none_match, tag):
        if method == "GET":
            return True
        raise precondition_failed(object_name)
    return False
