"""LogActivity: what earlier attempts and revisions of the call wrote, from the typed ledger (no Salesforce request)."""

from __future__ import annotations

from dataclasses import dataclass, field

from callsync.models.event import CallProcessed
from callsync.models.ledger import CallHistory, StepReport
from callsync.ports.activity import (
    LookupResult,
)

STEP = "LogActivity"
PENDING = "in progress: an attempt started writing to Salesforce and has not finished"
REVISIONS_BACK = 10
REUSED = "reused"  # the activity change's key when callsync did not create the record (a calendar Event, ...)
KEPT = "kept"  # a field change's policy when a person's value was kept (nothing was written)
WRITTEN_FIELDS = ("WhatId", "WhoId")  # the last value callsync wrote of these is remembered (a person's edit)


@dataclass
class PriorWrites:
    """What the ledger says earlier attempts for this call wrote."""

    revision: int | None = None  # revision of the latest finished entry
    pending: bool = False  # a later attempt started and did not finish
    activity: tuple[str, str] | None = None  # (object, id)
    activity_reused: bool = False  # the activity is not callsync's own: only its Description section is
    written: dict[str, object] = field(default_factory=dict)  # WRITTEN_FIELDS: the last value callsync sent
    relations: set[str] = field(default_factory=set)  # contact ids attached by relation records
    note_id: str | None = None
    note_links: set[str] = field(default_factory=set)
    follow_ups: dict[str, str] = field(default_factory=dict)  # key -> Task id
    report: StepReport | None = None

    @classmethod
    def from_history(cls, history: CallHistory, call: CallProcessed) -> PriorWrites:
        """What the latest report of this step, for this revision or an earlier one, says was written."""
        prior = cls()
        for revision in range(call.revision, max(0, call.revision - REVISIONS_BACK), -1):
            report = history.step(revision, STEP)
            if report is None:
                continue
            if report.progress == "pending":
                prior.pending = True  # may have written; its snapshot is what was known before it
                if not report.changes:
                    continue
            else:
                prior.revision = revision
            prior.report = report
            prior._read(report)
            break
        prior.written = last_written(history, call)
        return prior

    def with_report(self, report: StepReport) -> PriorWrites:
        """This knowledge plus what ``report`` says an earlier round of this attempt saved."""
        merged = PriorWrites(
            revision=self.revision,
            pending=self.pending,
            activity=self.activity,
            activity_reused=self.activity_reused,
            written=dict(self.written),
            relations=set(self.relations),
            note_id=self.note_id,
            note_links=set(self.note_links),
            follow_ups=dict(self.follow_ups),
            report=StepReport(
                step=STEP, progress="pending", changes=[*(self.report.changes if self.report else []), *report.changes]
            ),
        )
        merged._read(report)
        return merged

    def without(self, gone: set[str]) -> PriorWrites:
        """The same knowledge minus records found deleted."""
        return PriorWrites(
            revision=self.revision,
            pending=self.pending,
            activity=self.activity if self.activity and self.activity[1] not in gone else None,
            activity_reused=self.activity_reused and bool(self.activity and self.activity[1] not in gone),
            written=dict(self.written),
            relations=set(self.relations),
            note_id=self.note_id if self.note_id not in gone else None,
            note_links=set(self.note_links) if self.note_id not in gone else set(),
            follow_ups={k: v for k, v in self.follow_ups.items() if v not in gone},
            report=self.report,
        )

    def _read(self, report: StepReport) -> None:
        for change in report.with_role("activity"):
            if change.id:
                self.activity = (change.object, change.id)
                self.activity_reused = change.key == REUSED
        for change in report.with_role("follow_up"):
            if change.id and change.key:
                self.follow_ups[change.key] = change.id
        for change in report.with_role("note"):
            if change.id:
                self.note_id = change.id
        self.note_links.update(c.key for c in report.with_role("note_link") if c.key)
        self.relations.update(c.key for c in report.with_role("relation") if c.key)


def last_written(history: CallHistory, call: CallProcessed) -> dict[str, object]:
    """The last value callsync sent of each of ``WRITTEN_FIELDS`` on the activity, over the revisions up to this one."""
    written: dict[str, object] = {}
    for revision in range(call.revision, max(0, call.revision - REVISIONS_BACK), -1):
        report = history.step(revision, STEP)
        if report is None:
            continue
        for change in report.with_role("activity"):
            for fc in change.fields:
                if fc.field in WRITTEN_FIELDS and fc.field not in written and fc.policy != KEPT:
                    written[fc.field] = fc.after
    return written


def newer_revision_logged(history: CallHistory, call: CallProcessed) -> int | None:
    """A later revision of this call whose LogActivity finished (the ledger; no Salesforce request)."""
    for revision in history.revisions():
        report = history.step(revision, STEP)
        if revision > call.revision and report is not None and report.progress == "finished":
            return revision
    return None


def lookup_without(lookup: LookupResult | None, gone: set[str]) -> LookupResult | None:
    if lookup is None or not gone:
        return lookup
    return LookupResult(
        activities=[r for r in lookup.activities if str(r.get("Id")) not in gone],
        follow_ups=[r for r in lookup.follow_ups if str(r.get("Id")) not in gone],
        note_links=[r for r in lookup.note_links if str(r.get("ContentDocumentId")) not in gone],
        activities_queried=lookup.activities_queried,
    )
