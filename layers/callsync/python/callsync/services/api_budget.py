"""The API budget guard (the state machine's first step) and the resumer of the calls it holds.

``CheckApiBudget`` decides from the org's latest stored ``Sforce-Limit-Info`` reading, before any
Salesforce work: a call runs when ``used + CALL_ESTIMATE <= floor(max_share * limit)``
(``domain.api_budget``), else it is held — the run ends ``DEFERRED`` with the reason and the call joins
the org's held list. The reading is taken again (one ``GET limits/``) when none is stored, when it is
older than ``MAX_READING_AGE_SECONDS``, and when a replay (the resumer's or ``callsync replay``) would
otherwise be held by it: the rolling window may have freed since.

``ResumeDeferred`` (scheduled) replays held calls of every org whose stored reading has room for them,
oldest first. When the reading has no room but is old enough to be read again, it replays one call,
whose guard takes the fresh reading: when the window has freed, that call runs and the next tick resumes
the rest. A fresh reading without room replays nothing (no request is spent to learn nothing new).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from pydantic import BaseModel, ConfigDict, Field

from callsync.domain import api_budget
from callsync.errors import ConcurrentUpdate
from callsync.models.api_budget import ApiUsage, BudgetCheck, Reservation, UsageState
from callsync.models.event import CallProcessed
from callsync.models.ledger import StepReport
from callsync.models.settings import OrgSettings
from callsync.ports import ApiUsageStore, DeferredCalls, Ledger, SettingsStore

STEP = "CheckApiBudget"
RESERVE_ATTEMPTS = 8
# An admitted call's estimate counts on top of the reading this long: its requests reach the stored reading
# when its steps end (seconds), so the reservation only overlaps them; it never outlives a stuck call for long.
RESERVATION_SECONDS = 300.0
# The reservations are one stored map: at most this many of their own (execution names, up to 80 characters:
# about 120 KB), then shared entries per 30 s of expiry (at most 11 more). A shared entry counts each call once
# but a retried check of an admitted call adds its estimate again (a few requests reserved too many, briefly).
MAX_RESERVATIONS = 1_000
RESERVATION_BUCKET_SECONDS = 30
SHARED_RESERVATION = "shared#"
MAX_REPLAYS_PER_ORG = 200  # per tick: the resumer's 120 s and one org's burst stay bounded; the next tick goes on
# The resumer starts no replay with less time left in its invocation (StartExecution and the ledger's writes
# take well under a second each; a replay cut short is listed and started again at the next tick).
MIN_REMAINING_MS = 10_000
REPLAY_MARKER = "-replay"  # StartSync.replay names a replayed execution ``<name>-replay<n>``


class BudgetInput(BaseModel):
    """What the CheckApiBudget state passes (statemachine/post_call_sync.asl.json)."""

    model_config = ConfigDict(extra="ignore")

    call: CallProcessed
    settings: OrgSettings
    execution_name: str = ""


class CheckApiBudget:
    def __init__(
        self,
        usage: ApiUsageStore,
        deferred: DeferredCalls,
        ledger: Ledger,
        read_usage: Callable[[], ApiUsage],
        *,
        clock: Callable[[], float] = time.time,
        max_age_seconds: float = api_budget.MAX_READING_AGE_SECONDS,
    ) -> None:
        self._usage = usage
        self._deferred = deferred
        self._ledger = ledger
        self._read_usage = read_usage
        self._clock = clock
        self._max_age = max_age_seconds

    def run(self, data: BudgetInput) -> BudgetCheck:
        """The decision; an admitted call's estimate is reserved (optimistically, against the state's version)
        so that calls checked at the same moment cannot together pass the share.

        Raises:
            ConcurrentUpdate: the reservations kept changing under this check (retried by the state machine).
        """
        org_id, share = data.call.org_id, data.settings.api_budget.max_share
        key = data.execution_name or data.call.call_key
        requests = 0
        for _ in range(RESERVE_ATTEMPTS):
            now = self._clock()
            state = self._usage.state(org_id)
            decision: BudgetCheck | None = None
            stored = state.usage
            if stored is not None and api_budget.is_fresh(stored, now, max_age=self._max_age):
                candidate = api_budget.check(stored, share, reserved=state.reserved(now))
                # A replay held by the stored reading asks Salesforce: the window may have freed since.
                if not (candidate.deferred and REPLAY_MARKER in data.execution_name and not requests):
                    decision = candidate
            if decision is None:
                fresh = self._read_usage()
                requests += 1
                self._usage.record(org_id, fresh)
                decision = api_budget.check(fresh, share, api_requests=requests, reserved=state.reserved(now))
            decision = decision.model_copy(update={"api_requests": requests})
            if decision.deferred:
                self._deferred.add(org_id, data.call.call_id, now)
                break
            slot, reservation = _reservation(state, key, decision.estimate, now)
            if self._usage.reserve(org_id, slot, reservation, version=state.version, drop=state.expired(now)):
                break
        else:
            raise ConcurrentUpdate(f"the API budget of org {org_id} kept changing during the check", code="budget")
        if requests:  # what the check cost, in the call's ledger like every step's requests
            self._ledger.record_step(data.call.call_key, StepReport(step=STEP, api_requests=requests))
        return decision


def _reservation(state: UsageState, key: str, estimate: int, now: float) -> tuple[str, Reservation]:
    """Where an admitted call's estimate is reserved: under its own key (a retried check replaces it), or,
    once ``MAX_RESERVATIONS`` live ones are stored, added to a shared entry per ``RESERVATION_BUCKET_SECONDS``
    of expiry, so the stored reservations stay a bounded map whatever the org's volume."""
    until = now + RESERVATION_SECONDS
    live = len(state.pending) - len(state.expired(now))
    if key in state.pending or live < MAX_RESERVATIONS:
        return key, Reservation(requests=estimate, until=until)
    bucket = int(until // RESERVATION_BUCKET_SECONDS)
    slot = f"{SHARED_RESERVATION}{bucket}"
    prior = state.pending.get(slot)
    held = prior.requests if prior is not None and prior.until > now else 0
    return slot, Reservation(requests=held + estimate, until=(bucket + 1) * RESERVATION_BUCKET_SECONDS)


class ResumeResult(BaseModel):
    org_id: str
    held: int
    replayed: list[str] = Field(default_factory=list)  # started (or had nothing left to replay): off the list
    running: list[str] = Field(default_factory=list)  # a run of the call is still running: kept held
    errors: list[str] = Field(default_factory=list)  # "<call>: <error>" (or "<org>: ..."): kept held, retried
    share_used: float | None = None


class ResumeDeferred:
    """Replays held calls of orgs with room again (see module doc).

    ``replay(org, call)`` starts one replay and says whether the call leaves the held list: True when the
    replay started (or there is nothing left to replay), False when a run of the call is still running. A call
    leaves the list only after that answer, so a failure in between (a throttled StartExecution, the
    function's timeout) leaves it listed for the next tick; a replay started twice is harmless (the second
    finds the first in the ledger, or Step Functions refuses its execution name). A failing call or org is
    reported in its result and never stops the others. No replay starts once ``remaining_ms()`` (the
    invocation's time left) is below ``MIN_REMAINING_MS``: the next tick goes on.
    """

    def __init__(
        self,
        *,
        orgs: Callable[[], Iterable[str]],
        settings: SettingsStore,
        usage: ApiUsageStore,
        deferred: DeferredCalls,
        replay: Callable[[str, str], bool],
        clock: Callable[[], float] = time.time,
        max_age_seconds: float = api_budget.MAX_READING_AGE_SECONDS,
        remaining_ms: Callable[[], int] | None = None,
    ) -> None:
        self._clock = clock
        self._max_age = max_age_seconds
        self._orgs = orgs
        self._settings = settings
        self._usage = usage
        self._deferred = deferred
        self._replay = replay
        self._remaining_ms = remaining_ms

    def _out_of_time(self) -> bool:
        return self._remaining_ms is not None and self._remaining_ms() < MIN_REMAINING_MS

    def run(self) -> list[ResumeResult]:
        results = []
        for org_id in self._orgs():
            if self._out_of_time():
                break
            try:
                result = self._resume(org_id)
            except Exception as e:  # one org's failure (its settings, a throttle) never stops the rest
                result = ResumeResult(org_id=org_id, held=0, errors=[f"{org_id}: {type(e).__name__}: {e}"])
            if result is not None:
                results.append(result)
        return results

    def _resume(self, org_id: str) -> ResumeResult | None:
        held = self._deferred.held(org_id)
        if not held:
            return None
        result = ResumeResult(org_id=org_id, held=len(held))
        share = self._settings.get(org_id).api_budget.max_share
        now = self._clock()
        state = self._usage.state(org_id)
        stored = state.usage
        reserved = state.reserved(now)
        fits = api_budget.calls_with_room(stored, share, reserved=reserved) if stored is not None else 0
        if not fits and not api_budget.is_fresh(stored, now, max_age=self._max_age):
            fits = 1  # one call's guard takes a fresh reading for the org
        result.share_used = api_budget.check(stored, share).share_used if stored is not None else None
        for call_id, stamp in held[: min(fits, MAX_REPLAYS_PER_ORG)]:
            if self._out_of_time():
                break
            try:
                done = self._replay(org_id, call_id)
            except Exception as e:  # kept held: the next tick replays it again
                result.errors.append(f"{call_id}: {type(e).__name__}: {e}")
                continue
            if not done:
                result.running.append(call_id)
                continue
            # The replay's guard may have held it again already (no room yet): its stamp moved on, and it stays.
            self._deferred.remove(org_id, call_id, if_stamp=stamp)
            result.replayed.append(call_id)
        return result
