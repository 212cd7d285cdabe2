"""Call text inside composite request bodies.

Salesforce resolves ``@{referenceId.field}`` anywhere in a composite subrequest's body, so text from the call
that contains ``@{`` is stored with a zero-width space after the ``@`` (``@\u200b{``). Everything that looks
that text up again (queries by Subject or Title, comparisons with what Salesforce holds) uses both forms.
"""

from __future__ import annotations

from collections.abc import Iterable

REFERENCE_OPEN = "@{"
REFERENCE_SAFE = "@\u200b{"


def defuse(text: str) -> str:
    """The form callsync stores: never read as a composite reference."""
    return text.replace(REFERENCE_OPEN, REFERENCE_SAFE)


def restore(text: str) -> str:
    """The text as the call had it (what callsync stored, read back)."""
    return text.replace(REFERENCE_SAFE, REFERENCE_OPEN)


def stored_forms(texts: Iterable[str]) -> list[str]:
    """Each text as the call has it and as callsync stores it (once each, order kept): for ``IN (...)`` lookups."""
    return list(dict.fromkeys(form for text in texts for form in (text, defuse(text))))
