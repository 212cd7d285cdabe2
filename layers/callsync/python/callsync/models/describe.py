"""Salesforce object metadata as callsync uses it (a subset of sObject describe)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# combobox: "a set of enumerated values" that "allow[s] the user to specify a value not in the list" (Apex
# Reference, "DisplayType Enum"): text, with suggestions
TEXT_TYPES = frozenset({"string", "textarea", "url", "email", "phone", "combobox"})
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})
_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def is_api_name(name: str) -> bool:
    """A plain API name (a letter, then letters, digits, underscores): the only text put into SOQL unescaped."""
    return _API_NAME.fullmatch(name) is not None


class FieldDescribe(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    name: str
    label: str = ""
    type: str
    length: int = 0
    precision: int = 0  # number types: total digits (0: not given)
    scale: int = 0  # number types: digits right of the decimal point
    digits: int = 0  # int fields: maximum digits (some describes give it in precision instead)
    nillable: bool = True
    createable: bool = False
    updateable: bool = False
    defaulted_on_create: bool = Field(default=False, alias="defaultedOnCreate")
    custom: bool = False
    picklist_values: list[str] = Field(default_factory=list)  # active values only
    restricted_picklist: bool = Field(default=False, alias="restrictedPicklist")
    reference_to: list[str] = Field(default_factory=list, alias="referenceTo")
    relationship_name: str | None = Field(default=None, alias="relationshipName")

    @classmethod
    def from_salesforce(cls, raw: dict[str, Any]) -> FieldDescribe:
        values = [p["value"] for p in raw.get("picklistValues") or [] if p.get("active", True)]
        return cls.model_validate({**raw, "picklist_values": values})

    @property
    def required_on_create(self) -> bool:
        return self.createable and not self.nillable and not self.defaulted_on_create


class ObjectDescribe(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    label: str = ""
    createable: bool = False
    updateable: bool = False
    queryable: bool = True
    fields: dict[str, FieldDescribe] = Field(default_factory=dict)  # keyed by API name
    fetched_at: str | None = None  # RFC 1123 date for If-Modified-Since

    @classmethod
    def from_salesforce(cls, raw: dict[str, Any], fetched_at: str | None = None) -> ObjectDescribe:
        return cls(
            name=raw["name"],
            label=raw.get("label", raw["name"]),
            createable=bool(raw.get("createable")),
            updateable=bool(raw.get("updateable")),
            queryable=bool(raw.get("queryable", True)),
            fields={f["name"]: FieldDescribe.from_salesforce(f) for f in raw.get("fields", [])},
            fetched_at=fetched_at,
        )

    def field(self, name: str) -> FieldDescribe | None:
        """Case-insensitive field lookup (API names are case-insensitive)."""
        found = self.fields.get(name)
        if found is not None:
            return found
        lowered = name.lower()
        return next((f for n, f in self.fields.items() if n.lower() == lowered), None)


class OrgMetadata(BaseModel):
    """What callsync learns from the global describe, cached with the describes."""

    objects: list[str] = Field(default_factory=list)

    @property
    def shared_activities(self) -> bool:
        """TaskRelation only exists in orgs with Shared Activities enabled."""
        return "TaskRelation" in self.objects
