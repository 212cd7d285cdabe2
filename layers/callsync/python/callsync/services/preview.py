"""Preview mode (settings ``preview: true``): every step reads the real org and plans as usual; no write is sent.

Preview lives at the write boundary, so the steps' services run unchanged:

- ``PreviewPeopleWriter`` / ``PreviewFieldStore`` / ``PreviewActivityStore`` wrap the Salesforce adapters:
  their reads go to Salesforce, their writes answer "saved" without a request. A record that would be created
  gets no Salesforce id: SyncFields and LogActivity report it with none; CreateContacts' people get a
  placeholder id (``PLACEHOLDER``) that ``PreviewCreateContacts`` takes off again before the state moves on,
  so later steps see a person with no id (not linked, not written to).
- ``PreviewClaims`` reads the org-wide claims (a person another call created is reused) and takes none: a
  preview reserves nothing and leaves no placeholder for a real run to find.
- ``PreviewLedger`` records each change as what it would have been: ``created`` → ``would_create``,
  ``updated`` → ``would_update``, with the values before → after; placeholder ids are dropped.

The run's outcome is ``PREVIEWED`` (``services.record_outcome``). Leases are not taken (nothing is written).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from callsync.domain.contact_plan import NewRecord
from callsync.models.fields import ReadOutcome, RecordRead, RecordWrite, WriteOutcome
from callsync.models.lease import ClaimTaken
from callsync.models.ledger import CallHistory, LedgerEntry, Outcome, RecordAction, RecordChange, StepReport
from callsync.models.match import AccountInfo, ContactsResult
from callsync.models.state import SyncState
from callsync.ports import Claims, Ledger
from callsync.ports.activity import ActivityStore, LookupRequest, LookupResult, SaveResult
from callsync.ports.activity import WriteOutcome as ActivityWriteOutcome
from callsync.ports.activity import WritePlan as ActivityWritePlan
from callsync.ports.fields import FieldStore
from callsync.ports.people import PeopleWriter, SaveOutcome
from callsync.services.create_contacts import CreateContacts

PLACEHOLDER = "preview:"  # prefix of the id a would-be-created person carries inside CreateContacts only
WOULD: dict[str, RecordAction] = {"created": "would_create", "updated": "would_update"}


def previewed(change: RecordChange) -> RecordChange:
    """The change as preview records it: what would be done, and no placeholder id."""
    placeholder = bool(change.id and change.id.startswith(PLACEHOLDER))
    return change.model_copy(
        update={
            "action": WOULD.get(change.action, change.action),
            "id": None if placeholder else change.id,
            "url": None if placeholder else change.url,
        }
    )


class PreviewLedger:
    """``ports.Ledger`` recording each step's changes as would-be changes; reads and outcomes pass through."""

    def __init__(self, inner: Ledger) -> None:
        self._inner = inner

    def record_step(self, call_key: str, report: StepReport) -> None:
        shown = report.model_copy(update={"changes": [previewed(c) for c in report.changes]})
        self._inner.record_step(call_key, shown)

    def record_outcome(self, call_key: str, outcome: Outcome) -> None:
        self._inner.record_outcome(call_key, outcome)

    def entries(self, call_key: str) -> list[LedgerEntry]:
        return self._inner.entries(call_key)

    def history(self, org_id: str, call_id: str) -> CallHistory:
        return self._inner.history(org_id, call_id)


class PreviewClaims:
    """``ports.Claims`` that reads the org-wide claims and takes, resolves or releases none."""

    def __init__(self, inner: Claims) -> None:
        self._inner = inner

    def claim(self, key: str, owner: str, *, ttl_seconds: int = 3600) -> str:
        held = self._inner.get(key)
        return str(held["owner"]) if held and held.get("value") is not None else owner

    def take(self, key: str, owner: str, *, ttl_seconds: int) -> ClaimTaken:
        held = self._inner.get(key)
        if held and held.get("value") is not None and held.get("owner") != owner:
            resolved_at = held.get("resolved_at")
            return ClaimTaken(
                holder=str(held["owner"]),
                value=str(held["value"]),
                resolved_at=None if resolved_at is None else float(resolved_at),
            )
        return ClaimTaken(holder=owner)

    def resolve(self, key: str, value: str, *, ttl_seconds: int | None = None) -> None:
        return None

    def forget(self, key: str, value: str) -> None:
        return None

    def get(self, key: str) -> dict[str, Any] | None:
        return self._inner.get(key)

    def release(self, key: str, owner: str) -> None:
        return None


class PreviewPeopleWriter:
    """People lookups go to Salesforce; ``create`` answers each record saved under a placeholder id."""

    def __init__(self, inner: PeopleWriter) -> None:
        self._inner = inner

    def find_accounts(self, domains: list[str], names: list[str]) -> list[AccountInfo]:
        return self._inner.find_accounts(domains, names)

    def find_people(self, emails: list[str]) -> dict[str, tuple[str, str]]:
        return self._inner.find_people(emails)

    def create(self, records: list[NewRecord]) -> list[SaveOutcome]:
        return [SaveOutcome(success=True, id=f"{PLACEHOLDER}{r.object}:{i}") for i, r in enumerate(records, 1)]


class PreviewFieldStore:
    """Field reads go to Salesforce; ``write`` answers every write saved (a create without an id)."""

    def __init__(self, inner: FieldStore) -> None:
        self._inner = inner

    @property
    def instance_url(self) -> str:
        return self._inner.instance_url

    @property
    def integration_user_id(self) -> str | None:
        return self._inner.integration_user_id

    @property
    def api_requests(self) -> int:
        return self._inner.api_requests

    def read(self, reads: Sequence[RecordRead]) -> dict[str, ReadOutcome]:
        return self._inner.read(reads)

    def write(self, writes: Sequence[RecordWrite]) -> dict[str, WriteOutcome]:
        return {w.key: WriteOutcome(record_id=w.record_id) for w in writes}


class PreviewActivityStore:
    """Activity lookups go to Salesforce; ``write`` answers every part saved (a create without an id)."""

    def __init__(self, inner: ActivityStore) -> None:
        self._inner = inner

    @property
    def instance_url(self) -> str:
        return self._inner.instance_url

    @property
    def api_requests(self) -> int:
        return self._inner.api_requests

    @property
    def integration_user_id(self) -> str | None:
        return self._inner.integration_user_id

    def lookup(self, request: LookupRequest) -> LookupResult:
        return self._inner.lookup(request)

    def write(self, plan: ActivityWritePlan) -> ActivityWriteOutcome:
        return ActivityWriteOutcome(
            activity=SaveResult(plan.activity.id, True) if plan.activity is not None else None,
            relations={contact_id: SaveResult(None, True) for contact_id in plan.relations},
            note=SaveResult(plan.note.id, True) if plan.note is not None else None,
            note_links={entity_id: SaveResult(None, True) for entity_id in plan.note_links},
            follow_ups={str(w.key): SaveResult(w.id, True) for w in plan.follow_ups},
        )


class PreviewCreateContacts(CreateContacts):
    """CreateContacts whose would-be-created people leave the step without an id."""

    def run(self, state: SyncState) -> ContactsResult:
        result = super().run(state)
        result.created = [
            p.model_copy(update={"id": None}) if p.id and p.id.startswith(PLACEHOLDER) else p for p in result.created
        ]
        return result
