"""Leases: exclusive, expiring permission to read-modify-write one Salesforce record (or one call)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class LeaseGrant(BaseModel):
    """What acquiring a lease tells its new holder about the holders before it.

    ``last_written_at`` (epoch seconds) is when an earlier holder gave the lease back after sending a write
    for the record; a read of the record taken after that instant shows every write made under the lease.
    ``taken_over`` says the previous holder never gave the lease back (it crashed, or it was an earlier
    attempt of the same owner): whatever it wrote is unknown, so nothing read before now can be trusted.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    last_written_at: float | None = None
    taken_over: bool = False

    def read_is_current(self, read_at: float | None, *, skew_seconds: float) -> bool:
        """Whether a read taken at ``read_at`` (epoch seconds, before its request) shows every leased write."""
        if self.taken_over:
            return False
        if self.last_written_at is None:
            return True
        return read_at is not None and read_at > self.last_written_at + skew_seconds


class ClaimTaken(BaseModel):
    """The answer to taking a claim: who holds it now, and what the previous item said.

    ``holder`` is the owner now holding the claim (the caller when it got it). When the caller got it,
    ``previous_owner``/``previous_value`` describe the item it replaced: an earlier attempt of its own (same
    owner) or a holder whose time ran out. When another owner holds it, ``value`` is that holder's outcome
    (e.g. ``"Contact:003..."``), or None while it is still working; ``resolved_at`` says when it was attached.
    """

    model_config = ConfigDict(frozen=True)

    holder: str
    value: str | None = None
    resolved_at: float | None = None  # when the holder attached ``value`` (epoch seconds, its clock)
    previous_owner: str | None = None
    previous_value: str | None = None
