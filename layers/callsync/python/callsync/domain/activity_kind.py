"""Which activity object logs a call, and the Subject it gets.

Shared by MatchOpportunity (which reads ahead the candidate activities for the
dedupe lookup) and LogActivity (which writes it), so both agree exactly.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from callsync.models.event import CallProcessed
from callsync.models.settings import OrgSettings

ActivityKind = Literal["Task", "Event"]
SUBJECT_MAX = 255
# Typographic variants a calendar, a dialer or a person's keyboard puts where the call has a plain one.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u00b4`"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
_PLAIN = str.maketrans({**dict.fromkeys(_DASHES, "-"), **dict.fromkeys(_SINGLE_QUOTES, "'"),
                        **dict.fromkeys(_DOUBLE_QUOTES, '"')})  # fmt: skip
_WORD = re.compile(r"[^\W_]+")


def activity_kind(settings: OrgSettings, call: CallProcessed) -> ActivityKind | None:
    """Task or Event by the activity mode; None when Call Activity Sync is off.

    ``smart``: telephony calls are Tasks; video meetings and uploads are Events.
    """
    if not settings.activity_sync.enabled:
        return None
    mode = settings.activity_sync.mode
    if mode == "tasks":
        return "Task"
    if mode == "events":
        return "Event"
    return "Task" if call.medium == "telephony" else "Event"


def activity_subject(settings: OrgSettings, call: CallProcessed) -> str:
    """``subject_prefix`` + a space + the title, cut to Salesforce's 255 characters."""
    prefix = settings.subject_prefix.strip()
    title = " ".join(call.title.split())
    subject = f"{prefix} {title}" if prefix else title
    return subject[:SUBJECT_MAX]


def candidate_subjects(settings: OrgSettings, call: CallProcessed) -> list[str]:
    """Subjects an existing activity for this call may carry: with or without our prefix.

    Salesforce compares strings case-insensitively, so ``Subject IN (...)`` with
    these finds both the calendar's own event and our earlier attempt.
    """
    subjects = [activity_subject(settings, call), " ".join(call.title.split())[:SUBJECT_MAX]]
    return list(dict.fromkeys(s for s in subjects if s))


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKC", text.replace("@\u200b{", "@{")).translate(_PLAIN).casefold()
    text = re.sub(r"\s*-\s*", " - ", text)  # "a\u2013b", "a - b" and "a -b" alike
    return " ".join(text.split())


def normalise_title(text: str, prefix: str = "") -> str:
    """A title as dedupe compares it: case, whitespace runs, dash and quote variants and ``prefix`` ignored.

    ``"[Airspeed] Wingtip \u2013 proposal walkthrough"`` (an en dash) and
    ``"wingtip - Proposal  walkthrough"`` are one title.
    """
    plain, head = _plain(text), _plain(prefix)
    if head and (plain == head or plain.startswith(f"{head} ")):
        plain = plain[len(head) :].strip()
    return plain


def title_words(text: str, prefix: str = "") -> list[str]:
    """The words of the normalised title (letters and digits): what a ``Subject LIKE`` pattern looks for."""
    return _WORD.findall(normalise_title(text, prefix))
