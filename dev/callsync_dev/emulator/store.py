"""The org's records: ids, validation as Salesforce does it, derived fields, the SOQL catalog."""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from callsync_dev.emulator.errors import ApiError, not_found
from callsync_dev.emulator.ids import IdFactory, is_id, to18
from callsync_dev.emulator.schema import ObjectDef, Schema
from callsync_dev.emulator.soql.catalog import ObjectInfo
from callsync_dev.emulator.values import coerce

NAME_OBJECTS = ("Contact", "Lead", "User")
WHO_PREFIXES = ("003", "00Q")
ACTIVITY_TARGETS = ("Account", "Contact", "Lead", "Opportunity")
CLOSED_TASK_STATUSES = frozenset({"Completed"})
NOTE_TAGS = frozenset({"p", "br", "b", "strong", "i", "em", "u", "s", "strike", "ul", "ol", "li", "a", "span",
                       "div", "h1", "h2", "h3", "pre", "code", "blockquote", "hr", "img"})
_TAG_RE = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)(\s[^<>]*)?/?>")
_ENTITY_RE = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);")
INDEXABLE_TYPES = frozenset({"id", "reference", "email", "string", "phone", "url", "picklist", "combobox"})
_NO_ACCESS_MESSAGE = ("You do not have the level of access necessary to perform the operation you requested. "
                      "Please contact the owner of the record or your administrator if access is necessary.")


