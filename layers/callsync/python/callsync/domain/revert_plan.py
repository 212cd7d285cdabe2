"""What ``callsync revert`` puts back, and what it leaves alone: pure rules over the ledger and Salesforce.

From the call's typed ledger (every revision, every step) ``written_records`` gathers each record callsync
created or updated, with the chain of values it wrote to each field. ``plan_revert`` then compares them with
the records as Salesforce has them now (docs/operations.md, "revert"):

- A field callsync updated goes back to the value it had before callsync's first write of an unbroken chain
  of writes (a later write whose ``before`` is not the earlier ``after`` starts a new chain: someone changed
  the field in between, and that value is what it goes back to). It is reverted only when its current value
  is still callsync's last ``after``; otherwise it is kept, with the value found.
- A text field holding the call's marked entry (``field_revisions``) that others wrote to since (or whose
  value before already held an earlier revision's entry) loses only that entry, with one separator; the
  rest stays byte for byte (policy ``REMOVE_ENTRY``). An entry someone edited is kept with the field. A created
  record that is kept loses the call's entries the same way and keeps its other values.
- A record callsync created is deleted only when it is still as callsync left it: its ``LastModifiedById``
  is still its creator (callsync's integration user) and every field callsync wrote still has that value.
  A Contact or Lead is also kept when another record that stays (a Task or Event, a contact role, a
  relation) points at it. Relations and note links go with their activity or note when those are deleted.
- What is already as it was before (a record already deleted, a value already restored) counts as reverted
  without a write, so a second revert writes nothing more and reports the same.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from callsync.domain.field_revisions import call_mark, holds_entry, without_own_entry
from callsync.domain.field_targets import fields_lease_key, via_of_key
from callsync.models.ledger import CallHistory, FieldChange, RecordChange, RecordRole, ledger_value

# Steps whose reports say what was written (MatchOpportunity writes nothing; deliveries are not steps).
READ_ONLY_STEPS = frozenset({"MatchOpportunity"})
REVERT_STEP = "Revert"
REASSOCIATE_STEP = "Reassociate"
# Steps recorded after the pipeline's own at the same revision (a revert, a move), in this order.
AFTER_PIPELINE = (REVERT_STEP, REASSOCIATE_STEP)
# The step name of a pipeline step's report kept as it was before ``callsync reassociate`` ran that revision
# again (``"<step> (before reassociate <n>)"``, ``StepReport.archived``): it keeps what the first run created.
BEFORE_MOVE = " (before reassociate "
PEOPLE = frozenset({"Contact", "Lead"})
# Objects without CreatedById/LastModifiedById: ContentDocumentLink has ContentDocumentId, LinkedEntityId,
# ShareType, Visibility, SystemModstamp (Object Reference, "ContentDocumentLink"; it supports retrieve/delete).
NO_AUDIT_FIELDS = frozenset({"ContentDocumentLink"})
# Fields whose ledger value is a summary, not the value written (ContentNote's body is kept as its size).
SUMMARY_FIELDS = frozenset({("ContentNote", "Content")})
# Long texts the ledger keeps shortened: ``models.ledger.ledger_value`` (head, length, tail) and the activity
# report's preview (head, length). Such a value can be recognised in Salesforce, not restored from the ledger.
_LEDGER_SHORT = re.compile(r"^(?P<head>.*)… \[(?P<length>\d+) characters\] …(?P<tail>.*)$", re.DOTALL)
_PREVIEW_SHORT = re.compile(r"^(?P<head>.*)… \((?P<length>\d+) characters\)$", re.DOTALL)
# The FieldChange.policy of a revert that took the call's entry out of a field (or found it already out):
# not a value to chain on, the call has no entry left there.
REMOVE_ENTRY = "remove_entry"
ENTRY_REMOVED = "the call's entry removed; the rest of the field kept"
PARENT_FIELDS = {"EventRelation": "EventId", "TaskRelation": "TaskId", "ContentDocumentLink": "ContentDocumentId"}


@dataclass
class FieldWrites:
    """The values callsync wrote to one field, oldest first: (before, after) pairs."""

    writes: list[tuple[Any, Any]] = field(default_factory=list)
    entry_removed: bool = False  # a revert took the call's entry out of the field after the last write

    @property
    def last_after(self) -> Any:
        return self.writes[-1][1]

    @property
    def restore_to(self) -> Any:
        """The ``before`` of the last unbroken chain of writes (see module doc)."""
        value = self.writes[-1][0]
        for i in range(len(self.writes) - 1, 0, -1):
            if not same_value(self.writes[i][0], self.writes[i - 1][1]):
                break
            value = self.writes[i - 1][0]
        return value


@dataclass
class WrittenRecord:
    """One record callsync wrote for the call, as the ledger says."""

    object: str
    id: str
    role: RecordRole | None = None
    label: str | None = None
    url: str | None = None
    created: bool = False
    fields: dict[str, FieldWrites] = field(default_factory=dict)
    reverted_by_revert: bool = False  # a revert already deleted it (a created record)
    key: str | None = None  # the field-sync target (``field_targets.target_key``) of a ``fields`` record

    @property
    def parent_id(self) -> str | None:
        """The activity or note a relation / note link hangs on (from the values callsync wrote)."""
        name = PARENT_FIELDS.get(self.object)
        writes = self.fields.get(name) if name else None
        return str(writes.last_after) if writes is not None and writes.last_after else None

    @property
    def via_field(self) -> str | None:
        """The lookup a via-record of field sync hangs on its Opportunity/Account by (``Opportunity__c``)."""
        via = via_of_key(self.key) if self.role == "fields" else None
        return via[1] if via else None

    def compared_fields(self) -> list[str]:
        """Fields whose value callsync wrote and the ledger holds in full (comparable with Salesforce's)."""
        return [name for name, writes in self.fields.items() if (self.object, name) not in SUMMARY_FIELDS]

    def read_fields(self) -> list[str]:
        """What to read of the record now: audit fields and the fields callsync wrote."""
        audit = [] if self.object in NO_AUDIT_FIELDS else ["CreatedById", "LastModifiedById"]
        wanted = self.compared_fields() if self.created else list(self.fields)
        parent = [self.via_field] if self.via_field else []
        return list(dict.fromkeys(["Id", *audit, *wanted, *parent]))


@dataclass(frozen=True)
class RecordRef:
    """A record to read back: its object, id and the fields to select."""

    object: str
    id: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Usage:
    """A record that points at a person (a Task/Event's WhoId, a contact role, a relation)."""

    object: str
    id: str
    person_id: str
    parent_id: str | None = None  # a relation's activity


@dataclass
class CurrentState:
    """Salesforce now: each asked record's values (None: deleted or not visible), and who uses the people."""

    records: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    usages: list[Usage] = field(default_factory=list)


@dataclass
class RevertPlan:
    """The writes to send and the report's changes (``reverted`` / ``kept``, each with why)."""

    updates: list[dict[str, Any]] = field(default_factory=list)  # sObject Collections records
    deletes: list[str] = field(default_factory=list)  # record ids, people last
    changes: list[RecordChange] = field(default_factory=list)

    @property
    def kept(self) -> list[RecordChange]:
        return [c for c in self.changes if c.action == "kept"]


def _short_form(value: Any) -> re.Match[str] | None:
    if not isinstance(value, str):
        return None
    return _LEDGER_SHORT.match(value) or _PREVIEW_SHORT.match(value)


def shortened(value: Any) -> bool:
    """True for a long text the ledger keeps shortened (it cannot be written back from the ledger)."""
    return _short_form(value) is not None


def still_written(current: Any, written: Any) -> bool:
    """Salesforce's ``current`` value is still what callsync wrote (``written``, as the ledger keeps it)."""
    short = _short_form(written)
    if short is None:
        return same_value(current, written)
    tail = short.groupdict().get("tail") or ""
    return (
        isinstance(current, str)
        and len(current) == int(short["length"])
        and current.startswith(short["head"])
        and current.endswith(tail)
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    text = value.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def same_value(a: Any, b: Any) -> bool:
    """Salesforce's value and the ledger's are the same (empty = None; numbers, datetimes and
    multi-select picklists compared by meaning, not by spelling)."""
    if a in (None, "") and b in (None, ""):
        return True
    if a == b:
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).lower() == str(b).lower()
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na == nb
    ia, ib = _instant(a), _instant(b)
    if ia is not None and ib is not None and ia.tzinfo is not None and ib.tzinfo is not None:
        return ia == ib
    if isinstance(a, str) and isinstance(b, str) and (";" in a or ";" in b):
        return {p.strip() for p in a.split(";") if p.strip()} == {p.strip() for p in b.split(";") if p.strip()}
    return False


def _report_order(history: CallHistory) -> list[tuple[int, str, list[RecordChange]]]:
    """(revision, step, changes) of every step report, in the order they were written."""
    out: list[tuple[int, int, str, list[RecordChange]]] = []
    for entry in history.entries:
        report = entry.report
        if report is None or entry.delivery is not None or report.step in READ_ONLY_STEPS:
            continue
        after = AFTER_PIPELINE.index(report.step) + 1 if report.step in AFTER_PIPELINE else 0
        after = -1 if report.archived else after
        out.append((entry.revision or 0, after, report.step, report.changes))
    out.sort(key=lambda r: (r[0], r[1]))
    return [(revision, step, changes) for revision, _, step, changes in out]


def written_records(history: CallHistory) -> list[WrittenRecord]:
    """Every record callsync created or updated for the call (all revisions), with its field writes.

    A revert's own reverted values count as writes too, so a later revision's write chains on from them.
    """
    records: dict[str, WrittenRecord] = {}
    for _revision, step, changes in _report_order(history):
        for change in changes:
            if not change.id or change.role == "association":
                continue
            known = records.get(change.id)
            if step in AFTER_PIPELINE and change.action in ("reverted", "kept"):
                if known is not None and change.action == "reverted":
                    if known.created and not change.fields:
                        known.reverted_by_revert = True
                    for fc in change.fields:
                        writes = known.fields.setdefault(fc.field, FieldWrites())
                        if fc.policy == REMOVE_ENTRY:
                            writes.entry_removed = True
                        else:
                            writes.writes.append((fc.before, fc.after))
                continue
            if change.action not in ("created", "updated") or (step in AFTER_PIPELINE and change.action == "created"):
                continue
            if known is None:
                known = records[change.id] = WrittenRecord(object=change.object, id=change.id)
            known.role = change.role or known.role
            known.key = change.key if change.role == "fields" and change.key else known.key
            known.label = change.label or known.label
            known.url = change.url or known.url
            if change.action == "created":
                known.created = True
            for fc in change.fields:
                if fc.after is None and fc.before is None:
                    continue
                writes = known.fields.setdefault(fc.field, FieldWrites())
                writes.writes.append((fc.before, fc.after))
                writes.entry_removed = False
    return list(records.values())


def records_to_read(records: Sequence[WrittenRecord]) -> list[RecordRef]:
    return [RecordRef(r.object, r.id, tuple(r.read_fields())) for r in records]


def people_ids(records: Sequence[WrittenRecord]) -> list[str]:
    """The Contacts and Leads callsync created for the call (their usage decides whether they go)."""
    return [r.id for r in records if r.created and r.object in PEOPLE]


def _created_reason(record: WrittenRecord, current: Mapping[str, Any]) -> str | None:
    """Why a created record may not be deleted, or None when it is as callsync left it."""
    creator, modifier = current.get("CreatedById"), current.get("LastModifiedById")
    if record.object not in NO_AUDIT_FIELDS and creator and modifier and modifier != creator:
        return f"modified by {modifier} since callsync created it"
    for name in record.compared_fields():
        if name in current and not still_written(current[name], record.fields[name].last_after):
            return f"{name} changed since callsync wrote it (now {_show(current[name])})"
    return None


def _show(value: Any) -> str:
    text = "empty" if value in (None, "") else repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _change(record: WrittenRecord, action: str, note: str | None, fields: list[FieldChange]) -> RecordChange:
    return RecordChange.model_validate(
        {
            "action": action,
            "object": record.object,
            "id": record.id,
            "url": record.url,
            "label": record.label,
            "role": record.role,
            "note": note,
            "fields": fields,
        }
    )


def plan_revert(records: Sequence[WrittenRecord], now: CurrentState, call_id: str | None = None) -> RevertPlan:
    """The revert of ``records`` against Salesforce's current state (rules: module doc); ``call_id`` finds
    the call's marked text entries (``field_revisions.call_mark``)."""
    plan = RevertPlan()
    mark = call_mark(call_id) if call_id else None
    created = [r for r in records if r.created]
    deleting: dict[str, WrittenRecord] = {}
    kept_created: set[str] = set()
    # Activities, notes, follow-ups and other created records first; then what hangs on them; people last.
    ordered = sorted(created, key=lambda r: (r.object in PEOPLE, r.object in PARENT_FIELDS))
    for record in ordered:
        current = now.records.get(record.id)
        if current is None:
            note = "already deleted" if record.reverted_by_revert else "already deleted (not by callsync)"
            plan.changes.append(_change(record, "reverted", note, []))
            continue
        parent = record.parent_id
        if record.object in PARENT_FIELDS and parent in deleting:
            plan.changes.append(_change(record, "reverted", f"removed with {deleting[parent].object} {parent}", []))
            continue
        if record.object in PARENT_FIELDS and parent in kept_created:
            plan.changes.append(_change(record, "kept", f"its {_parent_object(records, parent)} {parent} is kept", []))
            continue
        reason = _created_reason(record, current)
        if reason is None and record.object in PEOPLE:
            reason = _used_by(record.id, now.usages, set(deleting))
        if reason is not None:
            kept_created.add(record.id)
            plan.changes.append(_change(record, "kept", reason, []))
            _plan_fields(record, current, plan, mark, only_entries=True)
            continue
        deleting[record.id] = record
        plan.deletes.append(record.id)
        plan.changes.append(_change(record, "reverted", "deleted", []))
    for record in records:
        if not record.created:
            _plan_fields(record, now.records.get(record.id), plan, mark, only_entries=False)
    return plan


def _parent_object(records: Iterable[WrittenRecord], record_id: str | None) -> str:
    return next((r.object for r in records if r.id == record_id), "record")


def _used_by(person_id: str, usages: Iterable[Usage], deleting: set[str]) -> str | None:
    for usage in usages:
        if usage.person_id != person_id or usage.id in deleting or (usage.parent_id and usage.parent_id in deleting):
            continue
        return f"used by {usage.object} {usage.parent_id or usage.id}, which callsync did not create for this call"
    return None


def _plan_fields(
    record: WrittenRecord, current: dict[str, Any] | None, plan: RevertPlan, mark: str | None, *, only_entries: bool
) -> None:
    """The fields of an updated record back to their value before the call; a text field others wrote to
    since loses only the call's own entry. ``only_entries``: a created record that stays keeps its values and
    loses only the call's entries."""
    if current is None:
        plan.changes.append(_change(record, "kept", "the record is deleted or no longer visible", []))
        return
    reverted: list[FieldChange] = []
    kept: list[FieldChange] = []
    values: dict[str, Any] = {}
    for name, writes in record.fields.items():
        now_value = current.get(name)
        if writes.entry_removed:
            shown = ledger_value(now_value)
            reverted.append(FieldChange(field=name, before=shown, after=shown, policy=REMOVE_ENTRY,
                                        note="the call's entry already removed"))  # fmt: skip
            continue
        target = writes.restore_to
        others_wrote = not still_written(now_value, writes.last_after)
        # Others wrote to the field since, or its value before holds the call's own entry (an earlier revision's,
        # when others wrote between the revisions): only the call's entry goes.
        by_entry = mark is not None and (others_wrote or holds_entry(target, mark))
        rest = without_own_entry(now_value, target, writes.last_after, mark) if mark and by_entry else None
        if rest is not None:
            values[name] = rest
            reverted.append(FieldChange(field=name, before=ledger_value(now_value), after=ledger_value(rest),
                                        policy=REMOVE_ENTRY, note=ENTRY_REMOVED))  # fmt: skip
        elif only_entries:
            continue
        elif not shortened(target) and same_value(now_value, target):
            reverted.append(
                FieldChange(field=name, before=ledger_value(now_value), after=target, note="already as before")
            )
        elif others_wrote:
            kept.append(
                FieldChange(
                    field=name,
                    before=ledger_value(now_value),
                    after=ledger_value(now_value),
                    note="changed since callsync wrote it",
                )
            )
        elif shortened(target):
            note = "its earlier value is too long to restore from the ledger"
            kept.append(
                FieldChange(field=name, before=ledger_value(now_value), after=ledger_value(now_value), note=note)
            )
        else:
            values[name] = target
            reverted.append(FieldChange(field=name, before=ledger_value(now_value), after=target))
    if values:
        plan.updates.append({"attributes": {"type": record.object}, "Id": record.id, **values})
    if reverted:
        plan.changes.append(_change(record, "reverted", None, reverted))
    if kept:
        why = "; ".join(f"{f.field}: {f.note}" for f in kept)
        plan.changes.append(_change(record, "kept", why, kept))


def parent_ids(history: CallHistory) -> list[str]:
    """Every Opportunity and Account the call's ledger names (matched, chosen, written): the records a
    via-record of the call can hang on."""
    ids = [
        c.id
        for e in history.entries
        if e.report is not None
        for c in e.report.changes
        if c.id and c.object in ("Opportunity", "Account")
    ]
    return list(dict.fromkeys(ids))


def lease_keys(org_id: str, call_id: str, records: Iterable[WrittenRecord], parents: Iterable[str] = ()) -> list[str]:
    """The leases a revert or a move holds from its read to its write, the same the pipeline's writers take
    (docs/architecture.md), built by the function SyncFields uses (``field_targets.fields_lease_key``): each
    record callsync updated or created by its id (a created one may be deleted), each via-record by its
    parent (SyncFields leases it so, before it knows its id) for every Opportunity/Account in ``parents``,
    and the call's LogActivity lease."""
    keys: list[str] = []
    parent_list = list(parents)
    for record in records:
        if record.created or record.role == "fields":
            keys.append(fields_lease_key(org_id, record.object, record.id))
        via = via_of_key(record.key) if record.role == "fields" else None
        if via is not None:
            keys.extend(fields_lease_key(org_id, via[0], None, via[1], parent) for parent in parent_list)
    return [*dict.fromkeys(keys), f"log-activity#{org_id}#{call_id}"]
