"""Call text that looks like a composite reference: stored defused, found again in both forms."""

from __future__ import annotations

from callsync.domain.activity_plan import one_line
from callsync.domain.reference_text import defuse, restore, stored_forms


def test_text_is_stored_defused_and_read_back_as_the_call_had_it() -> None:
    # Given a title with a reference-like part / When stored and read back
    stored = defuse("Pricing @{activity.id} review")
    # Then what Salesforce holds is never a reference, and reads back as the call had it
    assert "@{" not in stored and restore(stored) == "Pricing @{activity.id} review"
    assert one_line(stored + "  ") == "Pricing @{activity.id} review"


def test_lookups_ask_for_both_forms_once() -> None:
    assert stored_forms(["a @{b}", "plain"]) == ["a @{b}", "a @\u200b{b}", "plain"]
