"""Which explicit association a call has, if any: ``crm_overrides`` from upstream or ``callsync reassociate``.

Both are a person's choice, and both win over the automatic match (docs/matching.md, "Manual association").
When both exist, **the latest choice wins**:

- a ``callsync reassociate`` is chosen when it was recorded (its ``Reassociate`` ledger entry);
- a ``crm_overrides`` is chosen with the first revision whose event carried that value: upstream repeating
  the same override in later revisions is not a new choice, a different value is. The override change keeps
  that moment (field ``chosen_at``), so a re-run of a revision (a replay, the run of ``callsync reassociate``)
  does not make an old override new.

Every revision's MatchOpportunity records the event's override (whichever choice wins) and the association it
applied as ledger changes with role ``association`` (key ``crm_overrides`` / ``applied``), so later revisions
keep the choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from callsync.models.event import CallProcessed
from callsync.models.ledger import CallHistory, FieldChange, RecordChange

AssociationSource = Literal["crm_overrides", "reassociate"]
MATCH_STEP = "MatchOpportunity"
REASSOCIATE_STEP = "Reassociate"
OVERRIDE_KEY = "crm_overrides"  # the event's override, as MatchOpportunity saw it
APPLIED_KEY = "applied"  # the association MatchOpportunity applied
MOVED_KEY = "reassociate"  # the choice ``callsync reassociate`` recorded
CHOSEN_AT = "chosen_at"  # the override change's field: when upstream first chose it (ISO, the ledger's clock)


@dataclass(frozen=True)
class Association:
    object: Literal["Opportunity", "Account"]
    id: str
    source: AssociationSource
    chosen_at: str  # ISO timestamp (the ledger's recorded_at, or now)

    @property
    def target(self) -> tuple[str, str]:
        return (self.object, self.id)


def override_of(call: CallProcessed) -> tuple[Literal["Opportunity", "Account"], str] | None:
    """The event's manual association: its Opportunity when given (its Account follows), else its Account."""
    overrides = call.crm_overrides
    if overrides is None:
        return None
    if overrides.opportunity_id:
        return ("Opportunity", overrides.opportunity_id)
    if overrides.account_id:
        return ("Account", overrides.account_id)
    return None


def association_change(association: Association, key: str, *, label: str | None = None) -> RecordChange:
    """The ledger change that stores an association (``role = association``), with when it was chosen."""
    return RecordChange(
        fields=[FieldChange(field=CHOSEN_AT, after=association.chosen_at)] if association.chosen_at else [],
        action="unchanged",
        object=association.object,
        id=association.id,
        label=label,
        role="association",
        key=key,
        note=f"chosen by hand ({association.source})",
    )


def _as_target(change: RecordChange) -> tuple[Literal["Opportunity", "Account"], str] | None:
    if change.id and change.object in ("Opportunity", "Account"):
        return ("Opportunity" if change.object == "Opportunity" else "Account", change.id)
    return None


def _chosen_at(change: RecordChange, recorded_at: str) -> str:
    """When the override a MatchOpportunity report names was chosen: its stamp, else the report's time."""
    stamp = next((f.after for f in change.fields if f.field == CHOSEN_AT), None)
    return str(stamp) if stamp else recorded_at


def override_choice(history: CallHistory, call: CallProcessed, now: str) -> Association | None:
    """The event's ``crm_overrides`` of ``call`` as a choice, stamped with when upstream first chose it.

    A value counts from the first revision in a row whose event carried it (its MatchOpportunity report keeps
    that stamp, so a re-run of a revision does not make an old override new); a different value is new (``now``).
    """
    previous: Target | None = None
    previous_at = ""
    for seen, at in _recorded_overrides(history, call):
        if seen != previous:
            previous, previous_at = seen, at
    current = override_of(call)
    if current is None:
        return None
    return Association(current[0], current[1], "crm_overrides", previous_at if current == previous else now)


Target = tuple[Literal["Opportunity", "Account"], str]


def _recorded_overrides(history: CallHistory, call: CallProcessed) -> list[tuple[Target | None, str]]:
    """Per revision up to ``call``'s, in order: (the override its MatchOpportunity saw, when it was chosen)."""
    out: list[tuple[Target | None, str]] = []
    for revision in history.revisions():
        if revision > call.revision:
            break
        entry = next(
            (e for e in history.entries if e.revision == revision and e.report and e.report.step == MATCH_STEP), None
        )
        if entry is None or entry.report is None:
            continue
        change = next((c for c in entry.report.changes if c.role == "association" and c.key == OVERRIDE_KEY), None)
        seen = _as_target(change) if change is not None else None
        out.append((seen, _chosen_at(change, entry.recorded_at or "") if change else ""))
    return out


def explicit_association(history: CallHistory, call: CallProcessed, now: str) -> Association | None:
    """The association that wins for this run of ``call`` (rules: module doc), or None (automatic match)."""
    choices: list[Association] = []
    # crm_overrides of earlier revisions (and of an earlier attempt of this one), each from when it was chosen.
    previous: Target | None = None
    previous_at = ""
    for seen, at in _recorded_overrides(history, call):
        if seen != previous:
            previous, previous_at = seen, at
        if seen is not None:
            choices.append(Association(seen[0], seen[1], "crm_overrides", previous_at))
    current = override_choice(history, call, now)
    if current is not None:
        choices.append(current)
    for entry in history.entries:
        if entry.report is None or entry.report.step != REASSOCIATE_STEP:
            continue
        for change in entry.report.changes:
            target = _as_target(change) if change.role == "association" and change.key == MOVED_KEY else None
            if target is not None:
                choices.append(Association(target[0], target[1], "reassociate", entry.recorded_at or ""))
    if not choices:
        return None
    return max(choices, key=lambda a: a.chosen_at)
