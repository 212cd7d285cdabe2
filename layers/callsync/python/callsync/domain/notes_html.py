"""Notes sync: the ContentNote's Title and its Content as safe HTML.

ContentNote ``Content`` is base64 of HTML. Plain text is escaped (``& < > " '``),
blank lines make paragraphs and single line breaks ``<br>``; the backlink is an
``<a href>``. Nothing from the call is ever emitted as markup.
"""

from __future__ import annotations

import base64
import html
import re

from callsync.domain.activity_plan import call_date, one_line
from callsync.models.event import CallProcessed
from callsync.models.settings import OrgSettings

TITLE_MAX = 255


def note_title(settings: OrgSettings, call: CallProcessed) -> str:
    """``{prefix} {title} ({date})``, ≤255 characters with the date always kept.

    It is also the note's dedupe key on the related record: deterministic per call.
    """
    prefix = settings.subject_prefix.strip()
    suffix = f" ({call_date(call).isoformat()})"
    title = one_line(call.title)
    head = f"{prefix} {title}" if prefix else title
    return head[: TITLE_MAX - len(suffix)].rstrip() + suffix


def text_to_html(text: str) -> str:
    """Escaped paragraphs (blank line) and line breaks (single newline)."""
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n"))]
    return "".join(
        "<p>" + "<br>".join(html.escape(line, quote=True) for line in p.split("\n")) + "</p>"
        for p in paragraphs
        if p.strip()
    )


def note_html(call: CallProcessed) -> str:
    """The notes (or the summary when there are none) and a backlink to the call."""
    text = call.notes if call.notes and call.notes.strip() else call.summary
    href = html.escape(str(call.call_url), quote=True)
    return f'{text_to_html(text)}<p><a href="{href}">View the call in {html.escape(call.source or "callsync")}</a></p>'


def note_content(call: CallProcessed) -> str:
    """``Content`` for the API: base64 of the UTF-8 HTML."""
    return base64.b64encode(note_html(call).encode("utf-8")).decode("ascii")
