"""An activity callsync reuses: its section in the Description (a person's edit is ``domain.person_edits``).

callsync's section in the Description of an activity it reuses (a calendar Event, a dialer Task).

The existing text is a person's or another tool's (the meeting link, the recording link): it is
kept as it is. callsync adds its text between two lines a rep can read, and a later revision or
retry replaces only what is between them::

    Join: https://meet.example/abc            <- kept

    ----- callsync call summary: begin (zoom-8841) -----
    <summary, key points, insights>
    Call: https://app.example/calls/8841
    callsync-ref: zoom-8841
    ----- callsync call summary: end (zoom-8841) -----

Within Salesforce's 32,000 characters the existing text is never cut; callsync's body is
trimmed first (its backlink and marker stay), and when not even those fit, nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from callsync.domain.activity_plan import DESCRIPTION_MAX, cut_text


def section_begin(call_id: str) -> str:
    return f"----- callsync call summary: begin ({call_id}) -----"


def section_end(call_id: str) -> str:
    return f"----- callsync call summary: end ({call_id}) -----"


@dataclass(frozen=True)
class MergedDescription:
    text: str | None  # None: no room for callsync's section (the Description is left as it is)
    truncated: bool  # callsync's body was trimmed to fit


def has_section(description: str | None, call_id: str) -> bool:
    """Whether ``description`` holds this call's section (the activity is one callsync reused)."""
    return section_begin(call_id) in str(description or "").replace("\r\n", "\n").split("\n")


def _split(existing: str, call_id: str, marker: str) -> tuple[list[str], list[str]]:
    """(lines before callsync's section, lines after it); the whole text before when there is none.

    A section whose end line was deleted ends at the marker line; with neither, it is not
    recognised and a fresh one is added (the remains are the person's text now).
    """
    lines = existing.split("\n")
    begin = section_begin(call_id)
    if begin not in lines:
        return lines, []
    start = lines.index(begin)
    rest = lines[start + 1 :]
    for closing in (section_end(call_id), marker):
        if closing in rest:
            return lines[:start], rest[rest.index(closing) + 1 :]
    return lines, []


def merge_section(
    existing: str | None, body: str, tail: str, call_id: str, *, marker: str, limit: int = DESCRIPTION_MAX
) -> MergedDescription:
    """``existing`` with this call's section (``body`` then ``tail``) added, or put in place of the old one.

    ``tail`` (the backlink and the marker line) always survives in full; ``body`` is cut first.
    """
    text = str(existing or "").replace("\r\n", "\n")
    before, after = _split(text, call_id, marker)
    head = "\n".join(before).rstrip("\n")
    foot = "\n".join(after).lstrip("\n")
    head_sep = "\n\n" if head else ""
    foot_sep = "\n\n" if foot else ""
    frame = len(head) + len(head_sep) + len(section_begin(call_id)) + 1 + 1 + len(section_end(call_id))
    room = limit - frame - len(foot_sep) - len(foot)
    if room < len(tail):
        return MergedDescription(None, True)
    inner, truncated = cut_text(body, tail, room)
    section = f"{section_begin(call_id)}\n{inner}\n{section_end(call_id)}"
    return MergedDescription(f"{head}{head_sep}{section}{foot_sep}{foot}", truncated)
