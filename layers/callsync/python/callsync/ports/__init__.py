"""Ports: what services need from the outside world.

Adapters in ``callsync.adapters`` implement them against AWS and Salesforce;
tests implement them with ``Fake*`` doubles. Services never build adapters.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from callsync.models.api_budget import ApiUsage, Reservation, UsageState
from callsync.models.describe import ObjectDescribe, OrgMetadata
from callsync.models.lease import ClaimTaken, LeaseGrant
from callsync.models.ledger import CallHistory, LedgerEntry, Outcome, StepReport
from callsync.models.settings import OrgSettings


class SettingsStore(Protocol):
    def get(self, org_id: str) -> OrgSettings:
        """The org's settings.

        Raises:
            SettingsNotFound: no item for ``org_id``.
            InvalidSettings: the item does not validate (the message names the field).
        """

    def put(self, settings: OrgSettings) -> None: ...


class TokenStore(Protocol):
    """The org's OAuth tokens in Secrets Manager (one secret per org)."""

    def get(self, org_id: str) -> dict[str, Any]:
        """``{"instance_url", "access_token", "refresh_token", "issued_at", "id", ...}``.

        Raises:
            OrgDisconnected: no secret, or the org was marked disconnected.
        """

    def put(self, org_id: str, tokens: dict[str, Any], *, expected_version: str | None = None) -> None:
        """Store tokens; with ``expected_version``, only if nobody wrote since (else ConcurrentUpdate)."""


class Ledger(Protocol):
    """Per call revision (``CallProcessed.call_key``): what each step changed, and how the run ended.

    Writes are keyed by (call_key, step): a retried step overwrites its own entry. Reads give models
    (``LedgerEntry``, ``CallHistory``), never storage items.
    """

    def record_step(self, call_key: str, report: StepReport) -> None: ...

    def record_outcome(self, call_key: str, outcome: Outcome) -> None: ...

    def entries(self, call_key: str) -> list[LedgerEntry]:
        """The entries of one revision of a call: one query."""

    def history(self, org_id: str, call_id: str) -> CallHistory:
        """The entries of every revision of a call (earlier attempts, other revisions): one query."""


