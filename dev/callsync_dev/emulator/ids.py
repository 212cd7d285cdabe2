"""Salesforce record ids: 15-character case-sensitive ids and their 18-character form."""

from __future__ import annotations

import re
import threading

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_RE = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")
_POD = "5g"  # the "instance" characters real ids carry after the key prefix


def checksum_suffix(id15: str) -> str:
    """The three characters Salesforce appends to make an id case-insensitively unique."""
    out = []
    for chunk in range(3):
        flags = 0
        for pos, char in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= char <= "Z":
                flags |= 1 << pos
        out.append(_SUFFIX_ALPHABET[flags])
    return "".join(out)


def is_id(value: object) -> bool:
    """True for a well-formed 15- or 18-character id (the suffix must match when present)."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        return False
    return len(value) == 15 or checksum_suffix(value[:15]) == value[15:]


def looks_like_id18(value: str) -> bool:
    """18 characters shaped like an id (15 alphanumerics and a 3-character suffix), checksum unchecked."""
    return len(value) == 18 and bool(_ID_RE.match(value))


def to18(value: str) -> str:
    """The 18-character form of a 15- or 18-character id (raises ValueError when malformed)."""
    if not is_id(value):
        raise ValueError(f"malformed id: {value!r}")
    return value if len(value) == 18 else value + checksum_suffix(value)


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(_BASE62[rest])
    return "".join(reversed(digits)).rjust(width, "0")


class IdFactory:
    """Issues fresh 18-character ids per key prefix, never repeating one already in use."""

    def __init__(self) -> None:
        self._counters: dict[str, int] = {}
        self._used: set[str] = set()
        self._lock = threading.Lock()

    def reserve(self, record_id: str) -> None:
        """Mark an id (e.g. loaded from a fixture) as taken."""
        with self._lock:
            self._used.add(record_id[:15])

    def issued(self) -> dict[str, int]:
        """How many ids were issued per key prefix (a dump keeps it: a reloaded org never issues them again)."""
        with self._lock:
            return dict(self._counters)

    def resume(self, issued: dict[str, int]) -> None:
        """Continue after ``issued`` ids per prefix, also past records deleted since (Salesforce never reuses an id)."""
        with self._lock:
            for prefix, count in issued.items():
                self._counters[prefix] = max(self._counters.get(prefix, 0), int(count))

    def new(self, prefix: str) -> str:
        with self._lock:
            counter = self._counters.get(prefix, 0)
            while True:
                counter += 1
                id15 = f"{prefix}{_POD}{_base62(counter, 10)}"
                if id15 not in self._used:
                    break
            self._counters[prefix] = counter
            self._used.add(id15)
            return id15 + checksum_suffix(id15)
