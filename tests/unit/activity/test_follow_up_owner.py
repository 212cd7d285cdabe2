"""Who owns a follow-up: the assignee when an active User has the email, on the call or not."""

from __future__ import annotations

from activity_builders import BOB, HOST, make_call, make_match, user
from callsync.domain.follow_ups import assignee_emails, owner_fallbacks, plan_follow_ups
from callsync.models.match import Person

# ---- follow-up owners ----------------------------------------------------------------------------


def test_an_assignee_who_is_a_user_owns_the_follow_up_even_when_not_on_the_call() -> None:
    # Given an item assigned to Carol, an active User who was not on the call
    call = make_call(action_items=[{"text": "Loop in legal", "assignee_email": "Carol@OurCo.com"}])
    match = make_match(assignees=[Person(email="carol@ourco.com", object="User", id="005CAROL")])
    # When the follow-ups are planned
    (plan,) = plan_follow_ups(call, match)
    # Then Carol owns it, and nothing is reported as a fallback
    assert plan.owner_id == "005CAROL"
    assert "not on the call" in plan.owner_reason
    assert owner_fallbacks(call, match) == []


def test_an_assignee_on_the_call_owns_the_follow_up() -> None:
    call = make_call(action_items=[{"text": "Send pricing", "assignee_email": "bob@ourco.com"}])
    (plan,) = plan_follow_ups(call, make_match())
    assert plan.owner_id == BOB and plan.owner_reason == "the assignee"


def test_ownership_falls_back_to_the_host_and_the_report_says_why() -> None:
    # Given an item assigned to an address no active User has
    call = make_call(
        action_items=[{"text": "Send the questionnaire", "assignee_email": "raj@globex.com"}, {"text": "Book the demo"}]
    )
    match = make_match()
    # When planned
    first, second = plan_follow_ups(call, match)
    # Then the host owns it, and the reason names the assignee
    assert first.owner_id == HOST
    assert first.owner_reason == "the call host (the assignee raj@globex.com is no active Salesforce User)"
    # And the fallback is reported once, for the item that named an assignee only
    (line,) = owner_fallbacks(call, match)
    assert "'Send the questionnaire'" in line and "raj@globex.com" in line and "the call host" in line
    assert second.owner_id == HOST and second.owner_reason == "the call host"


def test_without_any_user_the_fallback_keeps_the_default_owner_and_says_why() -> None:
    call = make_call(action_items=[{"text": "Send pricing", "assignee_email": "raj@globex.com"}])
    (plan,) = plan_follow_ups(call, make_match(internal=[user("alice@ourco.com", None)]))
    assert plan.owner_id is None and "raj@globex.com" in plan.owner_reason


def test_assignee_emails_are_normalized_distinct_and_valid() -> None:
    call = make_call(
        action_items=[
            {"text": "a", "assignee_email": " Carol@OurCo.com "},
            {"text": "b", "assignee_email": "carol@ourco.com"},
            {"text": "c", "assignee_email": "not an email"},
            {"text": "d"},
        ]
    )
    assert assignee_emails(call) == ["carol@ourco.com"]
