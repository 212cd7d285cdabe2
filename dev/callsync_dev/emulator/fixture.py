"""Org fixtures (INTERFACES.md §3): load one into a store, dump a store back into the same shape."""

from __future__ import annotations

import copy
import json
import os
import pathlib
import random
from dataclasses import dataclass, field
from typing import Any

from callsync_dev.emulator.errors import ApiError
from callsync_dev.emulator.ids import IdFactory, checksum_suffix, is_id, looks_like_id18, to18
from callsync_dev.emulator.schema import STANDARD_STAGES, Permissions, Schema, build_objects
from callsync_dev.emulator.store import OrgStore, derive_fields, now_ms
from callsync_dev.emulator.values import coerce, to_fixture

FixtureSource = dict[str, Any] | str | pathlib.Path | None
TOP_LEVEL_KEYS = {
    "shared_activities",
    "api_limit",
    "api_usage",
    "latency_ms",
    "schema",
    "hidden_fields",
    "read_only_fields",
    "object_permissions",
    "records",
    "faults",
    "session_expires_after",
    "refresh_token_revoked",
    "rotate_refresh_tokens",
    "integration_user_id",
    "duplicate_rules",
    "query_batch_size",
    "child_batch_size",
    "chaos",
    "issued_ids",
}
DEFAULT_API_LIMIT = 15000
QUERY_BATCH_SIZE = 2000  # Salesforce's default and maximum; not guaranteed (Query Options Header)
CHILD_BATCH_SIZE = 200  # children of one parent record per batch before the child result pages
CHAOS_ENV = "CALLSYNC_EMULATOR_CHAOS"  # set (1 or a seed) to load every fixture with the chaos switch on


class FixtureError(ValueError):
    """The fixture cannot be loaded; the message names the object, record and field."""


@dataclass
class OrgSettings:
    """The fixture's org-level switches (everything but schema and records)."""

    shared_activities: bool = True
    api_limit: int = DEFAULT_API_LIMIT
    api_usage: int = 0  # requests already counted in the rolling 24 hours (other clients, earlier runs)
    latency_ms: int = 0  # every REST request takes at least this long to answer (a slow or busy org)
    faults: list[dict[str, Any]] = field(default_factory=list)
    session_expires_after: int | None = None
    refresh_token_revoked: bool = False
    rotate_refresh_tokens: bool = False
    schema: dict[str, Any] = field(default_factory=dict)
    hidden_fields: list[str] = field(default_factory=list)
    read_only_fields: list[str] = field(default_factory=list)
    object_permissions: dict[str, str] = field(default_factory=dict)
    duplicate_rules: list[dict[str, Any]] = field(default_factory=list)
    query_batch_size: int = QUERY_BATCH_SIZE
    child_batch_size: int = CHILD_BATCH_SIZE
    chaos_seed: int | None = None  # chaos switch: shuffled independent subrequests, small irregular pages


def _batch_size(fixture: dict[str, Any], key: str, default: int) -> int:
    value = fixture.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= QUERY_BATCH_SIZE:
        raise FixtureError(f"fixture: {key} must be an integer from 1 to {QUERY_BATCH_SIZE}, not {value!r}")
    return value


def _non_negative(fixture: dict[str, Any], key: str) -> int:
    value = fixture.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FixtureError(f"fixture: {key} must be a non-negative integer, not {value!r}")
    return value


def _issued_ids(fixture: dict[str, Any]) -> dict[str, int]:
    """``issued_ids``: ids issued so far per key prefix (a dump's), so a reloaded org never reissues a deleted one."""
    issued = fixture.get("issued_ids") or {}
    if not isinstance(issued, dict) or not all(
        isinstance(k, str) and len(k) == 3 and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for k, v in issued.items()
    ):
        raise FixtureError("issued_ids: expected {key prefix (3 characters): count issued (integer >= 0)}")
    return {str(k): int(v) for k, v in issued.items()}


def _api_usage(fixture: dict[str, Any]) -> int:
    return _non_negative(fixture, "api_usage")


