"""CreateContacts: a Contact or Lead for each external participant Salesforce does not know.

Rules in ``domain.contact_plan``; this use case adds what makes it safe to run twice and at once:

- Claims: before creating, the email is claimed org-wide (``ports.Claims.take``, a DynamoDB
  conditional write) by this call, for ``CREATE_CLAIM_SECONDS`` — longer than one attempt can run,
  short enough that a holder that died blocks nobody for long. Once the record exists, the claim
  holds its id (``"Contact:003..."``) for ``KNOWN_SECONDS``: other calls reuse it without a request.
  A claim resolved before this call's match read (which looked the email up and did not find it) names
  a record deleted since (e.g. by ``callsync revert``): it is forgotten and the person is created again.
  One resolved after that read is another call's create at the same moment: reused.
- A claim is never left behind by a failure: a refused create (validation rule, no permission) or
  a transient error (outage, row lock) gives the claim back before the step reports or raises, so
  another call with that person tries for itself instead of waiting on a call that gave up.
- A call whose person is being created by another call waits (polling, up to ``WAIT_SECONDS``)
  for the record id; a claim given back meanwhile is taken over. Whoever takes over a claim (from a
  holder that gave it back or died, or from an earlier attempt of its own) first looks the people
  up, so nothing is created twice.
- Duplicate rules: a record Salesforce refuses with DUPLICATES_DETECTED is replaced by the
  existing record the rule names ("reused"); it never fails the call.
- Other per-record refusals are reported as ``failed`` in the ledger with Salesforce's message,
  and the call goes on. Retryable per-record errors (row lock) raise after recording what did succeed.

Requests: none when nobody is new; otherwise one sObject Collections request, plus one
Account query only when a new person's domain/company matches no Account Match saw, plus one
lookup of the people whose claim was taken over.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from callsync.domain.contact_plan import NewRecord, creatable, lookup_terms, plan_records, unmatched
from callsync.domain.permissions import Feature, write_gate
from callsync.errors import ConcurrentUpdate, RetryableError
from callsync.models.ledger import FieldChange, RecordChange, record_url_or_none
from callsync.models.match import ContactsResult, MatchResult, Person
from callsync.models.state import SyncState
from callsync.ports import Claims, DescribeSource, Ledger
from callsync.ports.people import PeopleWriter, SaveOutcome

CREATE_CLAIM_SECONDS = 90  # one attempt's hold on a person; longer than a step function can run
KNOWN_SECONDS = 3600  # how long a resolved claim answers "this person is Contact:003..." for other calls
WAIT_SECONDS = 20.0  # how long a call waits for another call's create before the state machine retries it
POLL_SECONDS = (0.05, 0.3)
# Margin between a claim's resolve stamp (whole seconds, its writer's clock) and the match step's read time.
CLOCK_SKEW_SECONDS = 1.25


def claim_key(org_id: str, email: str) -> str:
    return f"person#{org_id}#{email.lower()}"


def stale_claim(resolved_at: float | None, match_read_at: float | None) -> bool:
    """A resolved claim names a record that existed before the match step read (and did not find) the
    person: that record is gone. Unknown times are never stale."""
    if resolved_at is None or match_read_at is None:
        return False
    return resolved_at + CLOCK_SKEW_SECONDS < match_read_at


def _parse_claim_value(value: str | None) -> tuple[str, str] | None:
    if not value or ":" not in value:
        return None
    obj, record_id = value.split(":", 1)
    return obj, record_id


class CreateContacts:
    """The CreateContacts step (see module doc)."""

    def __init__(
        self,
        writer: PeopleWriter,
        claims: Claims,
        ledger: Ledger,
        *,
        instance_url: str | Callable[[], str] = "",
        api_requests: Callable[[], int] = lambda: 0,
        describes: DescribeSource | None = None,
        wait_seconds: float = WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._writer = writer
        self._claims = claims
        self._ledger = ledger
        self._instance_url = instance_url
        self._api_requests = api_requests
        self._describes = describes
        self._wait_seconds = wait_seconds
        self._clock = clock
        self._sleep = sleep

    def run(self, state: SyncState) -> ContactsResult:
        call = state.call
        result = ContactsResult(enabled=state.settings.contact_creation.enabled)
        match = state.match or MatchResult()
        if not result.enabled:
            if match.unknown:
                result.report.warnings.append(
                    f"contact creation is off: {len(match.unknown)} unknown participant(s) not created"
                )
            return self._finish(state, result)
        people, skipped = creatable(_unique(match.unknown), call.company, state.settings.personal_domains)
        for left_out in skipped:  # MatchOpportunity leaves them out already; an older match payload may not
            result.report.warnings.append(f"{left_out.person.email}: no Contact or Lead created: {left_out.reason}")
        if not people:
            return self._finish(state, result)

        held: list[str] = []  # claims this attempt took and has not resolved: given back on any failure
        try:
            read_at = match.read_at.timestamp() if match.read_at is not None else None
            to_create, recheck = self._claim_people(call.call_key, call.org_id, people, result, held, read_at)
            if recheck:  # a claim taken over: its earlier holder may have created them before it stopped
                found = self._writer.find_people([p.email for p in recheck])
                for person in recheck:
                    if person.email in found:
                        self._reused(result, person, found[person.email], "found: created by an earlier attempt")
                        self._resolve(call.org_id, person.email, found[person.email], held)
                    else:
                        to_create.append(person)
            if to_create:
                self._create(state, match, to_create, result, held)
        finally:
            for key in held:  # failed, refused or interrupted: another call may try for itself
                self._claims.release(key, call.call_key)
        return self._finish(state, result)

    def _claim_people(
        self,
        owner: str,
        org_id: str,
        people: list[Person],
        result: ContactsResult,
        held: list[str],
        match_read_at: float | None = None,
    ) -> tuple[list[Person], list[Person]]:
        """Claim each person: (to create, to look up first); the others are reused from another call's claim.

        Raises:
            ConcurrentUpdate: another call kept creating one of them for the whole wait.
        """
        to_create: list[Person] = []
        recheck: list[Person] = []
        deadline = self._clock() + self._wait_seconds
        for person in people:
            key = claim_key(org_id, person.email)
            waited = False
            forgotten: str | None = None
            while True:
                taken = self._claims.take(key, owner, ttl_seconds=CREATE_CLAIM_SECONDS)
                if taken.holder == owner:
                    held.append(key)
                    earlier = _parse_claim_value(taken.previous_value) if taken.previous_owner == owner else None
                    if earlier is not None:
                        self._reused(result, person, earlier, "created by an earlier attempt of this call")
                        self._resolve(org_id, person.email, earlier, held)
                    elif taken.previous_owner is not None or waited:
                        recheck.append(person)
                    else:
                        to_create.append(person)
                    break
                known = _parse_claim_value(taken.value)
                if known is not None and stale_claim(taken.resolved_at, match_read_at):
                    if taken.value == forgotten:  # still there (a preview reads claims, forgets none)
                        to_create.append(person)
                        break
                    # The match step looked this email up after the claim was resolved and did not find
                    # the record: it was deleted. Forget the claim and take it for this call.
                    forgotten = taken.value
                    self._claims.forget(key, str(taken.value))
                    continue
                if known is not None:
                    self._reused(result, person, known, "created by another call")
                    break
                if self._clock() >= deadline:
                    raise ConcurrentUpdate(
                        f"another call ({taken.holder}) is still creating the Contact/Lead for a participant; retry",
                        code="claim",
                    )
                waited = True
                self._sleep(random.uniform(*POLL_SECONDS))  # noqa: S311 (jitter, not security)
        return to_create, recheck

    def _resolve(self, org_id: str, email: str, record: tuple[str, str], held: list[str]) -> None:
        """The claim now names the record (for other calls), and is no longer ours to give back."""
        key = claim_key(org_id, email)
        self._claims.resolve(key, ":".join(record), ttl_seconds=KNOWN_SECONDS)
        if key in held:
            held.remove(key)

    # ---- steps --------------------------------------------------------------------------------

    def _create(
        self, state: SyncState, match: MatchResult, people: list[Person], result: ContactsResult, held: list[str]
    ) -> None:
        call = state.call
        accounts = [a for a in [match.account, *match.accounts_seen] if a is not None]
        personal = state.settings.personal_domains
        missing = unmatched(people, accounts, call.company, personal)
        if missing:
            domains, names = lookup_terms(missing, call.company, personal)
            if domains or names:
                accounts += self._writer.find_accounts(domains, names)
        plan = self._gate(plan_records(people, accounts, call.company, personal), result)
        if not plan:
            return
        outcomes = self._writer.create(plan)
        retry: Exception | None = None
        for record, outcome in zip(plan, outcomes, strict=True):
            email = record.person.email
            if outcome.success and outcome.id:
                self._resolve(call.org_id, email, (record.object, outcome.id), held)
                self._created(result, record, outcome.id)
            elif outcome.duplicate_of is not None:
                self._resolve(call.org_id, email, outcome.duplicate_of, held)
                self._reused(result, record.person, outcome.duplicate_of,
                             f"Salesforce duplicate rule: {outcome.message}".strip())  # fmt: skip
            elif outcome.retryable:
                retry = retry or outcome.error or RetryableError(outcome.message, code=outcome.error_code)
            else:
                self._failed(result, record, outcome)  # its claim is given back: other calls try for themselves
        if retry is not None:
            self._finish(state, result)  # the ledger shows what did get written before the retry
            raise retry

    def _gate(self, plan: list[NewRecord], result: ContactsResult) -> list[NewRecord]:
        """The records the integration user can save; the others are skipped before any write, with the fix."""
        if self._describes is None or not plan:
            return plan
        objects = list(dict.fromkeys(r.object for r in plan))
        found = self._describes.describe(objects)
        stopped: set[str] = set()
        for obj in objects:
            check = write_gate(Feature.CONTACT_CREATION, [obj], found)
            if check is None:
                continue
            stopped.add(obj)
            people = ", ".join(r.person.email for r in plan if r.object == obj)
            result.report.warnings.append(check.skip_warning(f"no {obj} created for {people}", scope=f" for {obj}"))
            result.report.skipped_features.append(check.skipped())
        return [r for r in plan if r.object not in stopped]

    # ---- results ------------------------------------------------------------------------------

    def _url(self, obj: str, record_id: str) -> str | None:
        return record_url_or_none(self._instance_url, obj, record_id)

    def _created(self, result: ContactsResult, record: NewRecord, record_id: str) -> None:
        person = record.person.model_copy(
            update={"object": record.object, "id": record_id, "created": True,
                    "account_id": record.account.id if record.account else None}
        )  # fmt: skip
        result.created.append(person)
        note = f"under Account {record.account.name or record.account.id}" if record.account else "no matching Account"
        result.report.changes.append(
            RecordChange(action="created", object=record.object, id=record_id, url=self._url(record.object, record_id),
                         label=_label(record.person), note=note,
                         fields=[FieldChange(field=k, before=None, after=v) for k, v in record.fields.items()])
        )  # fmt: skip

    def _reused(self, result: ContactsResult, person: Person, known: tuple[str, str], note: str) -> None:
        obj, record_id = known
        result.reused.append(person.model_copy(update={"object": obj, "id": record_id}))
        result.report.changes.append(
            RecordChange(action="reused", object=obj, id=record_id, url=self._url(obj, record_id),
                         label=_label(person), note=note)
        )  # fmt: skip

    def _failed(self, result: ContactsResult, record: NewRecord, outcome: SaveOutcome) -> None:
        result.failed.append(record.person)
        message = f"{outcome.error_code or 'error'}: {outcome.message}".strip()
        result.report.changes.append(
            RecordChange(action="failed", object=record.object, label=_label(record.person), note=message)
        )
        result.report.warnings.append(f"could not create a {record.object} for {record.person.email}: {message}")

    def _finish(self, state: SyncState, result: ContactsResult) -> ContactsResult:
        result.report.api_requests = self._api_requests()
        self._ledger.record_step(state.call.call_key, result.report)
        return result


def _label(person: Person) -> str:
    return f"{person.name} <{person.email}>" if person.name else person.email


def _unique(people: list[Person]) -> list[Person]:
    seen: dict[str, Person] = {}
    for p in people:
        seen.setdefault(p.email.lower(), p)
    return list(seen.values())