def now_ms() -> datetime:
    current = datetime.now(UTC)
    return current.replace(microsecond=current.microsecond // 1000 * 1000)


def note_html_problem(text: str) -> bool:
    """True when note content has tags or unescaped characters a ContentNote does not accept."""
    stripped = _TAG_RE.sub(lambda m: "" if m.group(1).lower() in NOTE_TAGS else "<", text)
    stripped = _ENTITY_RE.sub("", stripped)
    return "<" in stripped or "&" in stripped


class OrgStore:
    """Records of every object, guarded by one re-entrant lock; implements the SOQL ``Catalog``."""

    def __init__(self, schema: Schema, ids: IdFactory | None = None) -> None:
        self.schema = schema
        self.ids = ids or IdFactory()
        self.lock = threading.RLock()
        self.tables: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in schema.objects}
        self._by_id: dict[str, tuple[str, dict[str, Any]]] = {}
        self._indexes: dict[tuple[str, str], dict[str, set[str]]] = {}
        self._position: dict[str, int] = {}  # insertion rank of every id: index hits come back in scan order
        self._inserted = itertools.count()
        self._autonumber: dict[str, int] = {}
        self._journal: list[tuple[str, str, str, dict[str, Any] | None]] | None = None
        self.integration_user_id = ""
        self.org_id = "00D5g000004SyNcEAK"
        self.stage_info: dict[str, dict[str, Any]] = {}
        self.duplicate_rules: list[dict[str, Any]] = []  # [{"object", "fields", "name"?}] blocking rules
        self.api_version = "62.0"

    # ------------------------------------------------------------------ Catalog -------------------
    def object_info(self, name: str) -> ObjectInfo | None:
        return self.schema.object_info(name)

    def rows(self, object_name: str, *, include_deleted: bool = False) -> Iterable[Mapping[str, Any]]:
        od = self.schema.exists(object_name)
        if od is None:
            return []
        if od.name in ("TaskWhoRelation", "EventWhoRelation"):
            return self._who_relation_rows(od.name, include_deleted)
        table = self.tables[od.name].values()
        if od.name == "ContentNote":
            return [self._api_row(od, r) for r in table if include_deleted or not r["IsDeleted"]]
        if include_deleted:
            return table
        return (r for r in table if not r["IsDeleted"])

    def by_id(self, record_id: str) -> tuple[str, Mapping[str, Any]] | None:
        if not is_id(record_id):
            return None
        return self._by_id.get(to18(record_id))

    def now(self) -> datetime:
        return datetime.now(UTC)

    def lookup(self, object_name: str, field_name: str, values_lowercased: Iterable[str]
               ) -> list[Mapping[str, Any]] | None:
        """Rows whose ``field_name`` equals (case-insensitively) one of the values, via an index.

        Returns None when the field is not indexable (the engine then scans ``rows``). Deleted rows
        are excluded. Id-like values may be 15 or 18 characters. The rows come in the order ``rows``
        yields them, so a LIMIT without ORDER BY, and ties under ORDER BY, pick what a scan picks.
        """
        od = self.schema.exists(object_name)
        if od is None or od.name in ("TaskWhoRelation", "EventWhoRelation", "ContentNote"):
            return None
        fdef = od.field(field_name)
        if fdef is None or (fdef.type not in INDEXABLE_TYPES and fdef.name not in ("Username",)):
            return None
        index = self._index(od.name, fdef.name)
        table = self.tables[od.name]
        out: list[Mapping[str, Any]] = []
        seen: set[str] = set()
        for value in values_lowercased:
            key = value.lower()
            if fdef.type in ("id", "reference") and len(key) == 15:
                keys = {rid.lower() for rid in index if rid.startswith(key)}
            else:
                keys = {key}
            for k in keys:
                for rid in index.get(k, ()):
                    row = table.get(rid)
                    if row is not None and rid not in seen and not row["IsDeleted"]:
                        seen.add(rid)
                        out.append(row)
        if len(out) > 1:
            position = self._position
            out.sort(key=lambda row: position[row["Id"]])
        return out

    def _index(self, obj: str, field_name: str) -> dict[str, set[str]]:
        key = (obj, field_name)
        index = self._indexes.get(key)
        if index is None:
            index = {}
            for rid, row in self.tables[obj].items():
                value = row.get(field_name)
                if isinstance(value, str):
                    index.setdefault(value.lower(), set()).add(rid)
            self._indexes[key] = index
        return index

    def _reindex(self, obj: str, row: Mapping[str, Any], add: bool) -> None:
        for (iobj, field_name), index in self._indexes.items():
            if iobj != obj:
                continue
            value = row.get(field_name)
            if not isinstance(value, str):
                continue
            if add:
                index.setdefault(value.lower(), set()).add(row["Id"])
            else:
                index.get(value.lower(), set()).discard(row["Id"])

    def _who_relation_rows(self, name: str, include_deleted: bool) -> list[dict[str, Any]]:
        source, parent = ("TaskRelation", "TaskId") if name == "TaskWhoRelation" else ("EventRelation", "EventId")
        out = []
        for row in self.tables[source].values():
            if row["IsWhat"] or (source == "EventRelation" and not row.get("IsParent")):
                continue
            if row["IsDeleted"] and not include_deleted:
                continue
            out.append({"Id": row["Id"], "IsDeleted": row["IsDeleted"], parent: row[parent],
                        "RelationId": row["RelationId"],
                        "Type": "Lead" if row["RelationId"].startswith("00Q") else "Contact",
                        "CreatedDate": row.get("CreatedDate"), "CreatedById": row.get("CreatedById"),
                        "LastModifiedDate": row.get("LastModifiedDate"),
                        "LastModifiedById": row.get("LastModifiedById"), "SystemModstamp": row["SystemModstamp"]})
        return out

    # ------------------------------------------------------------------ transactions --------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-none: on an exception every write inside is undone."""
        with self.lock:
            outer = self._journal
            self._journal = []
            try:
                yield
            except BaseException:
                self._undo(self._journal)
                self._journal = outer
                raise
            if outer is not None:
                outer.extend(self._journal)
            self._journal = outer

    def _undo(self, journal: list[tuple[str, str, str, dict[str, Any] | None]]) -> None:
        for action, obj, rid, before in reversed(journal):
            table = self.tables[obj]
            current = table.get(rid)
            if current is not None:
                self._reindex(obj, current, add=False)
            if action == "insert":
                table.pop(rid, None)
                if self._by_id.get(rid, (None,))[0] == obj:
                    self._by_id.pop(rid, None)
            elif current is not None and before is not None:
                current.clear()
                current.update(before)
                self._reindex(obj, current, add=True)

    def _record_change(self, obj: str, row: dict[str, Any]) -> None:
        if self._journal is not None:
            self._journal.append(("update", obj, row["Id"], dict(row)))

    def _set(self, obj: str, row: dict[str, Any], changes: Mapping[str, Any]) -> None:
        self._record_change(obj, row)
        self._reindex(obj, row, add=False)
        row.update(changes)
        self._reindex(obj, row, add=True)

    def _insert(self, obj: str, row: dict[str, Any]) -> None:
        rid = row["Id"]
        self.tables[obj][rid] = row
        self._position[rid] = next(self._inserted)
        if obj != "ContentNote":
            self._by_id[rid] = (obj, row)
        self._reindex(obj, row, add=True)
        if self._journal is not None:
            self._journal.append(("insert", obj, rid, None))

    # ------------------------------------------------------------------ reads ---------------------
    def find(self, obj: str, record_id: str, *, allow_deleted: bool = False) -> dict[str, Any]:
        """The stored row of ``obj`` with this id (15 or 18 chars) or a 404 ApiError."""
        if not is_id(record_id):
            raise ApiError(404, "NOT_FOUND", f"Provided external ID field does not exist or is not "
                                             f"accessible: {record_id}")
        row = self.tables[obj].get(to18(record_id))
        if row is None:
            raise not_found()
        if row["IsDeleted"] and not allow_deleted:
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return row

    def get_record(self, obj_name: str, record_id: str, fields: list[str] | None, version: str) -> dict[str, Any]:
        od = self.readable(obj_name)
        row = self.find(od.name, record_id)
        if row["IsDeleted"]:
            raise not_found()
        api = self._api_row(od, row)
        out: dict[str, Any] = {"attributes": {"type": od.name,
                                              "url": f"/services/data/v{version}/sobjects/{od.name}/{row['Id']}"}}
        if fields:
            for name in fields:
                fdef = self.schema.visible_field(od, name)
                if fdef is None:
                    raise ApiError(400, "INVALID_FIELD",
                                   f"No such column '{name}' on entity '{od.name}'. If you are attempting to use "
                                   "a custom field, be sure to append the '__c' after the custom field name.")
                out[fdef.name] = api.get(fdef.name)
        else:
            for fdef in self.schema.visible_fields(od):
                out[fdef.name] = api.get(fdef.name)
        return out

    def _api_row(self, od: ObjectDef, row: Mapping[str, Any]) -> dict[str, Any]:
        if od.name != "ContentNote":
            return dict(row)
        out = dict(row)
        if row.get("Content") is not None:
            out["Content"] = base64.b64encode(row["Content"].encode()).decode()
        return out

    def readable(self, obj_name: str) -> ObjectDef:
        od = self.schema.visible(obj_name)
        if od is None:
            raise not_found()
        return od

    def _writable(self, obj_name: str, verb: str) -> ObjectDef:
        od = self.readable(obj_name)
        allowed = {"create": od.createable, "update": od.updateable, "delete": od.deletable}[verb]
        if self.schema.access(od.name) != "edit":
            raise ApiError(400, "INSUFFICIENT_ACCESS_OR_READONLY", _NO_ACCESS_MESSAGE)
        if not allowed:
            raise ApiError(400, "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be {verb}d: {od.name}")
        return od

    # ------------------------------------------------------------------ writes --------------------
    def create(self, obj_name: str, body: Mapping[str, Any], *, allow_save: bool = False) -> str:
        """Insert one record from an API body; returns its 18-character id.

        ``allow_save``: the request carried the duplicate rule header with ``allowSave=true``.
        """
        with self.lock:
            od = self._writable(obj_name, "create")
            values = self._validate_input(od, body, creating=True)
            row: dict[str, Any] = {f.name: None for f in od.fields.values()}
            for fdef in od.fields.values():
                if fdef.defaulted and fdef.default is not None:
                    row[fdef.name] = fdef.default
            row.update(values)
            with self.transaction():
                self._before_write(od, row, None, values)
                missing = [f.name for f in od.fields.values()
                           if f.required_on_create and row.get(f.name) in (None, "")]
                if missing:
                    raise ApiError(400, "REQUIRED_FIELD_MISSING",
                                   f"Required fields are missing: [{', '.join(missing)}]", missing)
                self._stamp(od, row, creating=True)
                derive_fields(self, od, row)
                self._check_duplicates(od, row, allow_save=allow_save)
                self._insert(od.name, row)
                self._after_write(od, row, None, values)
            return str(row["Id"])

    def update(self, obj_name: str, record_id: str, body: Mapping[str, Any]) -> None:
        with self.lock:
            od = self._writable(obj_name, "update")
            row = self.find(od.name, record_id)
            values = self._validate_input(od, body, creating=False)
            with self.transaction():
                before = dict(row)
                new_row = {**row, **values}
                self._before_write(od, new_row, before, values)
                missing = [f.name for f in od.fields.values() if f.name in values and not f.nillable
                           and values[f.name] in (None, "") and f.type != "boolean"]
                if missing:
                    raise ApiError(400, "REQUIRED_FIELD_MISSING",
                                   f"Required fields are missing: [{', '.join(missing)}]", missing)
                self._stamp(od, new_row, creating=False)
                derive_fields(self, od, new_row)
                self._set(od.name, row, new_row)
                self._after_write(od, row, before, values)

    def delete(self, obj_name: str, record_id: str) -> None:
        with self.lock:
            od = self._writable(obj_name, "delete")
            row = self.find(od.name, record_id, allow_deleted=True)
            if row["IsDeleted"]:
                raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
            with self.transaction():
                self._soft_delete(od.name, row)

    def _soft_delete(self, obj: str, row: dict[str, Any]) -> None:
        if row["IsDeleted"]:
            return
        self._set(obj, row, {"IsDeleted": True, "SystemModstamp": now_ms()})
        rid = row["Id"]
        cascades: list[tuple[str, str]] = {
            "Account": [("Contact", "AccountId"), ("Opportunity", "AccountId"),
                        ("ContentDocumentLink", "LinkedEntityId")],
            "Opportunity": [("OpportunityContactRole", "OpportunityId"), ("ContentDocumentLink", "LinkedEntityId")],
            "Contact": [("OpportunityContactRole", "ContactId"), ("ContentDocumentLink", "LinkedEntityId"),
                        ("TaskRelation", "RelationId"), ("EventRelation", "RelationId")],
            "Task": [("TaskRelation", "TaskId")],
            "Event": [("EventRelation", "EventId")],
            "ContentDocument": [("ContentDocumentLink", "ContentDocumentId")],
            "ContentNote": [("ContentDocumentLink", "ContentDocumentId")],
            "EmailMessage": [("EmailMessageRelation", "EmailMessageId"), ("ContentDocumentLink", "LinkedEntityId")],
        }.get(obj, [("ContentDocumentLink", "LinkedEntityId")])
        for child_obj, child_field in cascades:
            for child in list(self.tables[child_obj].values()):
                if child.get(child_field) == rid and not child["IsDeleted"]:
                    self._soft_delete(child_obj, child)
        twin = {"ContentNote": "ContentDocument", "ContentDocument": "ContentNote"}.get(obj)
        if twin and rid in self.tables[twin]:
            self._soft_delete(twin, self.tables[twin][rid])

    # ------------------------------------------------------------------ validation ----------------
    def _validate_input(self, od: ObjectDef, body: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        if not isinstance(body, Mapping):
            raise ApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from a non-object")
        values: dict[str, Any] = {}
        locked: list[str] = []
        for key, raw in body.items():
            if key == "attributes":
                continue
            fdef = self.schema.visible_field(od, key)
            if fdef is None:
                raise ApiError(400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {od.name}", [key])
            if fdef.name == "Id" and not creating:
                continue
            allowed = self.schema.can_create(od, fdef) if creating else self.schema.can_update(od, fdef)
            if not allowed:
                locked.append(fdef.name)
                continue
            values[fdef.name] = coerce(fdef, raw)
        if locked:
            raise ApiError(400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                           f"Unable to create/update fields: {', '.join(locked)}. Please check the security "
                           "settings of this field and verify that it is read/write for your profile or "
                           "permission set.", locked)
        for name, value in values.items():
            fdef = od.fields[name.lower()]
            if value is None:
                continue
            if fdef.type == "picklist" and fdef.restricted and value not in (fdef.values or []):
                raise ApiError(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                               f"{fdef.label}: bad value for restricted picklist field: {value}", [name])
            if fdef.type == "multipicklist":
                parts = [p for p in str(value).split(";") if p]
                bad = [p for p in parts if fdef.restricted and p not in (fdef.values or [])]
                if bad:
                    raise ApiError(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                   f"{fdef.label}: bad value for restricted picklist field: {bad[0]}", [name])
                values[name] = ";".join(dict.fromkeys(parts)) or None
            if fdef.type in ("reference",):
                values[name] = self._check_reference(od, fdef.name, value)
            elif isinstance(value, str) and fdef.length and len(value) > fdef.length and fdef.type != "base64":
                raise ApiError(400, "STRING_TOO_LONG",
                               f"{fdef.label}: data value too large: {value[:255]} (max length={fdef.length})",
                               [name])
        return values

    def _check_reference(self, od: ObjectDef, field_name: str, value: str) -> str:
        fdef = od.fields[field_name.lower()]
        if not is_id(value):
            raise ApiError(400, "MALFORMED_ID", f"{fdef.label}: id value of incorrect type: {value}", [field_name])
        rid = to18(value)
        target = self._by_id.get(rid)
        if target is None:
            raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [field_name])
        target_obj, target_row = target
        if field_name != "LinkedEntityId" and target_obj not in fdef.reference_to:
            raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION",
                           f"{fdef.label}: id value of incorrect type: {value}", [field_name])
        if target_row["IsDeleted"]:
            raise ApiError(400, "ENTITY_IS_DELETED", "entity is deleted", [field_name])
        return rid

    def _before_write(self, od: ObjectDef, row: dict[str, Any], before: dict[str, Any] | None,
                      values: dict[str, Any]) -> None:
        """Object-specific rules that may reject the write or fill fields."""
        if od.name in ("Task", "Event"):
            self._check_lead_what(row)
        if od.name == "Event":
            self._event_times(row, before, values)
        elif od.name in ("TaskRelation", "EventRelation") and before is None:
            self._check_relation(od.name, row, values)
        elif od.name == "ContentNote" and "Content" in values and values["Content"] is not None:
            row["Content"] = self._note_content(values["Content"])
        elif od.name == "ContentDocumentLink" and before is None:
            for link in self.tables["ContentDocumentLink"].values():
                if (not link["IsDeleted"] and link["ContentDocumentId"] == row.get("ContentDocumentId")
                        and link["LinkedEntityId"] == row.get("LinkedEntityId")):
                    raise ApiError(400, "DUPLICATE_VALUE",
                                   f"Document with ID: {row['ContentDocumentId']} is already linked with the "
                                   f"entity with ID: {row['LinkedEntityId']}", ["LinkedEntityId"])
        elif od.name == "Opportunity" and "Probability" not in values and (before is None or "StageName" in values):
            stage = self.stage_info.get(str(row.get("StageName")))
            if stage is not None:
                row["Probability"] = stage["DefaultProbability"]
        if od.custom and before is None and od.fields["name"].auto_number:
            count = self._autonumber.get(od.name, len(self.tables[od.name])) + 1
            self._autonumber[od.name] = count
            row["Name"] = f"{''.join(w[0] for w in od.label.split())[:3].upper()}-{count:05d}"

    @staticmethod
    def _check_lead_what(row: Mapping[str, Any]) -> None:
        if str(row.get("WhoId") or "").startswith("00Q") and row.get("WhatId"):
            raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION",
                           "Related To ID: You can't associate a lead with a record in the Related To field.",
                           ["WhatId"])

    def _check_relation(self, rel_obj: str, row: dict[str, Any], values: Mapping[str, Any]) -> None:
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
        whos = [r["RelationId"] for r in self.tables[rel_obj].values()
                if r[parent_field] == row[parent_field] and not r["IsDeleted"] and not r["IsWhat"]
                and (rel_obj == "TaskRelation" or r.get("IsParent"))]
        if relation in whos:
            raise ApiError(400, "DUPLICATE_VALUE", f"duplicate value found: RelationId duplicates value on record "
                                                   f"with id: {relation}", ["RelationId"])
        leads = [w for w in [*whos, relation] if w.startswith("00Q")]
        if leads and len(whos) >= 1:
            raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION",
                           "You can relate an activity to up to 50 contacts or one lead.", ["RelationId"])
        if len(whos) >= 50:
            raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION",
                           "You can relate an activity to up to 50 contacts or one lead.", ["RelationId"])

    def _check_duplicates(self, od: ObjectDef, row: Mapping[str, Any], *, allow_save: bool) -> None:
        """The fixture's duplicate rules: DUPLICATES_DETECTED naming the existing records.

        A rule's ``action`` is ``alert`` (Salesforce's standard rules: allow with an alert) or
        ``block``. Both refuse an API save; an ``alert`` rule lets it through when the request
        sends the duplicate rule header with ``allowSave=true``.
        """
        for rule in self.duplicate_rules:
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
            candidates = self.lookup(od.name, fields[0], [keys[0]]) or []
            matches = [c for c in candidates if c["Id"] != row.get("Id")
                       and all(str(c.get(f) or "").lower() == k for f, k in zip(fields, keys, strict=True))]
            if not matches:
                continue
            message = "You're creating a duplicate record. We recommend you use an existing record instead."
            url = f"/services/data/v{self.api_version}/sobjects/{od.name}/"
            detail = {
                "allowSave": alert, "duplicateRule": rule.get("name") or f"Standard_{od.name}_Duplicate_Rule",
                "duplicateRuleEntityType": od.name, "errorMessage": message,
                "matchResults": [{
                    "entityType": od.name, "errors": [], "matchEngine": "ExactMatchEngine",
                    "matchRecords": [{"additionalInformation": [], "fieldDiffs": [], "matchConfidence": 100.0,
                                      "record": {"attributes": {"type": od.name, "url": url + m["Id"]},
                                                 "Id": m["Id"]}} for m in matches],
                    "rule": f"Standard_{od.name}_Match_Rule_v1_1", "size": len(matches), "success": True}],
            }
            raise ApiError(400, "DUPLICATES_DETECTED", message, [], {"duplicateResut": detail})

    def _note_content(self, encoded: str) -> str:
        try:
            text = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ApiError(400, "JSON_PARSER_ERROR",
                           "Cannot deserialize instance of base64 from VALUE_STRING value (Content) "
                           "or request may be missing a required field") from None
        if note_html_problem(text):
            raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION",
                           "Note can't be saved because it contains HTML tags or unescaped characters that are "
                           "not allowed in a Note.", ["Content"])
        return text

    def _event_times(self, row: dict[str, Any], before: dict[str, Any] | None, values: dict[str, Any]) -> None:
        if row.get("IsAllDayEvent"):
            day = row.get("ActivityDate") if "ActivityDate" in values or row.get("StartDateTime") is None \
                else row["StartDateTime"].date()
            if day is None:
                raise ApiError(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [ActivityDate]",
                               ["ActivityDate"])
            days = max(1, (row.get("DurationInMinutes") or 1440) // 1440)
            if "EndDateTime" in values and values["EndDateTime"] is not None:
                days = max(1, (values["EndDateTime"].date() - day).days + 1)
            midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
            row.update(StartDateTime=midnight, DurationInMinutes=days * 1440, ActivityDate=day,
                       EndDateTime=midnight + timedelta(days=days - 1), ActivityDateTime=None)
            return
        if values.get("ActivityDateTime") is not None and "StartDateTime" not in values:
            row["StartDateTime"] = values["ActivityDateTime"]
        start = row.get("StartDateTime")
        if start is None:
            raise ApiError(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [StartDateTime]",
                           ["StartDateTime"])
        end_given = values.get("EndDateTime") is not None
        duration_given = values.get("DurationInMinutes") is not None
        if end_given:
            end = values["EndDateTime"]
        elif duration_given:
            end = start + timedelta(minutes=values["DurationInMinutes"])
        elif before is not None and before.get("DurationInMinutes") is not None:
            end = start + timedelta(minutes=before["DurationInMinutes"])
        else:
            raise ApiError(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [DurationInMinutes]",
                           ["DurationInMinutes"])
        if end < start:
            raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION",
                           "End Date Time: The end date/time must be after the start date/time.", ["EndDateTime"])
        duration = int((end - start).total_seconds() // 60)
        if duration > 14 * 1440:
            raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION", "Event duration cannot exceed 14 days.",
                           ["DurationInMinutes"])
        row.update(EndDateTime=end, DurationInMinutes=duration, ActivityDateTime=start, ActivityDate=start.date())

    def _stamp(self, od: ObjectDef, row: dict[str, Any], *, creating: bool) -> None:
        stamp = now_ms()
        if creating:
            row["Id"] = row.get("Id") or self.ids.new(od.prefix)
            row["IsDeleted"] = False
            if "CreatedDate" in row:
                row["CreatedDate"] = stamp
                row["CreatedById"] = self.integration_user_id
            if "OwnerId" in row and not row.get("OwnerId"):
                row["OwnerId"] = self.integration_user_id
        if "LastModifiedDate" in row:
            row["LastModifiedDate"] = stamp
            row["LastModifiedById"] = self.integration_user_id
        row["SystemModstamp"] = stamp

    def _after_write(self, od: ObjectDef, row: dict[str, Any], before: dict[str, Any] | None,
                     values: Mapping[str, Any]) -> None:
        """Side effects on other records."""
        if od.name == "OpportunityContactRole" and row.get("IsPrimary"):
            for other in self.tables["OpportunityContactRole"].values():
                if (other is not row and other["OpportunityId"] == row["OpportunityId"] and other["IsPrimary"]
                        and not other["IsDeleted"]):
                    self._set(od.name, other, {"IsPrimary": False, "SystemModstamp": now_ms()})
        elif od.name == "ContentNote":
            self._sync_note_document(row, creating=before is None)
        elif od.name in ("Task", "Event"):
            if self.schema.shared_activities:
                self._sync_activity_relations(od.name, row, before)
            self._touch_last_activity(row)
        elif od.name in ("TaskRelation", "EventRelation") and before is None:
            self._promote_who(od.name, row)

    def _sync_note_document(self, note: dict[str, Any], *, creating: bool) -> None:
        size = len((note.get("Content") or "").encode())
        doc_fields = {"Title": note["Title"], "OwnerId": note["OwnerId"], "FileType": "SNOTE",
                      "FileExtension": "snote", "ContentSize": size,
                      "LastModifiedDate": note["LastModifiedDate"], "SystemModstamp": note["SystemModstamp"],
                      "LastModifiedById": note["LastModifiedById"]}
        if creating:
            version_id = self.ids.new("068")
            note["LatestPublishedVersionId"] = version_id
            doc: dict[str, Any] = {f.name: None for f in self.schema.objects["ContentDocument"].fields.values()}
            doc.update(doc_fields, Id=note["Id"], IsDeleted=False, CreatedDate=note["CreatedDate"],
                       CreatedById=note["CreatedById"], LatestPublishedVersionId=version_id)
            self._insert("ContentDocument", doc)
            link: dict[str, Any] = {f.name: None for f in self.schema.objects["ContentDocumentLink"].fields.values()}
            link.update(Id=self.ids.new("06A"), IsDeleted=False, ContentDocumentId=note["Id"],
                        LinkedEntityId=note["OwnerId"], ShareType="I", Visibility="AllUsers",
                        SystemModstamp=note["SystemModstamp"])
            self._insert("ContentDocumentLink", link)
        else:
            self._set("ContentDocument", self.tables["ContentDocument"][note["Id"]], doc_fields)

    def _sync_activity_relations(self, obj: str, row: dict[str, Any], before: dict[str, Any] | None) -> None:
        rel_obj, parent_field = ("TaskRelation", "TaskId") if obj == "Task" else ("EventRelation", "EventId")
        for field_name, is_what in (("WhoId", False), ("WhatId", True)):
            old = before.get(field_name) if before else None
            new = row.get(field_name)
            if old == new:
                continue
            for rel in list(self.tables[rel_obj].values()):
                if (old and rel[parent_field] == row["Id"] and rel["RelationId"] == old and not rel["IsDeleted"]
                        and (obj == "Task" or rel.get("IsParent"))):
                    self._set(rel_obj, rel, {"IsDeleted": True, "SystemModstamp": now_ms()})
            if new and not any(r[parent_field] == row["Id"] and r["RelationId"] == new and not r["IsDeleted"]
                               for r in self.tables[rel_obj].values()):
                self._new_relation(rel_obj, parent_field, row["Id"], new, is_what)

    def _new_relation(self, rel_obj: str, parent_field: str, parent_id: str, relation_id: str,
                      is_what: bool) -> None:
        od = self.schema.objects[rel_obj]
        rel: dict[str, Any] = {f.name: None for f in od.fields.values()}
        rel.update({parent_field: parent_id, "RelationId": relation_id, "IsWhat": is_what})
        if rel_obj == "EventRelation":
            rel.update(IsParent=True, IsInvitee=False, Status="New")
        self._stamp(od, rel, creating=True)
        self._insert(rel_obj, rel)

    def _promote_who(self, rel_obj: str, rel: dict[str, Any]) -> None:
        activity_obj, parent_field = ("Task", "TaskId") if rel_obj == "TaskRelation" else ("Event", "EventId")
        if rel["IsWhat"] or (rel_obj == "EventRelation" and not rel.get("IsParent")):
            return
        activity = self.tables[activity_obj].get(rel[parent_field])
        if activity is not None and not activity.get("WhoId"):
            self._set(activity_obj, activity, {"WhoId": rel["RelationId"]})

    def _touch_last_activity(self, row: dict[str, Any]) -> None:
        day = row.get("ActivityDate")
        if not isinstance(day, date):
            return
        for target_id in {row.get("WhoId"), row.get("WhatId"), row.get("AccountId")}:
            found = self._by_id.get(target_id) if target_id else None
            if found is None or found[0] not in ACTIVITY_TARGETS:
                continue
            target_obj, target = found
            if target.get("LastActivityDate") is None or target["LastActivityDate"] < day:
                self._set(target_obj, target, {"LastActivityDate": day})


