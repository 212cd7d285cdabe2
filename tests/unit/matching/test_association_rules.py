"""Manual association rules (``domain.association``, ``domain.matching.apply_association``): the latest explicit
choice wins, a repeated crm_overrides is not a new choice, a missing record falls back to the automatic match."""

from __future__ import annotations

from typing import Any

from callsync.domain.association import MOVED_KEY, OVERRIDE_KEY, Association, association_change, explicit_association
from callsync.domain.matching import apply_association
from callsync.models.ledger import CallHistory, LedgerEntry, StepReport
from callsync.models.match import AccountInfo, MatchResult, OpportunityInfo

from tests.unit.matching.matching_builders import make_call

X, Y, Z = "0065g0000000001AAA", "0065g0000000002AAA", "0065g0000000003AAA"
ACCOUNT = "0015g0000000001AAA"
PEOPLE = [{"email": "alice@ourco.com"}, {"email": "jane@globex.com"}]


def call(revision: int, override: str | None = None) -> Any:
    extra: dict[str, Any] = {"revision": revision}
    if override:
        extra["crm_overrides"] = {"opportunity_id": override}
    return make_call(PEOPLE, **extra)


def entry(revision: int, step: str, at: str, target: str, key: str) -> LedgerEntry:
    change = association_change(Association("Opportunity", target, "crm_overrides", at), key)
    return LedgerEntry(
        call_key=f"acme#c1#{revision}",
        revision=revision,
        recorded_at=at,
        report=StepReport(step=step, changes=[change]),
    )


def test_a_reassociation_after_an_override_wins_and_a_repeated_override_does_not_undo_it() -> None:
    # Given revision 1 carried crm_overrides X, then a person reassociated the call to Y
    history = CallHistory(
        entries=[
            entry(1, "MatchOpportunity", "2026-06-03T10:00:00.000Z", X, OVERRIDE_KEY),
            entry(1, "Reassociate", "2026-06-04T10:00:00.000Z", Y, MOVED_KEY),
        ]
    )
    # When revision 2 arrives still carrying the same override X
    chosen = explicit_association(history, call(2, X), "2026-06-05T10:00:00.000Z")
    # Then the reassociation (the latest choice) stands
    assert chosen is not None and (chosen.id, chosen.source) == (Y, "reassociate")
    # When revision 2 carries a different override Z / Then that new choice wins
    newer = explicit_association(history, call(2, Z), "2026-06-05T10:00:00.000Z")
    assert newer is not None and (newer.id, newer.source) == (Z, "crm_overrides")


def test_without_any_choice_the_match_is_automatic_and_an_earlier_override_is_kept() -> None:
    assert explicit_association(CallHistory(), call(1), "2026-06-05T10:00:00.000Z") is None
    history = CallHistory(entries=[entry(1, "MatchOpportunity", "2026-06-03T10:00:00.000Z", X, OVERRIDE_KEY)])
    kept = explicit_association(history, call(2), "2026-06-05T10:00:00.000Z")
    assert kept is not None and kept.id == X


def test_a_chosen_account_keeps_the_automatic_deal_only_when_it_is_that_accounts() -> None:
    # Given the automatic match found an Opportunity of another Account
    result = MatchResult(opportunity=OpportunityInfo(id=X, account_id="0015g0000000009AAA"))
    # When the call is associated by hand with ACCOUNT
    warning = apply_association(
        result, ("Account", ACCOUNT), "reassociate", None, AccountInfo(id=ACCOUNT, name="Globex")
    )
    # Then the call has that Account and no Opportunity
    assert warning is None and result.account is not None and result.account.id == ACCOUNT
    assert result.opportunity is None and result.reason == "Globex: chosen by hand (reassociate)"


def test_a_chosen_record_that_was_not_found_leaves_the_automatic_match_with_a_warning() -> None:
    result = MatchResult(opportunity=OpportunityInfo(id=X), reason="automatic")
    warning = apply_association(result, ("Opportunity", Y), "crm_overrides", None, None)
    assert warning == (
        f"crm_overrides: Opportunity {Y} does not exist or is not visible to the integration user; "
        "the call was matched automatically instead"
    )
    assert result.opportunity is not None and result.opportunity.id == X and result.reason == "automatic"


def test_running_the_same_revision_again_after_a_reassociation_keeps_the_reassociation() -> None:
    # Given revision 1 carried crm_overrides X, and a person then reassociated the call to Y
    history = CallHistory(
        entries=[
            entry(1, "MatchOpportunity", "2026-06-03T10:00:00.000Z", X, OVERRIDE_KEY),
            entry(1, "Reassociate", "2026-06-04T10:00:00.000Z", Y, MOVED_KEY),
        ]
    )
    # When revision 1 runs again (the move's own run, or a replay) with its override X
    chosen = explicit_association(history, call(1, X), "2026-06-05T10:00:00.000Z")
    # Then Y stands: the override X is the same choice as before, older than the reassociation
    assert chosen is not None and chosen.id == Y
