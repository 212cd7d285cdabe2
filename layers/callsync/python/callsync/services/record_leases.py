"""Holding leases for a step's read-modify-write: acquire in key order, wait a while, always give back.

Every writer acquires its keys in sorted order, so two writers never hold one key each while waiting for
the other's (no deadlock). A busy key is polled with jitter for up to ``wait_seconds`` (well inside the
function's timeout); past that the step raises ``ConcurrentUpdate`` and the state machine retries it later,
for longer than a dead holder's lease can last. Leaving the block gives every lease back, whatever happened
inside it; keys marked written are stamped so the next holder knows its earlier reads are stale.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from callsync.errors import ConcurrentUpdate
from callsync.models.lease import LeaseGrant
from callsync.ports import Leases

LEASE_SECONDS = 90  # longer than a step function can run (60 s): a dead holder blocks no one past this
WAIT_SECONDS = 20.0  # how long a step waits for a busy lease before handing the wait to the state machine
POLL_SECONDS = (0.05, 0.3)  # jittered pause between two attempts on a busy lease


@dataclass
class HeldLeases:
    """The leases a block holds: the grant per key, and which keys a write was sent under."""

    grants: dict[str, LeaseGrant] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)

    def mark_written(self, key: str) -> None:
        if key in self.grants:
            self.written.add(key)


@contextmanager
def holding(
    leases: Leases | None,
    keys: Iterable[str],
    owner: str,
    *,
    ttl_seconds: float = LEASE_SECONDS,
    wait_seconds: float = WAIT_SECONDS,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Iterator[HeldLeases]:
    """Hold the lease on every key for the duration of the block (no leases: an empty hold).

    Raises:
        ConcurrentUpdate: a key stayed held by another owner for ``wait_seconds``.
    """
    held = HeldLeases()
    if leases is None:
        yield held
        return
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    deadline = clock() + wait_seconds
    try:
        for key in sorted(set(keys)):
            while (grant := leases.acquire(key, owner, ttl_seconds=ttl_seconds)) is None:
                if clock() >= deadline:
                    raise ConcurrentUpdate(f"{key} is held by another call; retry", code="lease")
                sleep(random.uniform(*POLL_SECONDS))  # noqa: S311 (jitter, not security)
            held.grants[key] = grant
        yield held
    finally:
        for key in held.grants:
            leases.release(key, owner, written=key in held.written)
