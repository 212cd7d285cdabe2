"""Notes as safe HTML, follow-up Tasks from action items."""

from __future__ import annotations

import base64

from activity_builders import BOB, HOST, make_call, make_match, make_settings, user
from callsync.domain.follow_ups import item_key, plan_follow_ups
from callsync.domain.notes_html import note_content, note_html, note_title
from callsync.models.event import ActionItem


def test_note_html_escapes_everything_and_links_back() -> None:
    # Given notes with a script, ampersands, quotes and line breaks
    call = make_call(notes='<script>alert("x")</script> & Tom\'s\nsecond line\n\nnew paragraph')
    # When the note HTML is built
    html = note_html(call)
    # Then nothing from the notes is markup; paragraphs and breaks are ours; the backlink is a link
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&amp; Tom&#x27;s" in html and "&quot;x&quot;" in html
    assert html.startswith("<p>") and "<br>second line</p><p>new paragraph</p>" in html
    assert '<a href="https://app.example.com/calls/c1">' in html


def test_note_falls_back_to_summary_and_is_base64() -> None:
    # Given no notes / Then the summary is the note's content, base64-encoded HTML
    call = make_call(summary="Summary & more")
    decoded = base64.b64decode(note_content(call)).decode()
    assert decoded.startswith("<p>Summary &amp; more</p>")


def test_note_title_has_prefix_title_and_date_within_255() -> None:
    # Given a 300-character title / Then the title keeps the prefix and the date, ≤255
    title = note_title(make_settings(), make_call(title="t" * 300))
    assert title.startswith("[Airspeed] ttt") and title.endswith(" (2026-11-20)") and len(title) == 255


def test_follow_ups_owner_due_date_and_subject() -> None:
    # Given items with an assignee on the call, an unknown assignee, none, and a long text
    call = make_call(
        action_items=[
            {"text": "Send pricing", "assignee_email": "BOB@ourco.com", "due_date": "2026-11-27"},
            {"text": "Intro to legal", "assignee_email": "someone@ourco.com"},
            {"text": "Book the demo"},
            {"text": "y" * 400},
        ]
    )
    plans = plan_follow_ups(call, make_match())
    # Then the assignee's User owns it, else the host; due dates only when given; subject ≤255
    assert [p.owner_id for p in plans] == [BOB, HOST, HOST, HOST]
    assert plans[0].due_date is not None and plans[2].due_date is None
    assert len(plans[3].subject) == 255 and plans[3].subject.endswith("…")
    # And the description carries the full text, the backlink and the item's marker
    assert "y" * 400 in plans[3].description and "Call: https://app.example.com/calls/c1" in plans[3].description
    assert plans[3].description.endswith(f"c1/{plans[3].key}")


def test_follow_ups_without_any_user_keep_default_owner_and_collapse_repeats() -> None:
    # Given the same item twice (different spacing/case) and no internal User
    call = make_call(action_items=[{"text": "Send  pricing"}, {"text": "send pricing"}])
    plans = plan_follow_ups(call, make_match(internal=[user("alice@ourco.com", None)]))
    # Then one follow-up with the default owner
    assert len(plans) == 1 and plans[0].owner_id is None


def test_item_key_is_stable() -> None:
    # Given the same text / Then the same key; another text / another key
    assert item_key(ActionItem(text="A  b")) == item_key(ActionItem(text="a b"))
    assert item_key(ActionItem(text="a b")) != item_key(ActionItem(text="a c"))
