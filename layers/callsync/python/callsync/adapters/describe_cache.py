"""``ports.DescribeSource``: describes cached in memory and in DynamoDB, revalidated with If-Modified-Since.

Describe cache table, partition key ``pk`` = ``"{org_id}#{ObjectName}"`` (``"{org_id}#__global__"``
for the global describe). Item::

    {"pk", "org_id", "object", "visible": bool,
     "describe": <zlib-compressed ObjectDescribe JSON (Binary); OrgMetadata JSON for __global__>,
     "fetched_at": RFC 1123 date (If-Modified-Since), "fresh_until": epoch s,
     "expires_at": epoch s (table TTL)}

- Fresh (``fresh_until`` in the future): no request.
- Missing: ONE composite request with a ``GET sobjects/{name}/describe`` subrequest
  per missing object (≤25 per composite; more objects → more composites).
  404/403 → ``None`` (not visible to the integration user), cached for at most
  ``NEGATIVE_TTL_SECONDS``.
- Stale: revalidated in that same composite with ``httpHeaders: {"If-Modified-Since":
  fetched_at}``; 304 → only ``fresh_until``/``expires_at`` move.
- Global describe riding along: whenever a composite goes out anyway and the global
  describe (``GET sobjects``) is missing or stale, it is fetched (or revalidated) in that
  same composite, if there is room, so a later ``org_metadata()`` costs no request. A
  failed ride-along answer is not an error of the describes asked for: it is not cached.
- ``fresh_until`` = now + ``describe_ttl_seconds``; ``expires_at`` (DynamoDB TTL) =
  now + ``KEEP_FACTOR`` times that, so a stale item usually survives to be
  revalidated with a 304 instead of being downloaded again.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from callsync.adapters.dynamodb_items import from_item
from callsync.adapters.salesforce_answers import reads_answers
from callsync.adapters.salesforce_errors import raise_for_subresponse
from callsync.models.describe import ObjectDescribe, OrgMetadata
from callsync.ports import SalesforceApi

GLOBAL = "__global__"
NEGATIVE_TTL_SECONDS = 900
KEEP_FACTOR = 8
MAX_SUBREQUESTS = 25


@dataclass
class _Entry:
    value: ObjectDescribe | OrgMetadata | None
    fetched_at: str | None
    fresh_until: float


@dataclass
class DescribeMemory:
    """Per-process cache in front of DynamoDB, shared by every invocation of a container."""

    entries: dict[str, _Entry] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fresh(self, pk: str, now: float) -> _Entry | None:
        with self.lock:
            entry = self.entries.get(pk)
        return entry if entry is not None and entry.fresh_until > now else None

    def store(self, pk: str, entry: _Entry) -> None:
        with self.lock:
            self.entries[pk] = entry


def http_date(epoch: float) -> str:
    return format_datetime(datetime.fromtimestamp(epoch, UTC), usegmt=True)


class CachedDescribeSource:
    """Describes of one org through ``api`` (see module doc)."""

    def __init__(
        self,
        org_id: str,
        api: SalesforceApi,
        table: Any,
        *,
        ttl_seconds: int,
        memory: DescribeMemory | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._org_id = org_id
        self._api = api
        self._table = table
        self._ttl = ttl_seconds
        self._memory = memory or DescribeMemory()
        self._clock = clock

    def _pk(self, name: str) -> str:
        return f"{self._org_id}#{name}"

    def describe(self, object_names: Iterable[str]) -> dict[str, ObjectDescribe | None]:
        """Describes by object name; None for an object the integration user cannot see."""
        names = list(dict.fromkeys(object_names))
        found = self._lookup(names)
        return {n: found[n].value for n in names}  # type: ignore[misc]

    def org_metadata(self) -> OrgMetadata:
        """Object names of the global describe (Shared Activities), cached like describes."""
        value = self._lookup([GLOBAL])[GLOBAL].value
        assert isinstance(value, OrgMetadata)
        return value

    # -- lookup: memory → DynamoDB → one composite ----------------------------------------------

    def _lookup(self, names: list[str]) -> dict[str, _Entry]:
        now = self._clock()
        found: dict[str, _Entry] = {}
        stale: dict[str, _Entry | None] = {}
        for name in names:
            entry = self._memory.fresh(self._pk(name), now)
            if entry is not None:
                found[name] = entry
                continue
            stored = self._read(name)
            if stored is not None and stored.fresh_until > now:
                self._memory.store(self._pk(name), stored)
                found[name] = stored
            else:
                stale[name] = stored
        todo = list(stale)
        optional: set[str] = set()
        if todo and GLOBAL not in todo and len(todo) % MAX_SUBREQUESTS:  # room in the last composite
            needed, stored = self._global_needed(now)
            if needed:
                stale[GLOBAL], optional = stored, {GLOBAL}
                todo.append(GLOBAL)
        for start in range(0, len(todo), MAX_SUBREQUESTS):
            found.update(self._fetch({n: stale[n] for n in todo[start : start + MAX_SUBREQUESTS]}, optional))
        return {n: found[n] for n in names}

    def _global_needed(self, now: float) -> tuple[bool, _Entry | None]:
        """Whether the global describe is missing or stale (memory, then DynamoDB), and its stored entry."""
        if self._memory.fresh(self._pk(GLOBAL), now) is not None:
            return False, None
        stored = self._read(GLOBAL)
        if stored is not None and stored.fresh_until > now:
            self._memory.store(self._pk(GLOBAL), stored)
            return False, stored
        return True, stored

    @reads_answers("the describes")
    def _fetch(self, wanted: dict[str, _Entry | None], optional: Collection[str] = ()) -> dict[str, _Entry]:
        """One composite for ``wanted``; an error answer for a name in ``optional`` is skipped, not raised."""
        subrequests = []
        for i, (name, cached) in enumerate(wanted.items()):
            sub: dict[str, Any] = {
                "method": "GET",
                "url": "sobjects" if name == GLOBAL else f"sobjects/{name}/describe",
                "referenceId": f"describe{i}",
            }
            if cached is not None and cached.fetched_at and cached.value is not None:
                sub["httpHeaders"] = {"If-Modified-Since": cached.fetched_at}
            subrequests.append(sub)
        answers = {a.get("referenceId"): a for a in self._api.composite(subrequests)}
        now = self._clock()
        result: dict[str, _Entry] = {}
        for i, (name, cached) in enumerate(wanted.items()):
            answer = answers.get(f"describe{i}") or {"httpStatusCode": 0, "referenceId": f"describe{i}"}
            status = int(answer.get("httpStatusCode") or 0)
            if name in optional and not (200 <= status < 300 or (status == 304 and cached is not None)):
                continue
            if status == 304 and cached is not None:
                entry = _Entry(cached.value, cached.fetched_at, now + self._ttl)
                self._touch(name, entry, now)
            elif status in (403, 404) and name != GLOBAL:
                entry = _Entry(None, None, now + min(self._ttl, NEGATIVE_TTL_SECONDS))
                self._write(name, entry, now)
            else:
                raise_for_subresponse(answer, method="GET")
                body = answer.get("body") or {}
                fetched_at = _last_modified(answer) or http_date(now)
                value: ObjectDescribe | OrgMetadata = (
                    OrgMetadata(objects=[str(o["name"]) for o in body.get("sobjects", [])])
                    if name == GLOBAL
                    else ObjectDescribe.from_salesforce(body, fetched_at=fetched_at)
                )
                entry = _Entry(value, fetched_at, now + self._ttl)
                self._write(name, entry, now)
            self._memory.store(self._pk(name), entry)
            result[name] = entry
        return result

    # -- DynamoDB ------------------------------------------------------------------------------

    def _read(self, name: str) -> _Entry | None:
        item = self._table.get_item(Key={"pk": self._pk(name)}).get("Item")
        if item is None:
            return None
        item = from_item(item)
        value: ObjectDescribe | OrgMetadata | None = None
        if item.get("visible"):
            raw = json.loads(zlib.decompress(bytes(item["describe"])))
            value = OrgMetadata.model_validate(raw) if name == GLOBAL else ObjectDescribe.model_validate(raw)
        return _Entry(value, item.get("fetched_at"), float(item.get("fresh_until", 0)))

    def _write(self, name: str, entry: _Entry, now: float) -> None:
        item: dict[str, Any] = {
            "pk": self._pk(name),
            "org_id": self._org_id,
            "object": name,
            "visible": entry.value is not None,
            "fresh_until": int(entry.fresh_until),
            "expires_at": int(now + KEEP_FACTOR * self._ttl),
        }
        if entry.fetched_at:
            item["fetched_at"] = entry.fetched_at
        if entry.value is not None:
            item["describe"] = zlib.compress(entry.value.model_dump_json().encode())
        self._table.put_item(Item=item)

    def _touch(self, name: str, entry: _Entry, now: float) -> None:
        self._table.update_item(
            Key={"pk": self._pk(name)},
            UpdateExpression="SET fresh_until = :f, expires_at = :e",
            ExpressionAttributeValues={":f": int(entry.fresh_until), ":e": int(now + KEEP_FACTOR * self._ttl)},
        )


def _last_modified(answer: dict[str, Any]) -> str | None:
    headers = answer.get("httpHeaders") or {}
    for key, value in headers.items():
        if key.lower() == "last-modified" and value:
            return str(value)
    return None
