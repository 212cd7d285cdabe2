"""What a write changes besides its own record, and the fields Salesforce derives.

``SideEffects`` runs inside the writing transaction: stamps (ids, audit fields), a note's
ContentDocument and owner link, Shared Activities relations, a new primary contact role,
LastActivityDate, and soft-delete cascades. ``derive_fields`` computes derived fields (Name,
IsClosed/IsWon, activity AccountId, ...) on writes and on fixture load.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from callsync_dev.emulator.schema import ObjectDef
from callsync_dev.emulator.storage import RecordStorage, now_ms
from callsync_dev.emulator.validation import WHO_PREFIXES

NAME_OBJECTS = ("Contact", "Lead", "User")
ACTIVITY_TARGETS = ("Account", "Contact", "Lead", "Opportunity")
CLOSED_TASK_STATUSES = frozenset({"Completed"})


class SideEffects:
    """The writes a write causes, over one org's records."""

    def __init__(self, store: RecordStorage) -> None:
        self.store = store

    def stamp(self, od: ObjectDef, row: dict[str, Any], *, creating: bool) -> None:
        stamp = now_ms()
        if creating:
            row["Id"] = row.get("Id") or self.store.ids.new(od.prefix)
            row["IsDeleted"] = False
            if "CreatedDate" in row:
                row["CreatedDate"] = stamp
                row["CreatedById"] = self.store.integration_user_id
            if "OwnerId" in row and not row.get("OwnerId"):
                row["OwnerId"] = self.store.integration_user_id
        if "LastModifiedDate" in row:
            row["LastModifiedDate"] = stamp
            row["LastModifiedById"] = self.store.integration_user_id
        row["SystemModstamp"] = stamp

    def after_write(
        self, od: ObjectDef, row: dict[str, Any], before: dict[str, Any] | None, values: Mapping[str, Any]
    ) -> None:
        """Side effects on other records."""
        if od.name == "OpportunityContactRole" and row.get("IsPrimary"):
            for other in self.store.tables["OpportunityContactRole"].values():
                if (
                    other is not row
                    and other["OpportunityId"] == row["OpportunityId"]
                    and other["IsPrimary"]
                    and not other["IsDeleted"]
                ):
                    self.store.set_fields(od.name, other, {"IsPrimary": False, "SystemModstamp": now_ms()})
        elif od.name == "ContentNote":
            self.sync_note_document(row, creating=before is None)
        elif od.name in ("Task", "Event"):
            if self.store.schema.shared_activities:
                self.sync_activity_relations(od.name, row, before)
            self.touch_last_activity(row)
        elif od.name in ("TaskRelation", "EventRelation") and before is None:
            self.promote_who(od.name, row)

    def sync_note_document(self, note: dict[str, Any], *, creating: bool) -> None:
        size = len((note.get("Content") or "").encode())
        doc_fields = {
            "Title": note["Title"],
            "OwnerId": note["OwnerId"],
            "FileType": "SNOTE",
            "FileExtension": "snote",
            "ContentSize": size,
            "LastModifiedDate": note["LastModifiedDate"],
            "SystemModstamp": note["SystemModstamp"],
            "LastModifiedById": note["LastModifiedById"],
        }
        if creating:
            version_id = self.store.ids.new("068")
            note["LatestPublishedVersionId"] = version_id
            doc: dict[str, Any] = {f.name: None for f in self.store.schema.objects["ContentDocument"].fields.values()}
            doc.update(
                doc_fields,
                Id=note["Id"],
                IsDeleted=False,
                CreatedDate=note["CreatedDate"],
                CreatedById=note["CreatedById"],
                LatestPublishedVersionId=version_id,
            )
            self.store.insert_row("ContentDocument", doc)
            link_fields = self.store.schema.objects["ContentDocumentLink"].fields.values()
            link: dict[str, Any] = {f.name: None for f in link_fields}
            link.update(
                Id=self.store.ids.new("06A"),
                IsDeleted=False,
                ContentDocumentId=note["Id"],
                LinkedEntityId=note["OwnerId"],
                ShareType="I",
                Visibility="AllUsers",
                SystemModstamp=note["SystemModstamp"],
            )
            self.store.insert_row("ContentDocumentLink", link)
        else:
            self.store.set_fields("ContentDocument", self.store.tables["ContentDocument"][note["Id"]], doc_fields)

    def sync_activity_relations(self, obj: str, row: dict[str, Any], before: dict[str, Any] | None) -> None:
        rel_obj, parent_field = ("TaskRelation", "TaskId") if obj == "Task" else ("EventRelation", "EventId")
        for field_name, is_what in (("WhoId", False), ("WhatId", True)):
            old = before.get(field_name) if before else None
            new = row.get(field_name)
            if old == new:
                continue
            for rel in list(self.store.tables[rel_obj].values()):
                if (
                    old
                    and rel[parent_field] == row["Id"]
                    and rel["RelationId"] == old
                    and not rel["IsDeleted"]
                    and (obj == "Task" or rel.get("IsParent"))
                ):
                    self.store.set_fields(rel_obj, rel, {"IsDeleted": True, "SystemModstamp": now_ms()})
            if new and not any(
                r[parent_field] == row["Id"] and r["RelationId"] == new and not r["IsDeleted"]
                for r in self.store.tables[rel_obj].values()
            ):
                self.new_relation(rel_obj, parent_field, row["Id"], new, is_what)

    def new_relation(self, rel_obj: str, parent_field: str, parent_id: str, relation_id: str, is_what: bool) -> None:
        od = self.store.schema.objects[rel_obj]
        rel: dict[str, Any] = {f.name: None for f in od.fields.values()}
        rel.update({parent_field: parent_id, "RelationId": relation_id, "IsWhat": is_what})
        if rel_obj == "EventRelation":
            rel.update(IsParent=True, IsInvitee=False, Status="New")
        self.stamp(od, rel, creating=True)
        self.store.insert_row(rel_obj, rel)

    def promote_who(self, rel_obj: str, rel: dict[str, Any]) -> None:
        activity_obj, parent_field = ("Task", "TaskId") if rel_obj == "TaskRelation" else ("Event", "EventId")
        if rel["IsWhat"] or (rel_obj == "EventRelation" and not rel.get("IsParent")):
            return
        activity = self.store.tables[activity_obj].get(rel[parent_field])
        if activity is not None and not activity.get("WhoId"):
            self.store.set_fields(activity_obj, activity, {"WhoId": rel["RelationId"]})

    def touch_last_activity(self, row: dict[str, Any]) -> None:
        day = row.get("ActivityDate")
        if not isinstance(day, date):
            return
        for target_id in {row.get("WhoId"), row.get("WhatId"), row.get("AccountId")}:
            found = self.store.row_by_id(target_id) if target_id else None
            if found is None or found[0] not in ACTIVITY_TARGETS:
                continue
            target_obj, target = found
            if target.get("LastActivityDate") is None or target["LastActivityDate"] < day:
                self.store.set_fields(target_obj, target, {"LastActivityDate": day})

    def soft_delete(self, obj: str, row: dict[str, Any]) -> None:
        if row["IsDeleted"]:
            return
        self.store.set_fields(obj, row, {"IsDeleted": True, "SystemModstamp": now_ms()})
        rid = row["Id"]
        cascades: list[tuple[str, str]] = {
            "Account": [
                ("Contact", "AccountId"),
                ("Opportunity", "AccountId"),
                ("ContentDocumentLink", "LinkedEntityId"),
            ],
            "Opportunity": [("OpportunityContactRole", "OpportunityId"), ("ContentDocumentLink", "LinkedEntityId")],
            "Contact": [
                ("OpportunityContactRole", "ContactId"),
                ("ContentDocumentLink", "LinkedEntityId"),
                ("TaskRelation", "RelationId"),
                ("EventRelation", "RelationId"),
            ],
            "Task": [("TaskRelation", "TaskId")],
            "Event": [("EventRelation", "EventId")],
            "ContentDocument": [("ContentDocumentLink", "ContentDocumentId")],
            "ContentNote": [("ContentDocumentLink", "ContentDocumentId")],
            "EmailMessage": [("EmailMessageRelation", "EmailMessageId"), ("ContentDocumentLink", "LinkedEntityId")],
        }.get(obj, [("ContentDocumentLink", "LinkedEntityId")])
        for child_obj, child_field in cascades:
            for child in list(self.store.tables[child_obj].values()):
                if child.get(child_field) == rid and not child["IsDeleted"]:
                    self.soft_delete(child_obj, child)
        twin = {"ContentNote": "ContentDocument", "ContentDocument": "ContentNote"}.get(obj)
        if twin and rid in self.store.tables[twin]:
            self.soft_delete(twin, self.store.tables[twin][rid])


def derive_fields(store: RecordStorage, od: ObjectDef, row: dict[str, Any]) -> None:
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
        person = store.row_by_id(row.get("RelationId") or "")
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


def _activity_account(store: RecordStorage, row: Mapping[str, Any]) -> str | None:
    what = store.row_by_id(row.get("WhatId") or "")
    if what is not None:
        if what[0] == "Account":
            return str(what[1]["Id"])
        if what[0] == "Opportunity" or "AccountId" in what[1]:
            return what[1].get("AccountId")
    who = store.row_by_id(row.get("WhoId") or "")
    if who is not None and who[0] == "Contact":
        return who[1].get("AccountId")
    return None
