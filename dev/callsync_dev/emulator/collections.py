"""sObject Collections: ``POST|PATCH|DELETE composite/sobjects`` and ``GET composite/sobjects/X``."""

from __future__ import annotations

from typing import Any

from callsync_dev.emulator.errors import ApiError
from callsync_dev.emulator.ids import is_id
from callsync_dev.emulator.messages import Result, allows_duplicates
from callsync_dev.emulator.store import OrgStore

MAX_RECORDS = 200
ROLLED_BACK = ApiError(
    400,
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone header",
)


class _Rollback(Exception):
    pass


def run(
    store: OrgStore,
    method: str,
    parts: list[str],
    version: str,
    query: dict[str, list[str]],
    body: Any,
    headers: dict[str, str] | None = None,
) -> Result:
    allow_save = allows_duplicates(headers or {})

    if parts:
        if method not in ("GET", "POST"):
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET,POST")
        return Result(200, _retrieve(store, parts[0], version, query, body))
    if method == "DELETE":
        ids = [i for i in (query.get("ids") or [""])[0].split(",") if i]
        all_or_none = (query.get("allOrNone") or ["false"])[0].lower() == "true"
        _check_size(len(ids))
        return Result(200, _apply(store, [(None, i) for i in ids], all_or_none, "delete", allow_save))
    if method not in ("POST", "PATCH"):
        raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are POST,PATCH,DELETE")
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise ApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize the request: 'records' must be a list")
    records = body["records"]
    _check_size(len(records))
    verb = "create" if method == "POST" else "update"
    return Result(200, _apply(store, [(r, None) for r in records], bool(body.get("allOrNone")), verb, allow_save))


def _check_size(count: int) -> None:
    if count > MAX_RECORDS:
        raise ApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {MAX_RECORDS} records into this call",
        )


def _apply(
    store: OrgStore, items: list[tuple[Any, str | None]], all_or_none: bool, verb: str, allow_save: bool
) -> list[dict[str, Any]]:
    """Write each record in its own savepoint; with ``all_or_none`` any failure undoes them all.

    A failed entry carries the id it was given (update, delete of a well-formed id); a create's,
    or a malformed id's, has no ``id`` key. Rolled-back entries keep the given id for updates and
    deletes and have none for creates.
    """
    results: list[dict[str, Any]] = []
    failed = False
    with store.lock:
        try:
            with store.transaction():
                for record, record_id in items:
                    try:
                        with store.transaction():
                            rid = _write_one(store, verb, record, record_id, allow_save)
                        results.append({"id": rid, "success": True, "errors": []})
                    except ApiError as exc:
                        failed = True
                        entry: dict[str, Any] = {"success": False, "errors": [exc.collection_error()]}
                        given = _given_id(record, record_id)
                        if verb != "create" and given is not None and exc.error_code != "MALFORMED_ID":
                            entry = {"id": given, **entry}
                        results.append(entry)
                if all_or_none and failed:
                    raise _Rollback
        except _Rollback:
            for entry in results:
                if entry["success"]:
                    entry.update(success=False, errors=[ROLLED_BACK.collection_error()])
                    if verb == "create":
                        del entry["id"]
    return results


def _given_id(record: Any, record_id: str | None) -> str | None:
    if record_id is not None:
        return record_id
    return record.get("Id") if isinstance(record, dict) else None


def _write_one(store: OrgStore, verb: str, record: Any, record_id: str | None, allow_save: bool) -> str:
    if verb == "delete":
        assert record_id is not None
        if not is_id(record_id):
            raise ApiError(400, "MALFORMED_ID", f"malformed id {record_id}")
        found = store.by_id(record_id)
        if found is None:
            raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        obj = found[0]
        store.delete(obj, record_id)
        return str(found[1]["Id"])
    if not isinstance(record, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "Each record must be a JSON object")
    obj = str((record.get("attributes") or {}).get("type") or "")
    if not obj:
        raise ApiError(400, "INVALID_TYPE", "Must specify a type in attributes")
    if store.schema.visible(obj) is None:
        raise ApiError(400, "INVALID_TYPE", f"sObject type '{obj}' is not supported.")
    fields = {k: v for k, v in record.items() if k != "attributes"}
    if verb == "create":
        if fields.get("Id"):
            raise ApiError(400, "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
        return store.create(obj, fields, allow_save=allow_save)
    rid = fields.pop("Id", None)
    if not rid:
        raise ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
    try:
        store.update(obj, rid, fields)
    except ApiError as exc:
        if exc.status == 404:
            raise ApiError(
                400, "INVALID_CROSS_REFERENCE_KEY" if exc.error_code == "NOT_FOUND" else exc.error_code, exc.message
            ) from None
        raise
    return str(store.find(store.schema.visible(obj).name, rid)["Id"])  # type: ignore[union-attr]


def _retrieve(store: OrgStore, obj: str, version: str, query: dict[str, list[str]], body: Any) -> list[Any]:
    if isinstance(body, dict):
        ids, fields = body.get("ids") or [], body.get("fields") or []
    else:
        ids = [i for i in (query.get("ids") or [""])[0].split(",") if i]
        fields = [f for f in (query.get("fields") or [""])[0].split(",") if f]
    if not fields:
        raise ApiError(400, "MALFORMED_QUERY", "fields parameter is required")
    _check_size(len(ids))
    out: list[Any] = []
    with store.lock:
        for rid in ids:
            try:
                out.append(store.get_record(obj, rid, list(fields), version))
            except ApiError as exc:
                if exc.error_code in ("NOT_FOUND", "ENTITY_IS_DELETED") and store.schema.visible(obj):
                    out.append(None)
                else:
                    raise
    return out
