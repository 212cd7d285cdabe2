"""Fill the Account link field (settings ``account_link_field``) from a list of companies.

Batches of ``batch_size`` (≤200) valid lines: one read of their Accounts (a composite request), one
sObject Collections PATCH of the empty link fields (allOrNone false: each Account succeeds or fails
on its own), then a checkpoint (the next line to settle, the counts so far). An interrupted run
(Salesforce or AWS error, Ctrl-C) leaves the checkpoint of the last written batch, and the next run
of the same file (same content hash) starts after it. Filling only empty fields makes a batch
written twice harmless: its Accounts are found already set.

Concurrency: the fills of a batch are written under the same record leases SyncFields takes
(``<org>#fields#<account id>``, ``services.record_leases``), so a call filling the same link at the
same moment is never overwritten: when a lease says a write was sent for an Account since the batch's
read, those Accounts are read again under the lease (one more request, only when writers collide)
and a link set meanwhile is kept (``already set``).

API budget: before each request the last ``Sforce-Limit-Info`` is compared with
``api_budget.max_share`` of the allocation; when the next batch would go over it, the run stops
``DEFERRED`` with the reason and its checkpoint, before sending anything more.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Iterator, Sequence

from callsync.domain.account_links import BatchPlan, plan_batch, settle
from callsync.errors import CallsyncError, PermanentError
from callsync.models.backfill import (
    AccountLink,
    BackfillCheckpoint,
    BackfillStatus,
    BackfillSummary,
    InvalidLine,
    LineOutcome,
    LineStatus,
    LinkLine,
)
from callsync.models.settings import OrgSettings
from callsync.ports import Leases
from callsync.ports.account_links import AccountLinkStore, BackfillCheckpoints
from callsync.services.record_leases import holding

MAX_BATCH = 200  # records per sObject Collections request
READ_REQUESTS = 1  # one composite per batch (more only for very long or paged answers)
WRITE_REQUESTS = 1
CLOCK_SKEW_SECONDS = 0.25  # margin between another writer's lease stamp and this process's read time

Progress = Callable[[int, BackfillCheckpoint], None]  # (lines settled so far, checkpoint) after each batch


class _BudgetReached(Exception):
    """The next request would go over ``api_budget.max_share`` (the message says by how much)."""


class NoLinkField(PermanentError):
    """The org's settings have no ``account_link_field``: there is nothing to fill."""


def batches(entries: Sequence[LinkLine | InvalidLine], size: int) -> Iterator[list[LinkLine | InvalidLine]]:
    """Consecutive runs of entries holding ``size`` valid lines each (invalid lines ride along)."""
    chunk: list[LinkLine | InvalidLine] = []
    valid = 0
    for entry in entries:
        chunk.append(entry)
        if isinstance(entry, LinkLine):
            valid += 1
            if valid == size:
                yield chunk
                chunk, valid = [], 0
    if chunk:
        yield chunk