def chaos_seed(value: Any, env: str | None = None) -> int | None:
    """The chaos switch's seed: fixture ``"chaos": true`` or ``{"seed": N}``, else the environment's."""
    if value is None and env not in (None, "", "0"):
        value = {"seed": int(env)} if env.isdigit() and env != "1" else True  # type: ignore[union-attr]
    if value in (None, False):
        return None
    if value is True:
        return random.SystemRandom().randrange(2**31)
    if isinstance(value, dict) and set(value) <= {"seed"} and isinstance(value.get("seed", 0), int):
        return int(value.get("seed", 0))
    raise FixtureError(f'fixture: chaos must be true, false or {{"seed": N}}, not {value!r}')


def read_fixture(source: FixtureSource) -> dict[str, Any]:
    """A fixture dict from a dict, a JSON text, or a path to a JSON file (None: an empty org)."""
    if source is None:
        return {}
    if isinstance(source, dict):
        return dict(source)  # records are only read; the small mutable sections are deep-copied below
    if isinstance(source, str) and source.lstrip().startswith("{"):
        return dict(json.loads(source))
    return dict(json.loads(pathlib.Path(source).read_text(encoding="utf-8")))


def build_org(source: FixtureSource) -> tuple[OrgStore, OrgSettings]:
    fixture = read_fixture(source)
    unknown = set(fixture) - TOP_LEVEL_KEYS
    if unknown:
        raise FixtureError(f"fixture: unknown top-level keys {sorted(unknown)}")
    settings = OrgSettings(
        shared_activities=bool(fixture.get("shared_activities", True)),
        api_limit=int(fixture.get("api_limit") or DEFAULT_API_LIMIT),
        api_usage=_api_usage(fixture),
        latency_ms=_non_negative(fixture, "latency_ms"),
        faults=copy.deepcopy(list(fixture.get("faults") or [])),
        session_expires_after=fixture.get("session_expires_after"),
        refresh_token_revoked=bool(fixture.get("refresh_token_revoked", False)),
        rotate_refresh_tokens=bool(fixture.get("rotate_refresh_tokens", False)),
        schema=copy.deepcopy(dict(fixture.get("schema") or {})),
        hidden_fields=list(fixture.get("hidden_fields") or []),
        read_only_fields=list(fixture.get("read_only_fields") or []),
        object_permissions=dict(fixture.get("object_permissions") or {}),
        duplicate_rules=copy.deepcopy(list(fixture.get("duplicate_rules") or [])),
        query_batch_size=_batch_size(fixture, "query_batch_size", QUERY_BATCH_SIZE),
        child_batch_size=_batch_size(fixture, "child_batch_size", CHILD_BATCH_SIZE),
        chaos_seed=chaos_seed(fixture.get("chaos"), os.environ.get(CHAOS_ENV)),
    )
    for rule in settings.duplicate_rules:
        if str(rule.get("action") or "alert").lower() not in ("alert", "block"):
            raise FixtureError(f"fixture duplicate_rules: action must be alert or block, not {rule.get('action')!r}")
    for perm in settings.object_permissions.values():
        if perm not in ("none", "read", "edit"):
            raise FixtureError(f"fixture: object permission must be none, read or edit, not {perm!r}")
    try:
        objects = build_objects(settings.schema)
    except ValueError as exc:
        raise FixtureError(f"fixture schema: {exc}") from exc
    permissions = Permissions(
        hidden_fields={f.lower() for f in settings.hidden_fields},
        read_only_fields={f.lower() for f in settings.read_only_fields},
        object_permissions={k.lower(): v for k, v in settings.object_permissions.items()},
    )
    schema = Schema(objects, permissions, settings.shared_activities)
    store = OrgStore(schema, IdFactory())
    store.ids.resume(_issued_ids(fixture))
    store.duplicate_rules = settings.duplicate_rules
    _load_records(store, fixture.get("records") or {}, fixture.get("integration_user_id"))
    return store, settings


def _refuse_bad_checksum(obj_name: str, record: Any, field_name: str, value: Any = None) -> None:
    """An 18-character id whose case-checksum suffix is wrong: Salesforce never issues one."""
    value = record if value is None else value
    if isinstance(value, str) and looks_like_id18(value) and not is_id(value):
        raise FixtureError(
            f"fixture records: {obj_name} {record!r}: {field_name} {value!r} is an 18-character id "
            f"whose checksum suffix is wrong (expected {value[:15]}{checksum_suffix(value[:15])}, "
            "or give the 15-character id)"
        )


