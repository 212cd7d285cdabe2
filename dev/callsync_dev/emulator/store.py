"""The org: records (``storage``), Salesforce's write rules (``validation``) and what writes cause
(``effects``), put together as the REST API's create/read/update/delete; implements the SOQL ``Catalog``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callsync_dev.emulator.effects import SideEffects, derive_fields
from callsync_dev.emulator.errors import ApiError, not_found
from callsync_dev.emulator.ids import IdFactory
from callsync_dev.emulator.schema import ObjectDef, Schema
from callsync_dev.emulator.storage import RecordStorage, now_ms
from callsync_dev.emulator.validation import Validator

__all__ = ["OrgStore", "derive_fields", "now_ms"]
_NO_ACCESS_MESSAGE = (
    "You do not have the level of access necessary to perform the operation you requested. "
    "Please contact the owner of the record or your administrator if access is necessary."
)


class OrgStore(RecordStorage):
    """Records of every object, guarded by one re-entrant lock; writes validated and applied as Salesforce does."""

    def __init__(self, schema: Schema, ids: IdFactory | None = None) -> None:
        super().__init__(schema, ids)
        self.validator = Validator(self)
        self.effects = SideEffects(self)

    def get_record(self, obj_name: str, record_id: str, fields: list[str] | None, version: str) -> dict[str, Any]:
        od = self.readable(obj_name)
        row = self.find(od.name, record_id)
        if row["IsDeleted"]:
            raise not_found()
        api = self._api_row(od, row)
        out: dict[str, Any] = {
            "attributes": {"type": od.name, "url": f"/services/data/v{version}/sobjects/{od.name}/{row['Id']}"}
        }
        if fields:
            for name in fields:
                fdef = self.schema.visible_field(od, name)
                if fdef is None:
                    raise ApiError(
                        400,
                        "INVALID_FIELD",
                        f"No such column '{name}' on entity '{od.name}'. If you are attempting to use "
                        "a custom field, be sure to append the '__c' after the custom field name.",
                    )
                out[fdef.name] = api.get(fdef.name)
        else:
            for fdef in self.schema.visible_fields(od):
                out[fdef.name] = api.get(fdef.name)
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

    def create(self, obj_name: str, body: Mapping[str, Any], *, allow_save: bool = False) -> str:
        """Insert one record from an API body; returns its 18-character id.

        ``allow_save``: the request carried the duplicate rule header with ``allowSave=true``.
        """
        with self.lock:
            od = self._writable(obj_name, "create")
            values = self.validator.validate_input(od, body, creating=True)
            row: dict[str, Any] = {f.name: None for f in od.fields.values()}
            for fdef in od.fields.values():
                if fdef.defaulted and fdef.default is not None:
                    row[fdef.name] = fdef.default
            row.update(values)
            with self.transaction():
                self.validator.object_rules(od, row, None, values)
                missing = [f.name for f in od.fields.values() if f.required_on_create and row.get(f.name) in (None, "")]
                if missing:
                    raise ApiError(
                        400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing
                    )
                self.effects.stamp(od, row, creating=True)
                derive_fields(self, od, row)
                self.validator.check_duplicates(od, row, allow_save=allow_save)
                self.insert_row(od.name, row)
                self.effects.after_write(od, row, None, values)
            return str(row["Id"])

    def update(self, obj_name: str, record_id: str, body: Mapping[str, Any]) -> None:
        with self.lock:
            od = self._writable(obj_name, "update")
            row = self.find(od.name, record_id)
            values = self.validator.validate_input(od, body, creating=False)
            with self.transaction():
                before = dict(row)
                new_row = {**row, **values}
                self.validator.object_rules(od, new_row, before, values)
                missing = [
                    f.name
                    for f in od.fields.values()
                    if f.name in values and not f.nillable and values[f.name] in (None, "") and f.type != "boolean"
                ]
                if missing:
                    raise ApiError(
                        400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing
                    )
                self.effects.stamp(od, new_row, creating=False)
                derive_fields(self, od, new_row)
                self.set_fields(od.name, row, new_row)
                self.effects.after_write(od, row, before, values)

    def delete(self, obj_name: str, record_id: str) -> None:
        with self.lock:
            od = self._writable(obj_name, "delete")
            row = self.find(od.name, record_id, allow_deleted=True)
            if row["IsDeleted"]:
                raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
            with self.transaction():
                self.effects.soft_delete(od.name, row)
