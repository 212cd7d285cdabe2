"""Resolving field paths (``Email``, ``Account.Name``, ``What.Name``) against a Catalog."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import errors, nodes
from .catalog import Catalog, FieldInfo, ObjectInfo
from .errors import INVALID_FIELD, INVALID_TYPE, SoqlError

Row = Mapping[str, Any]
Getter = Callable[[Row], Any]

ID_TYPES = frozenset({"id", "reference"})
NUMBER_TYPES = frozenset({"int", "long", "double", "currency", "percent"})
MAX_RELATIONSHIP_HOPS = 5

# The fields of Salesforce's Name object (Object Reference, "Name"), lower-cased: all a polymorphic
# relationship (What, Who, Owner) reaches without TYPEOF.
NAME_OBJECT_FIELDS = frozenset(
    {
        "alias",
        "email",
        "firstname",
        "id",
        "isactive",
        "lastname",
        "lastreferenceddate",
        "lastvieweddate",
        "middlename",
        "name",
        "nameoralias",
        "phone",
        "profileid",
        "recordtypeid",
        "suffix",
        "title",
        "type",
        "userroleid",
        "username",
    }
)


def category(info: FieldInfo) -> str:
    """How values of a field compare: id, string, multipicklist, number, boolean, date, datetime."""
    kind = info.type.lower()
    if kind in ID_TYPES:
        return "id"
    if kind in NUMBER_TYPES:
        return "number"
    if kind in ("multipicklist", "boolean", "date", "datetime"):
        return kind
    return "string"


_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def normalize_id(value: str) -> str:
    """The case-sensitive 15-character id that ``value`` names; ids compare in this form.

    A 15-character id is case-sensitive (``...00b`` and ``...00B`` are two records). An 18-character
    id is case-insensitive: its last three characters say which of the first 15 are upper case, so
    the case is restored from them. Anything else (not an id) is returned as it is.
    """
    if len(value) != 18:
        return value
    chars = list(value[:15].lower())
    for chunk, flag_char in enumerate(value[15:].upper()):
        flags = _SUFFIX_ALPHABET.find(flag_char)
        if flags < 0:  # not a checksum: compare the 15 characters as given
            return value[:15]
        for bit in range(5):
            if flags & (1 << bit):
                chars[chunk * 5 + bit] = chars[chunk * 5 + bit].upper()
    return "".join(chars)


@dataclass(frozen=True)
class BoundField:
    """A field path resolved against the schema.

    ``path`` is the canonical spelling (relationship names then the field name), ``hops`` the
    reference fields followed, ``info`` the leaf field, ``getter`` reads the value from a row.
    """

    path: tuple[str, ...]
    hops: tuple[str, ...]
    info: FieldInfo
    getter: Getter
    position: nodes.Position
    type_of_parent: bool = False  # ``What.Type``: the sObject type of a polymorphic parent

    @property
    def name(self) -> str:
        return ".".join(self.path)

    @property
    def category(self) -> str:
        return category(self.info)


class Resolver:
    """Schema look-ups and parent fetches for one query run (parents are cached by id)."""

    def __init__(self, catalog: Catalog, text: str) -> None:
        self.catalog = catalog
        self.text = text
        self._parents: dict[str, tuple[str, Row] | None] = {}

    def error(self, code: str, detail: str, position: nodes.Position | None) -> SoqlError:
        return SoqlError(code, detail, text=self.text, position=position)

    def object(self, name: str, position: nodes.Position) -> ObjectInfo:
        info = self.catalog.object_info(name)
        if info is None:
            raise self.error(INVALID_TYPE, errors.unsupported_object(name), position)
        return info

    def fetch(self, record_id: Any) -> tuple[str, Row] | None:
        """(object name, row) of a parent record, or None for a dangling or unreadable id."""
        key = str(record_id)
        if key not in self._parents:
            hit = self.catalog.by_id(key)
            if hit is not None and self.catalog.object_info(hit[0]) is None:
                hit = None  # the integration user cannot read that object
            self._parents[key] = hit
        return self._parents[key]

    def parent_object(
        self, owner: ObjectInfo, relationship: str, position: nodes.Position
    ) -> tuple[FieldInfo, ObjectInfo, bool]:
        """The reference field behind ``relationship`` and the object it points at.

        A polymorphic reference (``What``, ``Who``) points at Salesforce's "Name" object: the fields of
        ``NAME_OBJECT_FIELDS`` the readable targets have, plus ``Type`` (the parent's sObject type);
        ``What.StageName`` is INVALID_FIELD, as in Salesforce. Returns (field, object, polymorphic).
        """
        ref = owner.parent(relationship)
        if ref is None or not ref.reference_to:
            raise self.error(INVALID_FIELD, errors.bad_relationship(relationship), position)
        targets = [t for t in (self.catalog.object_info(n) for n in ref.reference_to) if t is not None]
        if not targets:
            raise self.error(INVALID_FIELD, errors.bad_relationship(relationship), position)
        if len(ref.reference_to) == 1:
            return ref, targets[0], False
        merged: dict[str, FieldInfo] = {}
        for target in reversed(targets):
            merged.update({k: v for k, v in target.fields.items() if k in NAME_OBJECT_FIELDS})
        merged["type"] = FieldInfo("Type", "string")
        return ref, ObjectInfo("Name", merged), True

    def field(self, owner: ObjectInfo, path: nodes.FieldPath, alias: str | None = None) -> BoundField:
        """Resolve ``path`` on ``owner``; a leading object name or FROM alias (``c.Email``) is dropped."""
        parts = list(path.parts)
        prefixes = {owner.name.lower(), (alias or owner.name).lower()}
        if len(parts) > 1 and parts[0].lower() in prefixes and owner.parent(parts[0]) is None:
            parts = parts[1:]
        if len(parts) - 1 > MAX_RELATIONSHIP_HOPS:
            raise self.error(INVALID_FIELD, errors.bad_relationship(parts[-2]), path.position)
        obj = owner
        canonical: list[str] = []
        hops: list[str] = []
        polymorphic = False
        for relationship in parts[:-1]:
            ref, obj, polymorphic = self.parent_object(obj, relationship, path.position)
            canonical.append(ref.relationship_name or relationship)
            hops.append(ref.name)
        leaf = obj.field(parts[-1])
        if leaf is None:
            raise self.error(INVALID_FIELD, errors.no_such_column(parts[-1], obj.name), path.position)
        type_of_parent = polymorphic and leaf.name == "Type"
        canonical.append(leaf.name)
        return BoundField(
            tuple(canonical),
            tuple(hops),
            leaf,
            self._getter(tuple(hops), leaf.name, type_of_parent),
            path.position,
            type_of_parent,
        )

    def _getter(self, hops: tuple[str, ...], leaf: str, type_of_parent: bool) -> Getter:
        if not hops:

            def plain(row: Row) -> Any:
                return row.get(leaf)

            return plain
        fetch = self.fetch

        def through_parents(row: Row) -> Any:
            object_name = ""
            for hop in hops:
                ref = row.get(hop)
                if ref is None:
                    return None
                hit = fetch(ref)
                if hit is None:
                    return None
                object_name, row = hit
            return object_name if type_of_parent else row.get(leaf)

        return through_parents
