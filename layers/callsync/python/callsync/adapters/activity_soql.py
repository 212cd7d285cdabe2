"""SOQL filters shared by the queries that look for an activity representing a call.

The match step's read-ahead (``adapters.salesforce_match``) and LogActivity's lookup
(``adapters.salesforce_activity``) find the same records: a ``Subject LIKE`` on the words of
the title (so a calendar's en dash, curly quotes, other case or spacing, or a prefix still
match; ``domain.activity_kind.normalise_title`` then decides exactly), and the fields
LogActivity needs to tell a person's edit from its own (``LastModifiedById`` and the
modifier's name, read with the same query: no extra request).
"""

from __future__ import annotations

from collections.abc import Sequence

from simple_salesforce.format import format_soql

from callsync.domain.activity_kind import title_words
from callsync.domain.reference_text import stored_forms

# Who changed the record last, and when (the parent relationship costs no request).
LAST_MODIFIED = ["LastModifiedById", "LastModifiedDate"]
LAST_MODIFIED_BY_NAME = "LastModifiedBy.Name"


def subject_filter(subjects: Sequence[str]) -> str:
    """``Subject LIKE '%word%word%'`` on the fewest words among ``subjects`` (the bare title's).

    Every value is escaped with ``format_soql``'s ``like`` spec (``%``, ``_``, quotes and
    backslashes); a title without any letter or digit falls back to ``Subject IN (...)``.
    """
    lists = [w for w in (title_words(s) for s in subjects) if w]
    if not lists:
        return format_soql("Subject IN {}", stored_forms(subjects))
    words = min(lists, key=len)
    pattern = "%".join(format_soql("{:like}", w) for w in words)
    return f"Subject LIKE '%{pattern}%'"