class AccountLinkBackfill:
    def __init__(
        self,
        store: AccountLinkStore,
        checkpoints: BackfillCheckpoints,
        *,
        leases: Leases | None = None,
        batch_size: int = MAX_BATCH,
        clock: Callable[[], float] = time.time,
        owner: str | None = None,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch size is 1..{MAX_BATCH}, got {batch_size}")
        self._store = store
        self._checkpoints = checkpoints
        self._leases = leases
        self._batch_size = batch_size
        self._clock = clock
        self._owner = owner or f"backfill-{uuid.uuid4().hex[:12]}"

    def run(
        self,
        settings: OrgSettings,
        entries: Sequence[LinkLine | InvalidLine],
        file_hash: str,
        *,
        restart: bool = False,
        progress: Progress | None = None,
    ) -> BackfillSummary:
        """Backfill ``entries`` (the parsed file) for ``settings.org_id``, resuming from its checkpoint.

        Raises:
            NoLinkField: the settings have no ``account_link_field``.
        """
        field = settings.account_link_field
        if not field:
            raise NoLinkField(
                f"org {settings.org_id} has no account_link_field in its settings: set it first "
                "(callsync settings set --org-id ORG account_link_field=Your_Field__c)"
            )
        org_id = settings.org_id
        stored = None if restart else self._checkpoints.get(org_id, file_hash)
        if restart:
            self._checkpoints.clear(org_id, file_hash)
        checkpoint = stored or BackfillCheckpoint(org_id=org_id, file_hash=file_hash)
        resumed = checkpoint.next_line if stored is not None else None

        def summary(status: BackfillStatus, reason: str | None = None) -> BackfillSummary:
            return BackfillSummary(
                org_id=org_id,
                file_hash=file_hash,
                status=status,
                reason=reason,
                lines=len(entries),
                resumed_from_line=resumed,
                next_line=checkpoint.next_line,
                counts=checkpoint.counts,
                problems=checkpoint.problems,
                api_requests=self._store.api_requests,
                api_usage=self._store.api_usage,
            )

        if checkpoint.done:
            return summary(BackfillStatus.ALREADY_DONE, "this file was backfilled already (--restart runs it again)")
        todo = [e for e in entries if e.line >= checkpoint.next_line]
        settled = len(entries) - len(todo)
        earlier_requests = checkpoint.api_requests
        try:
            for chunk in batches(todo, self._batch_size):
                lines = [e for e in chunk if isinstance(e, LinkLine)]
                outcomes = [
                    LineOutcome(line=e.line, status=LineStatus.INVALID, reason=e.reason)
                    for e in chunk
                    if isinstance(e, InvalidLine)
                ]
                if lines:
                    over = self._over_budget(settings, READ_REQUESTS + WRITE_REQUESTS)
                    if over:
                        return summary(BackfillStatus.DEFERRED, f"{over}; run again to resume at line {chunk[0].line}")
                    read_at = self._clock()
                    found = self._store.find(
                        field,
                        [line.account_id for line in lines if line.account_id],
                        sorted({line.domain for line in lines if line.domain}),
                    )
                    plan = plan_batch(lines, found)
                    errors: dict[str, str | None] = {}
                    if plan.updates:
                        over = self._over_budget(settings, WRITE_REQUESTS)
                        if over:
                            return summary(
                                BackfillStatus.DEFERRED, f"{over}; run again to resume at line {chunk[0].line}"
                            )
                        try:
                            plan, errors = self._write(settings, field, lines, found, plan, read_at)
                        except _BudgetReached as e:
                            return summary(BackfillStatus.DEFERRED, f"{e}; run again to resume at line {chunk[0].line}")
                    outcomes += settle(plan, errors)
                outcomes.sort(key=lambda o: o.line)
                checkpoint = checkpoint.model_copy(
                    update={
                        "next_line": chunk[-1].line + 1,
                        "counts": checkpoint.counts.plus(outcomes),
                        "problems": checkpoint.problems
                        + tuple(o for o in outcomes if o.status in (LineStatus.INVALID, LineStatus.FAILED)),
                        "batches": checkpoint.batches + 1,
                        "api_requests": earlier_requests + self._store.api_requests,
                    }
                )
                self._checkpoints.save(checkpoint)
                settled += len(chunk)
                if progress is not None:
                    progress(settled, checkpoint)
        except CallsyncError as e:
            return summary(
                BackfillStatus.INTERRUPTED,
                f"{type(e).__name__}: {e}; lines before {checkpoint.next_line} are saved, "
                f"run again to resume at line {checkpoint.next_line}",
            )
        checkpoint = checkpoint.model_copy(update={"done": True})
        self._checkpoints.save(checkpoint)
        return summary(BackfillStatus.COMPLETED)

    def _write(
        self,
        settings: OrgSettings,
        field: str,
        lines: list[LinkLine],
        found: list[AccountLink],
        plan: BatchPlan,
        read_at: float,
    ) -> tuple[BatchPlan, dict[str, str | None]]:
        """Write ``plan``'s fills under the Accounts' record leases, from a read no leased write is newer than.

        Raises:
            _BudgetReached: a read again (after another writer's write) would go over the API budget.
        """
        keys = {f"{settings.org_id}#fields#{account_id}": account_id for account_id in plan.updates}
        with holding(self._leases, keys, self._owner) as held:
            stale = [
                keys[key]
                for key, grant in held.grants.items()
                if not grant.read_is_current(read_at, skew_seconds=CLOCK_SKEW_SECONDS)
            ]
            if stale:  # another writer sent a write for these since the read: read them again
                over = self._over_budget(settings, READ_REQUESTS + WRITE_REQUESTS)
                if over:
                    raise _BudgetReached(over)
                fresh = {a.id: a for a in self._store.find(field, stale, [])}
                plan = plan_batch(lines, [fresh.get(a.id, a) for a in found])
            if not plan.updates:
                return plan, {}
            errors = self._store.fill(field, plan.updates)
            for key, account_id in keys.items():
                if account_id in plan.updates:
                    held.mark_written(key)
        return plan, errors

    def _over_budget(self, settings: OrgSettings, needed: int) -> str | None:
        """Why ``needed`` more requests would exceed ``api_budget.max_share`` of the allocation; None if they fit."""
        usage = self._store.api_usage
        if usage is None:
            return None  # nothing answered yet: the first read tells
        used, allocation = usage
        share = settings.api_budget.max_share
        ceiling = math.floor(allocation * share)
        if used + needed <= ceiling:
            return None
        return (
            f"API budget: {used} of the org's {allocation} daily requests are used and api_budget.max_share "
            f"{share:g} allows {ceiling}; the next batch needs {needed} more"
        )