def _load_records(store: OrgStore, records: dict[str, list[dict[str, Any]]], user_id: str | None) -> None:
    schema = store.schema
    canonical: dict[str, list[dict[str, Any]]] = {}
    for obj_name, rows in records.items():
        od = schema.exists(obj_name)
        if od is None:
            raise FixtureError(f"fixture records: unknown object {obj_name}")
        if od.name in ("TaskWhoRelation", "EventWhoRelation"):
            continue
        canonical.setdefault(od.name, []).extend(rows or [])
    if not canonical.get("OpportunityStage"):
        canonical["OpportunityStage"] = [
            {
                "MasterLabel": label,
                "ApiName": label,
                "IsActive": True,
                "SortOrder": i + 1,
                "IsClosed": closed,
                "IsWon": won,
                "ForecastCategoryName": forecast,
                "DefaultProbability": probability,
            }
            for i, (label, probability, closed, won, forecast) in enumerate(STANDARD_STAGES)
        ]
    symbolic: dict[str, str] = {}
    for obj_name, rows in canonical.items():
        od = schema.objects[obj_name]
        for given_row in rows:
            rid = given_row.get("Id")
            _refuse_bad_checksum(obj_name, rid, "Id")
            if isinstance(rid, str) and is_id(rid):
                store.ids.reserve(to18(rid))
            elif rid is not None and obj_name not in ("ContentDocument",):
                symbolic[str(rid)] = ""
    for obj_name, rows in canonical.items():
        od = schema.objects[obj_name]
        for given_row in rows:
            rid = given_row.get("Id")
            if rid is not None and not is_id(rid) and not symbolic.get(str(rid)):
                symbolic[str(rid)] = store.ids.new(od.prefix)
    store.integration_user_id = _integration_user(store, canonical, symbolic, user_id)
    stamp = now_ms()
    loaded: list[tuple[str, dict[str, Any]]] = []
    for obj_name, rows in canonical.items():
        od = schema.objects[obj_name]
        for index, given in enumerate(rows):
            row: dict[str, Any] = {f.name: None for f in od.fields.values()}
            for fdef in od.fields.values():
                if fdef.defaulted and fdef.default is not None:
                    row[fdef.name] = fdef.default
            for key, value in given.items():
                if key == "attributes":
                    continue
                found = od.field(key)
                if found is None:
                    raise FixtureError(f"fixture records: {od.name}[{index}] has no field {key!r}")
                fdef = found
                if fdef.type in ("id", "reference") and isinstance(value, str):
                    _refuse_bad_checksum(od.name, given.get("Id", f"[{index}]"), fdef.name, value)
                    value = symbolic.get(value) or (to18(value) if is_id(value) else value)
                try:
                    row[fdef.name] = coerce(fdef, value) if fdef.type != "base64" else value
                except ApiError as exc:
                    raise FixtureError(f"fixture records: {od.name}[{index}].{key}: {exc.message}") from None
            if od.name == "ContentDocument" and row["Id"] in store.tables["ContentDocument"]:
                continue
            row["Id"] = row["Id"] or store.ids.new(od.prefix)
            row["IsDeleted"] = bool(row.get("IsDeleted"))
            for system in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
                if system in row and row[system] is None:
                    row[system] = stamp
            for system in ("CreatedById", "LastModifiedById", "OwnerId"):
                if system in row and row[system] is None:
                    row[system] = store.integration_user_id
            store.insert_row(od.name, row)
            loaded.append((od.name, row))
    _refresh_stages(store)
    for obj_name, row in loaded:
        od = schema.objects[obj_name]
        if obj_name == "Event" and row.get("StartDateTime") is not None:
            try:
                store.validator.event_times(row, None, {k: v for k, v in row.items() if v is not None})
            except ApiError as exc:
                raise FixtureError(f"fixture records: Event {row['Id']}: {exc.message}") from None
        if od.custom and od.fields["name"].auto_number and row.get("Name") is None:
            count = store.next_autonumber(od.name)
            row["Name"] = f"{''.join(w[0] for w in od.label.split())[:3].upper()}-{count:05d}"
        derive_fields(store, od, row)
    for obj_name in ("Contact", "Lead", "User"):  # build the Email indexes now, not on the first query
        store.ensure_index(obj_name, "Email")
    for obj_name, row in loaded:
        if obj_name == "ContentNote" and row["Id"] not in store.tables["ContentDocument"]:
            store.effects.sync_note_document(row, creating=True)
        elif obj_name in ("Task", "Event") and schema.shared_activities and not row["IsDeleted"]:
            store.effects.sync_activity_relations(obj_name, row, None)


