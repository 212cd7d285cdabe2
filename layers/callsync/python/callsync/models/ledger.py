"""What callsync changed in Salesforce, per call: the ledger's vocabulary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field

# ``reverted``: put back as it was before callsync wrote it (values restored, a created record deleted, a link
# removed); ``kept``: left as it is by a revert or a re-association, the note says why. ``would_create`` /
# ``would_update``: preview mode's planned writes (nothing was sent).
RecordAction = Literal[
    "created", "updated", "unchanged", "reused", "skipped", "failed", "would_create", "would_update", "reverted", "kept"
]
# What a record is to the call, so a later attempt or revision finds its own records without reading prose.
# ``association``: the Opportunity/Account a call was explicitly associated with (``crm_overrides`` or
# ``callsync reassociate``), which later revisions keep.
RecordRole = Literal["activity", "follow_up", "note", "note_link", "relation", "fields", "person", "association"]
NOT_IN_SALESFORCE = frozenset({"failed", "skipped", "would_create", "would_update"})
StepProgress = Literal["pending", "finished"]
ConsumerStatus = Literal["STARTED", "SKIPPED", "DUPLICATE", "REJECTED"]


LEDGER_TEXT_CHARS = 4_000  # a longer text value is kept as its head and tail (a DynamoDB item holds 400 KB)


def ledger_value(value: Any) -> Any:
    """A field value as the ledger keeps it: long text as its first and last characters, with its length."""
    if isinstance(value, str) and len(value) > LEDGER_TEXT_CHARS:
        head, tail = value[: LEDGER_TEXT_CHARS // 2], value[-LEDGER_TEXT_CHARS // 4 :]
        return f"{head}… [{len(value)} characters] …{tail}"
    return value


class FieldChange(BaseModel):
    field: str
    before: Any = None
    after: Any = None
    policy: str | None = None  # the policy that decided (append, keep, union, ...)
    note: str | None = None  # truncated, dropped, hidden, read-only, ...


class RecordChange(BaseModel):
    action: RecordAction
    object: str
    id: str | None = None
    url: str | None = None  # {instance_url}/lightning/r/{Object}/{Id}/view
    label: str | None = None  # human name (Subject, Name, email)
    fields: list[FieldChange] = Field(default_factory=list)
    note: str | None = None  # for people: never read back by code
    role: RecordRole | None = None
    key: str | None = None  # within the role: a follow-up's key, a relation's or a note link's entity id


class SkippedFeature(BaseModel):
    """A feature a step did not run because the integration user lacks a permission it needs to save."""

    feature: str  # as doctor names it: "call activity", "notes", "task sync", "contact creation", ...
    subject: str  # "Event", "Event.StartDateTime"
    need: str  # "create", "createable", "read"
    fix: str | None = None


class StepReport(BaseModel):
    """One step's account of itself: what it wrote, what it skipped and why, what it cost.

    ``skipped_features`` names each feature that could not run for lack of a permission (its
    warning, with the fix, is in ``warnings`` too).

    ``progress`` is ``pending`` while an attempt is writing to Salesforce (its changes are what was
    known before it started) and ``finished`` once the report is final.
    """

    step: str
    progress: StepProgress = "finished"
    changes: list[RecordChange] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    api_requests: int = 0
    skipped_features: list[SkippedFeature] = Field(default_factory=list)
    # A pipeline step's report kept as it was before ``callsync reassociate`` ran its revision again (its own
    # step name, so it sits beside the new report): what the first run created, read by revert only.
    archived: bool = False

    def with_role(self, role: RecordRole) -> list[RecordChange]:
        """The changes of records in ``role`` that exist in Salesforce (not failed, skipped or only previewed)."""
        return [c for c in self.changes if c.role == role and c.action not in NOT_IN_SALESFORCE]


class DeliveryReport(StepReport):
    """The consumer's ledger entry for one delivered message (``step = "delivery#<message_id>"``)."""

    status: ConsumerStatus
    message_id: str
    reason: str | None = None
    error_type: str | None = None
    execution_name: str | None = None
    execution_arn: str | None = None
    org_id: str | None = None
    call_id: str | None = None
    revision: int | None = None
    receive_count: int = 1
    received_at: str


class Outcome(BaseModel):
    # PREVIEWED: preview mode, nothing was written; DEFERRED: held by the API budget guard (``reason``)
    status: Literal["SUCCEEDED", "FAILED", "PREVIEWED", "DEFERRED"]
    error: str | None = None  # error class name
    cause: str | None = None  # its message
    reason: str | None = None  # DEFERRED: why the call is held (the API budget guard's reason)
    execution_arn: str | None = None


class LedgerEntry(BaseModel):
    """One ledger entry of one revision of a call (``call_key`` = ``org#call#revision``), as a model.

    Exactly one of ``report`` (a step), ``delivery`` (the consumer) or ``outcome`` (how the run ended).
    """

    call_key: str
    revision: int | None = None
    recorded_at: str | None = None
    report: StepReport | None = None
    delivery: DeliveryReport | None = None
    outcome: Outcome | None = None

    @property
    def kind(self) -> Literal["step", "delivery", "outcome"]:
        return "outcome" if self.outcome is not None else "delivery" if self.delivery is not None else "step"

    @property
    def step(self) -> str | None:
        body = self.report or self.delivery
        return body.step if body is not None else None

    def as_json(self) -> dict[str, Any]:
        """The flat JSON shape ``callsync run --out`` lists: ``call_key``, ``sk``, ``kind``, the body's fields."""
        body = self.outcome or self.report or self.delivery
        assert body is not None
        sk = "outcome" if self.outcome is not None else f"step#{self.step}"
        kind = "outcome" if self.outcome is not None else "step"
        return {
            "call_key": self.call_key,
            "sk": sk,
            "kind": kind,
            "recorded_at": self.recorded_at,
            **body.model_dump(mode="json"),
        }


class CallHistory(BaseModel):
    """Every ledger entry of every revision of one call (one query), oldest revision first."""

    entries: list[LedgerEntry] = Field(default_factory=list)

    def step(self, revision: int, step: str) -> StepReport | None:
        """The report ``step`` recorded for ``revision``, if any."""
        return next(
            (
                e.report
                for e in self.entries
                if e.revision == revision and e.report is not None and e.report.step == step
            ),
            None,
        )

    def revisions(self) -> list[int]:
        return sorted({e.revision for e in self.entries if e.revision is not None})


def record_url(instance_url: str, object_name: str, record_id: str) -> str:
    return f"{instance_url.rstrip('/')}/lightning/r/{object_name}/{record_id}/view"


def record_url_or_none(instance_url: str | Callable[[], str], object_name: str, record_id: str) -> str | None:
    """``record_url`` from a URL or a getter of it; None when the instance URL is unknown (empty)."""
    base = instance_url() if callable(instance_url) else instance_url
    return record_url(base, object_name, record_id) if base else None