class Claims(Protocol):
    """Org-wide first-writer-wins claims (e.g. "org#email" before creating a Contact)."""

    def claim(self, key: str, owner: str, *, ttl_seconds: int = 3600) -> str:
        """Claim ``key`` for ``owner``; returns the owner that holds it (ours or the earlier one)."""

    def take(self, key: str, owner: str, *, ttl_seconds: int) -> ClaimTaken:
        """Claim ``key`` unless another owner holds it unexpired; says who holds it and what was there before.

        Taking a claim the same owner holds succeeds again (a retried attempt) and clears its value.
        """

    def resolve(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        """Attach the outcome (e.g. the created record id) to a claim we hold, stamped with the time it was
        attached (``ClaimTaken.resolved_at``); ``ttl_seconds`` extends it."""

    def forget(self, key: str, value: str) -> None:
        """Drop ``key`` if it still holds ``value`` (e.g. the record it names was deleted); a no-op otherwise,
        so a claim another call has resolved since is left alone."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def release(self, key: str, owner: str) -> None:
        """Drop ``key`` if ``owner`` holds it (a lease given back); a no-op otherwise."""


class Leases(Protocol):
    """Exclusive, expiring leases (one holder at a time), kept in the claims table.

    A lease guards a read-modify-write: it is held from the read to the confirmed write and always given
    back (``release``), on success and on failure. A holder that dies without giving it back blocks the key
    until ``ttl_seconds`` pass (longer than a function can run); the next holder then learns that it took
    the lease over. Giving a lease back after a write stamps the key with the time, so the next holder can
    tell whether a read it took earlier already shows that write.
    """

    def acquire(self, key: str, owner: str, *, ttl_seconds: float) -> LeaseGrant | None:
        """Take ``key`` for ``owner`` if nobody else holds it (or its holder's time ran out); else None.

        Re-acquiring a lease the same owner holds succeeds (a retried attempt) and says ``taken_over``.
        """

    def release(self, key: str, owner: str, *, written: bool) -> None:
        """Give ``key`` back if ``owner`` holds it; ``written``: a write was sent under it (stamp now)."""


class SalesforceApi(Protocol):
    """The low-level Salesforce REST client every Salesforce adapter is built on.

    Every method counts its requests the way Salesforce counts them against
    the daily allocation (a composite or collections request is one; each query
    page is one) in ``api_requests``. Vendor errors come out as
    ``RetryableError`` / ``PermanentError`` subclasses (``callsync.errors``).
    """

    instance_url: str
    api_requests: int

    def query(self, soql: str) -> list[dict[str, Any]]:
        """All records of a query, following ``nextRecordsUrl``."""

    def composite(self, subrequests: list[dict[str, Any]], *, all_or_none: bool = False) -> list[dict[str, Any]]:
        """POST composite (≤25 subrequests): one ``{body, httpStatusCode, referenceId, httpHeaders}`` each.

        Subrequest errors are returned, not raised; use ``raise_for_subresponse``
        from the adapter module to turn one into the error tree.
        """

    def create_records(self, records: list[dict[str, Any]], *, all_or_none: bool = False) -> list[dict[str, Any]]:
        """POST composite/sobjects (≤200 per request; chunks beyond): ``{id, success, errors}`` each."""

    def update_records(self, records: list[dict[str, Any]], *, all_or_none: bool = False) -> list[dict[str, Any]]:
        """PATCH composite/sobjects: ``{id, success, errors}`` each."""

    def describe(self, object_name: str, *, if_modified_since: str | None = None) -> dict[str, Any] | None:
        """sObject describe; None on 304 Not Modified."""

    def describe_global(self) -> dict[str, Any]: ...


class DescribeSource(Protocol):
    """Object metadata, cached (DynamoDB, TTL) and revalidated with If-Modified-Since."""

    def describe(self, object_names: Iterable[str]) -> dict[str, ObjectDescribe | None]:
        """Describes by object name; None for an object the integration user cannot see.

        Cold: one composite request for every missing describe; warm: no request.
        """

    def org_metadata(self) -> OrgMetadata:
        """Global describe facts (Shared Activities), cached like describes."""


class ApiUsageStore(Protocol):
    """Each org's latest ``Sforce-Limit-Info`` reading (DynamoDB, shared by every function)."""

    def get(self, org_id: str) -> ApiUsage | None: ...

    def record(self, org_id: str, usage: ApiUsage) -> None:
        """Keep ``usage`` unless a newer reading is already stored."""

    def state(self, org_id: str) -> UsageState:
        """The reading with the reservations of admitted calls, and the version to reserve against."""

    def reserve(self, org_id: str, key: str, reservation: Reservation, *, version: int, drop: list[str]) -> bool:
        """Add ``reservation`` under ``key`` (and drop expired ones) if the state is still at ``version``.

        Returns False when another function changed the reservations first (read the state again).
        """


class DeferredCalls(Protocol):
    """The calls the budget guard holds, per org, for the resumer."""

    def add(self, org_id: str, call_id: str, deferred_at: float) -> None:
        """Hold the call, stamped ``deferred_at``. A call held again keeps its place in the list but its stamp
        moves on by ``domain.api_budget.HELD_AGAIN_STEP``: a resumer that listed it before sees it held again."""

    def remove(self, org_id: str, call_id: str, *, if_stamp: float | None = None) -> None:
        """Release the call; with ``if_stamp``, only if its stamp is still that one (it was not held again)."""

    def held(self, org_id: str) -> list[tuple[str, float]]:
        """Held ``(call id, stamp)`` of ``org_id``, oldest first."""

    def list(self, org_id: str) -> list[str]:
        """Held call ids of ``org_id``, oldest first."""


class OrgSlots(Protocol):
    """A counting semaphore per org: at most N Salesforce-bound invocations at once."""

    def acquire(self, org_id: str, holder: str, *, ttl_seconds: int) -> str:
        """The slot key now held by ``holder``.

        Raises:
            OrgBusy: every slot of the org is held (retryable: the state machine waits and retries).
        """

    def release(self, slot: str, holder: str) -> None: ...