def _integration_user(
    store: OrgStore, canonical: dict[str, list[dict[str, Any]]], symbolic: dict[str, str], wanted: str | None
) -> str:
    users = canonical.setdefault("User", [])
    if wanted:
        return symbolic.get(wanted) or to18(wanted)
    for user in users:
        text = " ".join(str(user.get(k) or "") for k in ("Username", "Email", "Name")).lower()
        if "integration" in text and user.get("Id"):
            return symbolic.get(user["Id"]) or to18(user["Id"])
    user_id = store.ids.new("005")
    users.append(
        {
            "Id": user_id,
            "Username": "integration@callsync.invalid",
            "FirstName": "Callsync",
            "LastName": "Integration",
            "Email": "integration@callsync.invalid",
            "Alias": "csync",
            "IsActive": True,
            "UserType": "Standard",
        }
    )
    return user_id


def _refresh_stages(store: OrgStore) -> None:
    """Opportunity.StageName's values and the IsClosed/IsWon table come from OpportunityStage."""
    stages = sorted(
        (r for r in store.tables["OpportunityStage"].values() if r.get("IsActive", True)),
        key=lambda r: r.get("SortOrder") or 0,
    )
    store.stage_info = {
        str(r["ApiName"] or r["MasterLabel"]): {
            "IsClosed": bool(r.get("IsClosed")),
            "IsWon": bool(r.get("IsWon")),
            "ForecastCategoryName": r.get("ForecastCategoryName") or ("Closed" if r.get("IsWon") else "Pipeline"),
            "DefaultProbability": r.get("DefaultProbability"),
        }
        for r in stages
    }
    stage_field = store.schema.objects["Opportunity"].fields["stagename"]
    if stage_field.values == [s[0] for s in STANDARD_STAGES]:
        stage_field.values = list(store.stage_info)
        return
    for value in stage_field.values or []:  # the fixture overrode the picklist: infer what it does not say
        if value not in store.stage_info:
            closed = value.lower().startswith("closed")
            won = closed and "won" in value.lower()
            store.stage_info[value] = {
                "IsClosed": closed,
                "IsWon": won,
                "DefaultProbability": 100 if won else (0 if closed else 50),
                "ForecastCategoryName": "Closed" if won else ("Omitted" if closed else "Pipeline"),
            }


def dump_org(store: OrgStore, settings: OrgSettings, *, include_deleted: bool = False) -> dict[str, Any]:
    """The store as a fixture: every stored record with every field, system fields included."""
    with store.lock:
        records: dict[str, list[dict[str, Any]]] = {}
        for obj_name, table in store.tables.items():
            if obj_name in ("TaskWhoRelation", "EventWhoRelation"):
                continue
            records[obj_name] = [
                {k: to_fixture(v) for k, v in row.items()}
                for row in table.values()
                if include_deleted or not row["IsDeleted"]
            ]
        return {
            "shared_activities": settings.shared_activities,
            "api_limit": settings.api_limit,
            **({"api_usage": settings.api_usage} if settings.api_usage else {}),
            **({"latency_ms": settings.latency_ms} if settings.latency_ms else {}),
            "schema": copy.deepcopy(settings.schema),
            "hidden_fields": list(settings.hidden_fields),
            "read_only_fields": list(settings.read_only_fields),
            "object_permissions": dict(settings.object_permissions),
            "integration_user_id": store.integration_user_id,
            "issued_ids": store.ids.issued(),
            "records": records,
            "faults": copy.deepcopy(settings.faults),
            "session_expires_after": settings.session_expires_after,
            "refresh_token_revoked": settings.refresh_token_revoked,
            "rotate_refresh_tokens": settings.rotate_refresh_tokens,
            **({"duplicate_rules": copy.deepcopy(settings.duplicate_rules)} if settings.duplicate_rules else {}),
        }


def fixture_rows(store: OrgStore, object_name: str) -> list[dict[str, Any]]:
    od = store.schema.exists(object_name)
    if od is None:
        raise KeyError(object_name)
    with store.lock:
        return [
            {k: to_fixture(v) for k, v in row.items()} for row in store.tables[od.name].values() if not row["IsDeleted"]
        ]
