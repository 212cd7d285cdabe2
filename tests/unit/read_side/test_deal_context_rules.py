"""Deal-context rules: prep field paths, which emails and how much of each body."""

from __future__ import annotations

from datetime import UTC, datetime

from callsync.domain.deal_context import PrepPath, newest_emails, parse_prep_fields, trim_body

SINCE = datetime(2026, 11, 1, tzinfo=UTC)


def test_prep_paths_keep_order_and_drop_duplicates_case_insensitively():
    paths = parse_prep_fields(["Account.Industry", " opportunity.StageName ", "ACCOUNT.industry", "Bogus", ""])
    assert paths == [
        PrepPath("Account.Industry", "Account", "Industry"),
        PrepPath("opportunity.StageName", "opportunity", "StageName"),
        PrepPath("Bogus", "Bogus", ""),
    ]


def email(id_: str, when: str | None) -> dict:
    return {"Id": id_, "MessageDate": when}


def test_emails_are_distinct_recent_newest_first_and_bounded():
    # Given the same email reached through the Opportunity and a Contact, an old one and an undated one
    tagged = [
        (email("e1", "2026-11-10T10:00:00.000+0000"), "opportunity"),
        (email("e2", "2026-11-12T10:00:00.000+0000"), "account"),
        (email("e1", "2026-11-10T10:00:00.000+0000"), "contact"),
        (email("e0", "2026-10-01T10:00:00.000+0000"), "opportunity"),
        (email("e3", None), "contact"),
        (email("e4", "2026-11-12T10:00:00.000+0000"), "contact"),
    ]
    # When at most 2 are kept
    chosen = newest_emails(tagged, since=SINCE, limit=2)
    # Then newest first (ties by Id), each once with its first relation, old and undated left out
    assert [(e["Id"], r) for e, r in chosen] == [("e2", "account"), ("e4", "contact")]
    assert [(e["Id"], r) for e, r in newest_emails(tagged, since=SINCE, limit=10)] == [
        ("e2", "account"),
        ("e4", "contact"),
        ("e1", "opportunity"),
    ]


def test_body_is_trimmed_with_an_ellipsis():
    assert trim_body("  short  ", 10) == ("short", False)
    assert trim_body("abcdefghij", 5) == ("abcd…", True)
    assert trim_body("abc", 0) == ("", True)
    assert trim_body(None, 5) == (None, False)
