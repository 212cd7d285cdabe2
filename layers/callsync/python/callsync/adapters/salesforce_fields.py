"""``FieldStore`` over ``ports.SalesforceApi``: SyncFields' reads and writes, one composite each.

- ``read``: one composite of queries (≤5 per composite, as Salesforce allows):
  ``SELECT Id, <fields> FROM X WHERE Id = '<id>'`` for a matched record, and
  ``SELECT Id, <fields> FROM X WHERE <via> = '<parent>' ORDER BY LastModifiedDate
  DESC LIMIT 1`` for a via-object. A read that asks for it also selects ``LastModifiedById,
  LastModifiedDate, LastModifiedBy.Name`` (who last changed the record, in the same query).
- ``write``: one composite (``allOrNone: false``, ≤25 subrequests) of
  ``PATCH sobjects/X/<id>`` updates and ``POST sobjects/X/`` creates; each
  sub-response becomes a ``WriteOutcome`` (errors through ``salesforce_errors``).

Identifiers (object and field names) come from describe and are checked to be
plain API names; every value goes through ``format_soql``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from simple_salesforce.format import format_soql

from callsync.adapters.salesforce_answers import reads_answers
from callsync.adapters.salesforce_api import all_records, query_subrequest
from callsync.adapters.salesforce_errors import raise_for_subresponse
from callsync.errors import CallsyncError, SalesforceUnavailable
from callsync.models.describe import is_api_name
from callsync.models.fields import LastModified, ReadOutcome, RecordRead, RecordWrite, WriteOutcome
from callsync.ports import SalesforceApi

MAX_QUERIES_PER_COMPOSITE = 5
MAX_SUBREQUESTS = 25
LAST_MODIFIED = ("LastModifiedById", "LastModifiedDate", "LastModifiedBy.Name")


class SalesforceFieldStore:
    """SyncFields' ``FieldStore`` (see ``callsync.services.sync_fields``)."""

    def __init__(self, api: SalesforceApi) -> None:
        self._api = api

    @property
    def integration_user_id(self) -> str | None:
        """The User callsync writes as: the API client's (``SimpleSalesforceApi.integration_user_id``, read from
        the org's secret); None when the client does not know it."""
        user = getattr(self._api, "integration_user_id", None)
        return str(user) if user else None

    @property
    def instance_url(self) -> str:
        return self._api.instance_url

    @property
    def api_requests(self) -> int:
        return self._api.api_requests

    @reads_answers("the field reads")
    def read(self, reads: Sequence[RecordRead]) -> dict[str, ReadOutcome]:
        outcomes: dict[str, ReadOutcome] = {}
        for start in range(0, len(reads), MAX_QUERIES_PER_COMPOSITE):
            chunk = list(reads[start : start + MAX_QUERIES_PER_COMPOSITE])
            subrequests = [query_subrequest(f"r{i}", read_soql(read)) for i, read in enumerate(chunk)]
            answers = {str(s.get("referenceId")): s for s in self._api.composite(subrequests)}
            for i, read in enumerate(chunk):
                outcomes[read.key] = _read_outcome(self._api, answers.get(f"r{i}"), read)
        return outcomes

    @reads_answers("the field writes")
    def write(self, writes: Sequence[RecordWrite]) -> dict[str, WriteOutcome]:
        outcomes: dict[str, WriteOutcome] = {}
        for start in range(0, len(writes), MAX_SUBREQUESTS):
            chunk = list(writes[start : start + MAX_SUBREQUESTS])
            subrequests = [_write_subrequest(w, f"w{i}") for i, w in enumerate(chunk)]
            answers = {str(s.get("referenceId")): s for s in self._api.composite(subrequests, all_or_none=False)}
            for i, write in enumerate(chunk):
                outcomes[write.key] = _write_outcome(write, answers.get(f"w{i}"), subrequests[i]["method"])
        return outcomes


def api_name(name: str) -> str:
    """``name`` if it is a plain API name (letters, digits, underscores); else ValueError."""
    if not is_api_name(name):
        raise ValueError(f"not a Salesforce API name: {name!r}")
    return name


def read_soql(read: RecordRead) -> str:
    """The query for one ``RecordRead`` (values escaped with ``format_soql``)."""
    names = ["Id", *dict.fromkeys(api_name(f) for f in read.fields if f.lower() != "id")]
    if read.last_modified:
        names += [f for f in LAST_MODIFIED if f.lower() not in {n.lower() for n in names}]
    head = f"SELECT {', '.join(names)} FROM {api_name(read.object)}"  # noqa: S608 - API names checked
    if read.record_id is not None:
        return head + format_soql(" WHERE Id = {}", read.record_id)
    if read.via is None or read.parent_id is None:
        raise ValueError(f"read {read.key} needs a record_id or via and parent_id")
    return head + format_soql(
        f" WHERE {api_name(read.via)} = {{}} ORDER BY LastModifiedDate DESC LIMIT 1", read.parent_id
    )


def _write_subrequest(write: RecordWrite, reference: str) -> dict[str, Any]:
    obj = api_name(write.object)
    if write.record_id is None:
        return {"method": "POST", "url": f"sobjects/{obj}/", "referenceId": reference, "body": write.values}
    return {
        "method": "PATCH",
        "url": f"sobjects/{obj}/{quote(write.record_id, safe='')}",
        "referenceId": reference,
        "body": write.values,
    }


def _failed(sub: dict[str, Any] | None, method: str) -> CallsyncError | None:
    if sub is None:
        return SalesforceUnavailable("Salesforce answered no sub-response for a subrequest")
    try:
        raise_for_subresponse(sub, method=method)
    except CallsyncError as e:
        return e
    return None


def _read_outcome(api: SalesforceApi, sub: dict[str, Any] | None, read: RecordRead) -> ReadOutcome:
    error = _failed(sub, "GET")
    if error is not None or sub is None:
        return ReadOutcome(error=error)
    records = all_records(api, sub.get("body") or {})
    if not records:
        return ReadOutcome(record=None)
    row = records[0]
    if not read.last_modified:
        return ReadOutcome(record={k: v for k, v in row.items() if k != "attributes"})
    wanted = {"id", *(f.lower() for f in read.fields)}
    by = row.get("LastModifiedBy")
    modified = LastModified(
        by_id=_text(row.get("LastModifiedById")),
        by_name=_text(by.get("Name")) if isinstance(by, dict) else None,
        at=_datetime(row.get("LastModifiedDate")),
    )
    return ReadOutcome(record={k: v for k, v in row.items() if k.lower() in wanted}, last_modified=modified)


def _text(value: Any) -> str | None:
    return str(value) if value else None


def _datetime(value: Any) -> datetime | None:
    """Salesforce's ``2026-06-05T09:30:00.000+0000`` (or ``Z``) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _write_outcome(write: RecordWrite, sub: dict[str, Any] | None, method: str) -> WriteOutcome:
    error = _failed(sub, method)
    if error is not None or sub is None:
        return WriteOutcome(error=error)
    body = sub.get("body") or {}
    created = body.get("id") if isinstance(body, dict) else None
    return WriteOutcome(record_id=str(created) if created else write.record_id)