def derive_fields(store: OrgStore, od: ObjectDef, row: dict[str, Any]) -> None:
    """Compute the fields Salesforce derives from others (used on writes and on fixture load)."""
    name = od.name
    if name in NAME_OBJECTS:
        if row.get("LastName") is None and row.get("Name") and row.get("FirstName") is None:
            first, _, last = str(row["Name"]).rpartition(" ")
            row["FirstName"], row["LastName"] = first or None, last
        row["Name"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p) or None
    elif name == "Opportunity":
        stage = store.stage_info.get(str(row.get("StageName")))
        if stage is not None:
            row["IsClosed"], row["IsWon"] = stage["IsClosed"], stage["IsWon"]
            row["ForecastCategoryName"] = stage["ForecastCategoryName"]
    elif name == "Task":
        row["IsClosed"] = row.get("Status") in CLOSED_TASK_STATUSES
    elif name in ("TaskRelation", "EventRelation"):
        rel = row.get("RelationId") or ""
        row["IsWhat"] = not rel.startswith((*WHO_PREFIXES, "005"))
    elif name == "EmailMessageRelation":
        person = store._by_id.get(row.get("RelationId") or "")
        row["RelationObjectType"] = person[0] if person is not None else None
        if not row.get("RelationAddress") and person is not None:
            row["RelationAddress"] = person[1].get("Email")  # auto-populated from RelationId
    elif name == "ContentNote":
        text = row.get("Content") or ""
        preview = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()
        row["TextPreview"] = preview[:255] or None
        row["FileType"], row["FileExtension"] = "SNOTE", "snote"
        row["ContentSize"] = len(text.encode())
    if name in ("Task", "Event"):
        row["AccountId"] = _activity_account(store, row)


def _activity_account(store: OrgStore, row: Mapping[str, Any]) -> str | None:
    what = store._by_id.get(row.get("WhatId") or "")
    if what is not None:
        if what[0] == "Account":
            return str(what[1]["Id"])
        if what[0] == "Opportunity" or "AccountId" in what[1]:
            return what[1].get("AccountId")
    who = store._by_id.get(row.get("WhoId") or "")
    if who is not None and who[0] == "Contact":
        return who[1].get("AccountId")
    return None
