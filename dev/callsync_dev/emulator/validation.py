"""What Salesforce refuses in a write: field access and values, lookups, object rules, duplicate rules.

``Validator`` reads the org through ``RecordStorage`` and never writes to it; a refusal is an
``ApiError`` with Salesforce's code, message and fields. Besides refusing, the object rules fill
what Salesforce fills before saving (Event times, Opportunity probability, auto-numbers).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from callsync_dev.emulator.errors import ApiError
from callsync_dev.emulator.ids import is_id, to18
from callsync_dev.emulator.schema import ObjectDef
from callsync_dev.emulator.storage import RecordStorage
from callsync_dev.emulator.values import coerce

WHO_PREFIXES = ("003", "00Q")
NOTE_TAGS = frozenset(
    {
        "p",
        "br",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "s",
        "strike",
        "ul",
        "ol",
        "li",
        "a",
        "span",
        "div",
        "h1",
        "h2",
        "h3",
        "pre",
        "code",
        "blockquote",
        "hr",
        "img",
    }
)
_TAG_RE = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)(\s[^<>]*)?/?>")
_ENTITY_RE = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);")


def note_html_problem(text: str) -> bool:
    """True when note content has tags or unescaped characters a ContentNote does not accept."""
    stripped = _TAG_RE.sub(lambda m: "" if m.group(1).lower() in NOTE_TAGS else "<", text)
    stripped = _ENTITY_RE.sub("", stripped)
    return "<" in stripped or "&" in stripped


class Validator:
    """Salesforce's write rules over one org's records."""

    def __init__(self, store: RecordStorage) -> None:
        self.store = store

    def validate_input(self, od: ObjectDef, body: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        if not isinstance(body, Mapping):
            raise ApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from a non-object")
        values: dict[str, Any] = {}
        locked: list[str] = []
        for key, raw in body.items():
            if key == "attributes":
                continue
            fdef = self.store.schema.visible_field(od, key)
            if fdef is None:
                raise ApiError(400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {od.name}", [key])
            if fdef.name == "Id" and not creating:
                continue
            allowed = self.store.schema.can_create(od, fdef) if creating else self.store.schema.can_update(od, fdef)
            if not allowed:
                locked.append(fdef.name)
                continue
            values[fdef.name] = coerce(fdef, raw)
        if locked:
            raise ApiError(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(locked)}. Please check the security "
                "settings of this field and verify that it is read/write for your profile or "
                "permission set.",
                locked,
            )
        for name, value in values.items():
            fdef = od.fields[name.lower()]
            if value is None:
                continue
            if fdef.type == "picklist" and fdef.restricted and value not in (fdef.values or []):
                raise ApiError(
                    400,
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{fdef.label}: bad value for restricted picklist field: {value}",
                    [name],
                )
            if fdef.type == "multipicklist":
                parts = [p for p in str(value).split(";") if p]
                bad = [p for p in parts if fdef.restricted and p not in (fdef.values or [])]
                if bad:
                    raise ApiError(
                        400,
                        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                        f"{fdef.label}: bad value for restricted picklist field: {bad[0]}",
                        [name],
                    )
                values[name] = ";".join(dict.fromkeys(parts)) or None
            if fdef.type in ("reference",):
                values[name] = self.check_reference(od, fdef.name, value)
            elif isinstance(value, str) and fdef.length and len(value) > fdef.length and fdef.type != "base64":
                raise ApiError(
                    400,
                    "STRING_TOO_LONG",
                    f"{fdef.label}: data value too large: {value[:255]} (max length={fdef.length})",
                    [name],
                )
        return values

    def check_reference(self, od: ObjectDef, field_name: str, value: str) -> str:
        fdef = od.fields[field_name.lower()]
        if not is_id(value):
            raise ApiError(400, "MALFORMED_ID", f"{fdef.label}: id value of incorrect type: {value}", [field_name])
        rid = to18(value)
        target = self.store.row_by_id(rid)
        if target is None:
            raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [field_name])
        target_obj, target_row = target
        if field_name != "LinkedEntityId" and target_obj not in fdef.reference_to:
            raise ApiError(
                400, "FIELD_INTEGRITY_EXCEPTION", f"{fdef.label}: id value of incorrect type: {value}", [field_name]
            )
        if target_row["IsDeleted"]:
            raise ApiError(400, "ENTITY_IS_DELETED", "entity is deleted", [field_name])
        return rid

    def object_rules(
        self, od: ObjectDef, row: dict[str, Any], before: dict[str, Any] | None, values: dict[str, Any]
    ) -> None:
        """Object-specific rules that may reject the write or fill fields."""
        if od.name in ("Task", "Event"):
            self.check_lead_what(row)
        if od.name == "Event":
            self.event_times(row, before, values)
        elif od.name in ("TaskRelation", "EventRelation") and before is None:
            self.check_relation(od.name, row, values)
        elif od.name == "ContentNote" and "Content" in values and values["Content"] is not None:
            row["Content"] = self.note_content(values["Content"])
        elif od.name == "ContentDocumentLink" and before is None:
            for link in self.store.tables["ContentDocumentLink"].values():
                if (
                    not link["IsDeleted"]
                    and link["ContentDocumentId"] == row.get("ContentDocumentId")
                    and link["LinkedEntityId"] == row.get("LinkedEntityId")
                ):
                    raise ApiError(
                        400,
                        "DUPLICATE_VALUE",
                        f"Document with ID: {row['ContentDocumentId']} is already linked with the "
                        f"entity with ID: {row['LinkedEntityId']}",
                        ["LinkedEntityId"],
                    )
        elif od.name == "Opportunity" and "Probability" not in values and (before is None or "StageName" in values):
            stage = self.store.stage_info.get(str(row.get("StageName")))
            if stage is not None:
                row["Probability"] = stage["DefaultProbability"]
        if od.custom and before is None and od.fields["name"].auto_number:
            count = self.store.next_autonumber(od.name, len(self.store.tables[od.name]))
            row["Name"] = f"{''.join(w[0] for w in od.label.split())[:3].upper()}-{count:05d}"

    @staticmethod
    def check_lead_what(row: Mapping[str, Any]) -> None:
        if str(row.get("WhoId") or "").startswith("00Q") and row.get("WhatId"):
            raise ApiError(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                "Related To ID: You can't associate a lead with a record in the Related To field.",
                ["WhatId"],
            )

    def check_relation(self, rel_obj: str, row: dict[str, Any], values: Mapping[str, Any]) -> None:
        """Shared Activities: up to 50 contacts or one lead per activity; invitee flags default sensibly."""
        relation = str(row.get("RelationId") or "")
        is_who = relation.startswith(WHO_PREFIXES)
        if rel_obj == "EventRelation":
            if not is_who and not relation.startswith("005"):
                row["IsParent"], row["IsInvitee"] = True, False
            elif "IsInvitee" not in values:
                row["IsInvitee"] = not row.get("IsParent")
        parent_field = "TaskId" if rel_obj == "TaskRelation" else "EventId"
        if not is_who or (rel_obj == "EventRelation" and not row.get("IsParent")):
            return
        whos = [
            r["RelationId"]
            for r in self.store.tables[rel_obj].values()
            if r[parent_field] == row[parent_field]
            and not r["IsDeleted"]
            and not r["IsWhat"]
            and (rel_obj == "TaskRelation" or r.get("IsParent"))
        ]
        if relation in whos:
            raise ApiError(
                400,
                "DUPLICATE_VALUE",
                f"duplicate value found: RelationId duplicates value on record with id: {relation}",
                ["RelationId"],
            )
        leads = [w for w in [*whos, relation] if w.startswith("00Q")]
        if leads and len(whos) >= 1:
            raise ApiError(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                "You can relate an activity to up to 50 contacts or one lead.",
                ["RelationId"],
            )
        if len(whos) >= 50:
            raise ApiError(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                "You can relate an activity to up to 50 contacts or one lead.",
                ["RelationId"],
            )

    def check_duplicates(self, od: ObjectDef, row: Mapping[str, Any], *, allow_save: bool) -> None:
        """The fixture's duplicate rules: DUPLICATES_DETECTED naming the existing records.

        A rule's ``action`` is ``alert`` (Salesforce's standard rules: allow with an alert) or
        ``block``. Both refuse an API save; an ``alert`` rule lets it through when the request
        sends the duplicate rule header with ``allowSave=true``.
        """
        for rule in self.store.duplicate_rules:
            if str(rule.get("object", "")).lower() != od.name.lower():
                continue
            alert = str(rule.get("action") or "alert").lower() == "alert"
            if alert and allow_save:
                continue
            fields = [od.fields[f.lower()].name for f in rule.get("fields", []) if f.lower() in od.fields]
            wanted = [row.get(f) for f in fields]
            if not fields or any(v in (None, "") for v in wanted):
                continue
            keys = [str(v).lower() for v in wanted]
            candidates = self.store.lookup(od.name, fields[0], [keys[0]]) or []
            matches = [
                c
                for c in candidates
                if c["Id"] != row.get("Id")
                and all(str(c.get(f) or "").lower() == k for f, k in zip(fields, keys, strict=True))
            ]
            if not matches:
                continue
            message = "You're creating a duplicate record. We recommend you use an existing record instead."
            url = f"/services/data/v{self.store.api_version}/sobjects/{od.name}/"
            detail = {
                "allowSave": alert,
                "duplicateRule": rule.get("name") or f"Standard_{od.name}_Duplicate_Rule",
                "duplicateRuleEntityType": od.name,
                "errorMessage": message,
                "matchResults": [
                    {
                        "entityType": od.name,
                        "errors": [],
                        "matchEngine": "ExactMatchEngine",
                        "matchRecords": [
                            {
                                "additionalInformation": [],
                                "fieldDiffs": [],
                                "matchConfidence": 100.0,
                                "record": {"attributes": {"type": od.name, "url": url + m["Id"]}, "Id": m["Id"]},
                            }
                            for m in matches
                        ],
                        "rule": f"Standard_{od.name}_Match_Rule_v1_1",
                        "size": len(matches),
                        "success": True,
                    }
                ],
            }
            raise ApiError(400, "DUPLICATES_DETECTED", message, [], {"duplicateResut": detail})

    def note_content(self, encoded: str) -> str:
        try:
            text = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ApiError(
                400,
                "JSON_PARSER_ERROR",
                "Cannot deserialize instance of base64 from VALUE_STRING value (Content) "
                "or request may be missing a required field",
            ) from None
        if note_html_problem(text):
            raise ApiError(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                "Note can't be saved because it contains HTML tags or unescaped characters that are "
                "not allowed in a Note.",
                ["Content"],
            )
        return text

    def event_times(self, row: dict[str, Any], before: dict[str, Any] | None, values: dict[str, Any]) -> None:
        if row.get("IsAllDayEvent"):
            day = (
                row.get("ActivityDate")
                if "ActivityDate" in values or row.get("StartDateTime") is None
                else row["StartDateTime"].date()
            )
            if day is None:
                raise ApiError(
                    400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [ActivityDate]", ["ActivityDate"]
                )
            days = max(1, (row.get("DurationInMinutes") or 1440) // 1440)
            if "EndDateTime" in values and values["EndDateTime"] is not None:
                days = max(1, (values["EndDateTime"].date() - day).days + 1)
            midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
            row.update(
                StartDateTime=midnight,
                DurationInMinutes=days * 1440,
                ActivityDate=day,
                EndDateTime=midnight + timedelta(days=days - 1),
                ActivityDateTime=None,
            )
            return
        if values.get("ActivityDateTime") is not None and "StartDateTime" not in values:
            row["StartDateTime"] = values["ActivityDateTime"]
        start = row.get("StartDateTime")
        if start is None:
            raise ApiError(
                400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [StartDateTime]", ["StartDateTime"]
            )
        end_given = values.get("EndDateTime") is not None
        duration_given = values.get("DurationInMinutes") is not None
        if end_given:
            end = values["EndDateTime"]
        elif duration_given:
            end = start + timedelta(minutes=values["DurationInMinutes"])
        elif before is not None and before.get("DurationInMinutes") is not None:
            end = start + timedelta(minutes=before["DurationInMinutes"])
        else:
            raise ApiError(
                400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [DurationInMinutes]", ["DurationInMinutes"]
            )
        if end < start:
            raise ApiError(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                "End Date Time: The end date/time must be after the start date/time.",
                ["EndDateTime"],
            )
        duration = int((end - start).total_seconds() // 60)
        if duration > 14 * 1440:
            raise ApiError(
                400, "FIELD_INTEGRITY_EXCEPTION", "Event duration cannot exceed 14 days.", ["DurationInMinutes"]
            )
        row.update(EndDateTime=end, DurationInMinutes=duration, ActivityDateTime=start, ActivityDate=start.date())
