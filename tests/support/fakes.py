"""In-memory ``Fake*`` doubles for the ports (``callsync.ports``), for unit tests.

They behave like the real adapters where callers can tell the difference:
the same errors (``SettingsNotFound``, ``InvalidSettings``, ``OrgDisconnected``,
``ConcurrentUpdate``), the same ledger entry shape as ``DynamoDbLedger.entries``,
first-writer-wins claims, ``None`` for an object the integration user cannot see.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

from callsync.adapters.dynamodb_settings import invalid_settings_error
from callsync.domain.account_links import same_id
from callsync.domain.api_budget import HELD_AGAIN_STEP
from callsync.errors import ConcurrentUpdate, OrgBusy, OrgDisconnected, SalesforceUnavailable, SettingsNotFound
from callsync.models.api_budget import ApiUsage, Reservation, UsageState
from callsync.models.backfill import AccountLink, BackfillCheckpoint
from callsync.models.describe import ObjectDescribe, OrgMetadata
from callsync.models.event import call_key, split_call_key
from callsync.models.lease import ClaimTaken, LeaseGrant
from callsync.models.ledger import CallHistory, DeliveryReport, LedgerEntry, Outcome, StepReport
from callsync.models.settings import OrgSettings
from pydantic import ValidationError

__all__ = [
    "FakeAccountLinkStore",
    "FakeApiUsageStore",
    "FakeBackfillCheckpoints",
    "FakeClaims",
    "FakeDeferredCalls",
    "FakeDescribeSource",
    "FakeLeases",
    "FakeLedger",
    "FakeOrgSlots",
    "FakeRecordReverter",
    "FakeSettingsStore",
    "FakeTokenStore",
    "invalid_settings_error",
]


class FakeSettingsStore:
    """Settings by org id. ``put_raw`` stores an unvalidated item, as a hand-edited table would."""

    def __init__(self, settings: Iterable[OrgSettings] = ()) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        for item in settings:
            self.put(item)

    def get(self, org_id: str) -> OrgSettings:
        raw = self.items.get(org_id)
        if raw is None:
            raise SettingsNotFound(f"no settings for org {org_id}")
        try:
            return OrgSettings.model_validate(raw)
        except ValidationError as e:
            raise invalid_settings_error(org_id, e) from e

    def put(self, settings: OrgSettings) -> None:
        self.items[settings.org_id] = settings.model_dump(mode="json")

    def put_raw(self, org_id: str, item: dict[str, Any]) -> None:
        self.items[org_id] = {**deepcopy(item), "org_id": org_id}


class FakeLedger:
    """Typed entries in memory, in the table's order; a retried step overwrites its own entry, like the table."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, int, str], LedgerEntry] = {}

    def _put(self, call_key: str, sort: str, **body: Any) -> None:
        partition, revision = split_call_key(call_key)
        recorded_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.items[(partition, revision, sort)] = LedgerEntry(
            call_key=call_key, revision=revision or None, recorded_at=recorded_at, **body
        )

    def record_step(self, call_key: str, report: StepReport) -> None:
        body = "delivery" if isinstance(report, DeliveryReport) else "report"
        self._put(call_key, f"step#{report.step}", **{body: report.model_copy(deep=True)})

    def record_outcome(self, call_key: str, outcome: Outcome) -> None:
        self._put(call_key, "outcome", outcome=outcome.model_copy(deep=True))

    def entries(self, call_key: str) -> list[LedgerEntry]:
        """Entries of one revision of a call, in the table's order: the outcome, then steps by name."""
        wanted = split_call_key(call_key)
        return [v.model_copy(deep=True) for (p, r, _), v in sorted(self.items.items()) if (p, r) == wanted]

    def history(self, org_id: str, call_id: str) -> CallHistory:
        partition, _ = split_call_key(call_key(org_id, call_id, 1))
        return CallHistory(
            entries=[v.model_copy(deep=True) for (p, _, _), v in sorted(self.items.items()) if p == partition]
        )

    def all_entries(self) -> list[LedgerEntry]:
        return [v.model_copy(deep=True) for _, v in sorted(self.items.items())]


