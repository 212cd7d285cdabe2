"""CreateContacts: a Contact or Lead for each external participant Salesforce does not know.

Rules in ``domain.contact_plan``; this use case adds what makes it safe to run twice:

- Claims: before creating, the email is claimed org-wide (``ports.Claims``, a DynamoDB
  conditional write) by this call. Two executions with the same new person: the second
  finds the claim and reuses the record the first created (or retries until it is known).
  A retried step finds its own claims and first looks the people up, so it never creates
  twice what its earlier attempt already created.
- Duplicate rules: a record Salesforce refuses with DUPLICATES_DETECTED is replaced by the
  existing record the rule names ("reused"); it never fails the call.
- Other per-record refusals (validation rule, no create permission) are reported as
  ``failed`` in the ledger with Salesforce's message, and the call goes on. Retryable
  per-record errors (row lock) raise after recording what did succeed.

Requests: none when nobody is new; otherwise one sObject Collections request, plus one
Account query only when a new person's domain/company matches no Account Match saw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from callsync.domain.contact_plan import NewRecord, lookup_terms, plan_records, unmatched
from callsync.errors import ConcurrentUpdate, RetryableError
from callsync.models.ledger import FieldChange, RecordChange, record_url_or_none
from callsync.models.match import AccountInfo, ContactsResult, MatchResult, Person
from callsync.models.state import SyncState
from callsync.ports import Claims, Ledger

CLAIM_TTL_SECONDS = 3600
FAILED = "failed"


@dataclass(frozen=True)
class SaveOutcome:
    """One record's result from the collections request, already interpreted by the adapter."""

    success: bool
    id: str | None = None
    error_code: str | None = None
    message: str = ""
    duplicate_of: tuple[str, str] | None = None  # (object, id) named by DUPLICATES_DETECTED
    retryable: bool = False
    error: Exception | None = field(default=None, compare=False)  # the callsync error to raise if retryable


class PeopleWriter(Protocol):
    def find_accounts(self, domains: list[str], names: list[str]) -> list[AccountInfo]:
        """Accounts whose Website contains one of ``domains`` or whose Name is one of ``names`` (one query)."""

    def find_people(self, emails: list[str]) -> dict[str, tuple[str, str]]:
        """email → (object, id) of existing Contacts (preferred) or unconverted Leads (one request)."""

    def create(self, records: list[NewRecord]) -> list[SaveOutcome]:
        """One sObject Collections request (allOrNone false); one outcome per record, same order."""


def claim_key(org_id: str, email: str) -> str:
    return f"person#{org_id}#{email.lower()}"


def _parse_claim_value(value: str | None) -> tuple[str, str] | None:
    if not value or value == FAILED or ":" not in value:
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
    ) -> None:
        self._writer = writer
        self._claims = claims
        self._ledger = ledger
        self._instance_url = instance_url
        self._api_requests = api_requests

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
        people = _unique(match.unknown)
        if not people:
            return self._finish(state, result)

        to_create: list[Person] = []
        recheck: list[Person] = []
        for person in people:
            key = claim_key(call.org_id, person.email)
            before = self._claims.get(key)
            if before is not None and before.get("owner") != call.call_key:
                self._reuse_or_wait(result, person, before)
                continue
            if before is not None and before.get("value"):
                known = _parse_claim_value(str(before["value"]))
                if known is not None:
                    self._reused(result, person, known, "created by an earlier attempt of this call")
                else:
                    to_create.append(person)  # our earlier attempt failed for good: try again
                continue
            owner = self._claims.claim(key, call.call_key, ttl_seconds=CLAIM_TTL_SECONDS)
            if owner != call.call_key:
                self._reuse_or_wait(result, person, self._claims.get(key) or {})
                continue
            (recheck if before is not None else to_create).append(person)

        if recheck:  # our earlier attempt claimed them and may have created them before failing
            found = self._writer.find_people([p.email for p in recheck])
            for person in recheck:
                if person.email in found:
                    self._reused(result, person, found[person.email], "found after a retried attempt")
                    self._claims.resolve(claim_key(call.org_id, person.email), ":".join(found[person.email]))
                else:
                    to_create.append(person)

        if to_create:
            self._create(state, match, to_create, result)
        return self._finish(state, result)

    # ---- steps --------------------------------------------------------------------------------

    def _create(self, state: SyncState, match: MatchResult, people: list[Person], result: ContactsResult) -> None:
        call = state.call
        accounts = [a for a in [match.account, *match.accounts_seen] if a is not None]
        missing = unmatched(people, accounts, call.company)
        if missing:
            domains, names = lookup_terms(missing, call.company)
            if domains or names:
                accounts += self._writer.find_accounts(domains, names)
        plan = plan_records(people, accounts, call.company)
        outcomes = self._writer.create(plan)
        retry: Exception | None = None
        for record, outcome in zip(plan, outcomes, strict=True):
            key = claim_key(call.org_id, record.person.email)
            if outcome.success and outcome.id:
                self._claims.resolve(key, f"{record.object}:{outcome.id}")
                self._created(result, record, outcome.id)
            elif outcome.duplicate_of is not None:
                self._claims.resolve(key, ":".join(outcome.duplicate_of))
                self._reused(result, record.person, outcome.duplicate_of,
                             f"Salesforce duplicate rule: {outcome.message}".strip())  # fmt: skip
            elif outcome.retryable:
                retry = retry or outcome.error or RetryableError(outcome.message, code=outcome.error_code)
            else:
                self._claims.resolve(key, FAILED)
                self._failed(result, record, outcome)
        if retry is not None:
            self._finish(state, result)  # the ledger shows what did get written before the retry
            raise retry

    def _reuse_or_wait(self, result: ContactsResult, person: Person, held: dict[str, object]) -> None:
        """Another execution holds the claim: reuse its record, or retry until it is known."""
        value = held.get("value")
        known = _parse_claim_value(str(value)) if value else None
        if known is not None:
            self._reused(result, person, known, "created by another call at the same time")
            return
        if value == FAILED:
            result.report.warnings.append(f"{person.email}: another call could not create this person; not retried")
            return
        raise ConcurrentUpdate(
            f"another call is creating the Contact/Lead for a participant right now (claim held by "
            f"{held.get('owner', '?')}); retry",
            code="claim",
        )

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
