"""Which explicit association a call has, if any: ``crm_overrides`` from upstream or ``callsync reassociate``.

Both are a person's choice, and both win over the automatic match (docs/matching.md, "Manual association").
When both exist, **the latest choice wins**:

- a ``callsync reassociate`` is chosen when it was recorded (its ``Reassociate`` ledger entry);
- a ``crm_overrides`` is chosen with the first revision whose event carried that value: upstream repeating
  the same override in later revisions is not a new choice, a different value is.

Every revision's MatchOpportunity records the event's override and the association it applied as ledger
changes with role ``association`` (key ``crm_overrides`` / ``applied``), so later revisions keep the choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from callsync.models.event import CallProcessed
from callsync.models.ledger import CallHistory, RecordChange

AssociationSource = Literal["crm_overrides", "reassociate"]
MATCH_STEP = "MatchOpportunity"
REASSOCIATE_STEP = "Reassociate"
OVERRIDE_KEY = "crm_overrides"  # the event's override, as MatchOpportunity saw it
APPLIED_KEY = "applied"  # the association MatchOpportunity applied
MOVED_KEY = "reassociate"  # the choice ``callsync reassociate`` recorded


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
    """The ledger change that stores an association (``role = association``)."""
    return RecordChange(
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


def explicit_association(history: CallHistory, call: CallProcessed, now: str) -> Association | None:
    """The association that wins for this run of ``call`` (rules: module doc), or None (automatic match)."""
    choices: list[Association] = []
    # crm_overrides of earlier revisions (and of an earlier attempt of this one): a value counts from the first
    # revision in a row that carried it.
    previous: tuple[str, str] | None = None
    previous_at = ""
    for revision in history.revisions():
        if revision > call.revision:
            break
        entry = next(
            (e for e in history.entries if e.revision == revision and e.report and e.report.step == MATCH_STEP), None
        )
        if entry is None or entry.report is None:
            continue
        seen = next(
            (_as_target(c) for c in entry.report.changes if c.role == "association" and c.key == OVERRIDE_KEY), None
        )
        if seen != previous:
            previous, previous_at = seen, entry.recorded_at or ""
        if seen is not None:
            choices.append(Association(seen[0], seen[1], "crm_overrides", previous_at))
    current = override_of(call)
    if current is not None:
        choices.append(
            Association(current[0], current[1], "crm_overrides", previous_at if current == previous else now)
        )
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