class FakeTokenStore:
    """Tokens by org id with a version per write, like the Secrets Manager store.

    ``get`` returns the stored dict plus ``"_version"`` (not stored); ``put`` with
    ``expected_version`` raises ``ConcurrentUpdate`` if someone wrote since.
    """

    def __init__(self, tokens: Mapping[str, dict[str, Any]] | None = None) -> None:
        self.secrets: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, str] = {}
        self.writes = 0
        for org_id, value in (tokens or {}).items():
            self.put(org_id, value)

    def get(self, org_id: str) -> dict[str, Any]:
        value = self.secrets.get(org_id)
        if value is None:
            raise OrgDisconnected(
                f"org {org_id} is not connected: connect it with `callsync connect --org-id {org_id}`"
            )
        if value.get("disconnected"):
            reason = value["disconnected"].get("reason", "disconnected")
            raise OrgDisconnected(
                f"org {org_id} is disconnected ({reason}): reconnect with `callsync connect --org-id {org_id}`"
            )
        return {**deepcopy(value), "_version": self.versions[org_id]}

    def get_fresh(self, org_id: str) -> dict[str, Any]:
        """Same as ``get`` (no cache here); the refresher calls it."""
        return self.get(org_id)

    def put(self, org_id: str, tokens: dict[str, Any], *, expected_version: str | None = None) -> None:
        if expected_version is not None and self.versions.get(org_id) != expected_version:
            raise ConcurrentUpdate(f"tokens of org {org_id} changed since version {expected_version}")
        self.writes += 1
        self.secrets[org_id] = {k: deepcopy(v) for k, v in tokens.items() if not k.startswith("_")}
        self.versions[org_id] = f"v{self.writes}"


class FakeClaims:
    """First-writer-wins claims with expiry; ``clock`` lets tests move time."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.items: dict[str, dict[str, Any]] = {}

    def claim(self, key: str, owner: str, *, ttl_seconds: int = 3600) -> str:
        held = self.items.get(key)
        if held is not None and held["expires_at"] >= self.clock():
            return str(held["owner"])
        self.items[key] = {"pk": key, "owner": owner, "expires_at": int(self.clock()) + ttl_seconds}
        return owner

    def take(self, key: str, owner: str, *, ttl_seconds: int) -> ClaimTaken:
        held = self.items.get(key)
        if held is not None and held["owner"] != owner and held["expires_at"] >= self.clock():
            return ClaimTaken(holder=str(held["owner"]), value=held.get("value"), resolved_at=held.get("resolved_at"))
        self.items[key] = {"pk": key, "owner": owner, "expires_at": int(self.clock()) + ttl_seconds}
        return ClaimTaken(
            holder=owner,
            previous_owner=None if held is None else held["owner"],
            previous_value=None if held is None else held.get("value"),
        )

    def resolve(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        held = self.items.get(key)
        if held is None:
            raise ConcurrentUpdate(f"claim {key} is not held")
        held["value"] = value
        held["resolved_at"] = int(self.clock())
        if ttl_seconds is not None:
            held["expires_at"] = int(self.clock()) + ttl_seconds

    def forget(self, key: str, value: str) -> None:
        held = self.items.get(key)
        if held is not None and held.get("value") == value:
            del self.items[key]

    def get(self, key: str) -> dict[str, Any] | None:
        held = self.items.get(key)
        if held is None or held["expires_at"] < self.clock():
            return None
        return deepcopy(held)

    def release(self, key: str, owner: str) -> None:
        held = self.items.get(key)
        if held is not None and held["owner"] == owner:
            del self.items[key]


class FakeLeases:
    """``ports.Leases`` in memory, with the DynamoDB adapter's semantics; ``clock`` lets tests move time."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.items: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str, owner: str, *, ttl_seconds: float) -> LeaseGrant | None:
        with self._lock:
            now = self.clock()
            item = self.items.get(key, {})
            holder = item.get("owner")
            if holder is not None and holder != owner and item["expires_at"] >= now:
                return None
            self.items[key] = {**item, "owner": owner, "expires_at": now + ttl_seconds}
            return LeaseGrant(key=key, last_written_at=item.get("written_at"), taken_over=holder is not None)

    def release(self, key: str, owner: str, *, written: bool) -> None:
        with self._lock:
            item = self.items.setdefault(key, {"expires_at": 0.0})
            if written:
                item["written_at"] = self.clock()
            if item.get("owner") == owner:
                del item["owner"]


class FakeDescribeSource:
    """Describes from a dict; a name that is absent is an object the user cannot see (``None``).

    Values may be ``ObjectDescribe`` or raw Salesforce describe JSON. ``calls``
    records each requested batch of names.
    """

    def __init__(
        self,
        describes: Mapping[str, ObjectDescribe | dict[str, Any]],
        *,
        objects: Iterable[str] | None = None,
        shared_activities: bool = True,
    ) -> None:
        self.describes: dict[str, ObjectDescribe] = {
            name: d if isinstance(d, ObjectDescribe) else ObjectDescribe.from_salesforce(d)
            for name, d in describes.items()
        }
        names = list(objects) if objects is not None else list(self.describes)
        if shared_activities and "TaskRelation" not in names:
            names.append("TaskRelation")
        if not shared_activities:
            names = [n for n in names if n not in {"TaskRelation", "TaskWhoRelation", "EventWhoRelation"}]
        self.metadata = OrgMetadata(objects=names)
        self.calls: list[list[str]] = []

    def describe(self, object_names: Iterable[str]) -> dict[str, ObjectDescribe | None]:
        names = list(dict.fromkeys(object_names))
        self.calls.append(names)
        return {name: self.describes.get(name) for name in names}

    def org_metadata(self) -> OrgMetadata:
        return self.metadata


class FakeAccountLinkStore:
    """Accounts in memory with their Website and link field; counts requests and usage as Salesforce does.

    ``find`` is one request and ``fill`` one per 200 Accounts; ``used``/``allocation`` stand for the org's
    daily API usage (every request adds one). ``refuse`` maps an Account id to the error its write gets;
    ``fail_fill_after`` makes the fill requests after that many answer 503 (``SalesforceUnavailable``).
    """

    def __init__(self, accounts: Iterable[AccountLink], *, used: int = 0, allocation: int = 15000) -> None:
        self.accounts = {a.id: a for a in accounts}
        self.used, self.allocation = used, allocation
        self.requests = 0
        self.answered = False
        self.refuse: dict[str, str] = {}
        self.fail_fill_after: int | None = None
        self.fills: list[dict[str, str]] = []

    def _charge(self) -> None:
        self.requests += 1
        self.used += 1
        self.answered = True

    def find(self, field: str, account_ids: Sequence[str], domains: Sequence[str]) -> list[AccountLink]:
        self._charge()
        return [
            a
            for a in self.accounts.values()
            if any(same_id(a.id, i) for i in account_ids) or any(d in (a.website or "").lower() for d in domains)
        ]

    def fill(self, field: str, updates: Mapping[str, str]) -> dict[str, str | None]:
        if self.fail_fill_after is not None and len(self.fills) >= self.fail_fill_after:
            raise SalesforceUnavailable("update of Account records: SERVER_UNAVAILABLE: try later")
        for _ in range(0, len(updates), 200):
            self._charge()
        self.fills.append(dict(updates))
        result: dict[str, str | None] = {}
        for account_id, url in updates.items():
            if account_id in self.refuse:
                result[account_id] = self.refuse[account_id]
                continue
            self.accounts[account_id] = self.accounts[account_id].model_copy(update={"link": url})
            result[account_id] = None
        return result

    @property
    def api_requests(self) -> int:
        return self.requests

    @property
    def api_usage(self) -> tuple[int, int] | None:
        return (self.used, self.allocation) if self.answered else None


class FakeBackfillCheckpoints:
    """Checkpoints by (org, file hash); like the DynamoDB adapter, a save never moves ``next_line`` back."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], BackfillCheckpoint] = {}

    def get(self, org_id: str, file_hash: str) -> BackfillCheckpoint | None:
        return self.items.get((org_id, file_hash))

    def save(self, checkpoint: BackfillCheckpoint) -> None:
        key = (checkpoint.org_id, checkpoint.file_hash)
        held = self.items.get(key)
        if held is None or held.next_line <= checkpoint.next_line:
            self.items[key] = checkpoint

    def clear(self, org_id: str, file_hash: str) -> None:
        self.items.pop((org_id, file_hash), None)


class FakeRecordReverter:
    """``ports.revert.RecordReverter`` over records in memory (by id); ``on_read`` runs at the read (tests look
    at the leases held then); a deleted or unknown record reads as None, like a 404."""

    def __init__(self, records: Mapping[str, dict[str, Any]], on_read: Callable[[], None] = lambda: None) -> None:
        self.records = {k: dict(v) for k, v in records.items()}
        self.on_read = on_read
        self.writes: list[tuple[list[dict[str, Any]], list[str]]] = []

    def read(self, records: Any, people: Any, relation_objects: Any) -> Any:
        from callsync.domain.revert_plan import CurrentState

        self.on_read()
        return CurrentState(records={r.id: deepcopy(self.records.get(r.id)) for r in records})

    def write(self, updates: Any, deletes: Any, creates: Any = ()) -> Any:
        from callsync.ports.revert import WriteOutcome

        self.writes.append((list(updates), list(deletes)))
        for update in updates:
            self.records[update["Id"]].update({k: v for k, v in update.items() if k not in ("attributes", "Id")})
        for record_id in deletes:
            self.records.pop(record_id, None)
        return WriteOutcome(created=[None] * len(creates))


class FakeApiUsageStore:
    """``ports.ApiUsageStore``: the latest reading per org; an older one never replaces a newer one."""

    def __init__(self, readings: Mapping[str, ApiUsage] | None = None) -> None:
        self.readings: dict[str, ApiUsage] = dict(readings or {})
        self.pending: dict[str, dict[str, Reservation]] = {}
        self.versions: dict[str, int] = {}

    def get(self, org_id: str) -> ApiUsage | None:
        return self.readings.get(org_id)

    def record(self, org_id: str, usage: ApiUsage) -> None:
        held = self.readings.get(org_id)
        if held is None or held.read_at <= usage.read_at:
            self.readings[org_id] = usage

    def state(self, org_id: str) -> UsageState:
        return UsageState(
            usage=self.readings.get(org_id),
            pending=dict(self.pending.get(org_id, {})),
            version=self.versions.get(org_id, 0),
        )

    def reserve(self, org_id: str, key: str, reservation: Reservation, *, version: int, drop: list[str]) -> bool:
        if self.versions.get(org_id, 0) != version:
            return False
        pending = self.pending.setdefault(org_id, {})
        for gone in drop:
            pending.pop(gone, None)
        pending[key] = reservation
        self.versions[org_id] = version + 1
        return True


class FakeDeferredCalls:
    """``ports.DeferredCalls``: held call ids per org, oldest first (a call held again keeps its place; its
    stamp moves on by ``HELD_AGAIN_STEP``)."""

    def __init__(self) -> None:
        self.calls: dict[str, dict[str, float]] = {}

    def add(self, org_id: str, call_id: str, deferred_at: float) -> None:
        held = self.calls.setdefault(org_id, {})
        held[call_id] = round(held[call_id] + HELD_AGAIN_STEP, 3) if call_id in held else deferred_at

    def remove(self, org_id: str, call_id: str, *, if_stamp: float | None = None) -> None:
        held = self.calls.get(org_id, {})
        if if_stamp is None or held.get(call_id) == if_stamp:
            held.pop(call_id, None)

    def held(self, org_id: str) -> list[tuple[str, float]]:
        return sorted(self.calls.get(org_id, {}).items(), key=lambda kv: (kv[1], kv[0]))

    def list(self, org_id: str) -> list[str]:
        return [c for c, _ in self.held(org_id)]


class FakeOrgSlots:
    """``ports.OrgSlots``: ``cap`` slots per org; ``OrgBusy`` when all are held (no expiry)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.held: dict[str, str] = {}  # slot -> holder
        self.peak = 0
        self._lock = threading.Lock()

    def acquire(self, org_id: str, holder: str, *, ttl_seconds: int) -> str:
        with self._lock:
            for n in range(self.cap):
                slot = f"{org_id}#{n}"
                if slot not in self.held:
                    self.held[slot] = holder
                    self.peak = max(self.peak, sum(k.startswith(f"{org_id}#") for k in self.held))
                    return slot
        raise OrgBusy(f"org {org_id} already has {self.cap} Salesforce-bound invocations running")

    def release(self, slot: str, holder: str) -> None:
        with self._lock:
            if self.held.get(slot) == holder:
                del self.held[slot]
