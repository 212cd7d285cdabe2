"""``callsync settings show|set|import|export --org-id ORG``: the org's item in the settings table.

- Where: the real settings table (``SETTINGS_TABLE`` or ``--table``) when AWS credentials are
  present; otherwise — or with ``--local [STATE.json]`` — an embedded DynamoDB (moto) whose
  items are kept in a JSON file between runs (default ``.callsync/settings.json``), so that
  ``set`` then ``show`` work on a laptop without AWS.
- ``set`` changes an org that has settings (``--create`` starts one from the defaults) and prints
  each key it changed as ``path: old → new``, not the whole document (``show`` prints that).
- Every write is validated by the settings model (``OrgSettings``) first; errors name the field
  (``field_sync.mappings[0].field: Field required``), and unknown keys are refused by name.

  callsync settings show   --org-id acme [--raw]
  callsync settings set    --org-id acme activity_sync.mode=events notes_sync.enabled=true
  callsync settings set    --org-id newco --create account_link_field=Callsync_Link__c
  callsync settings set    --org-id acme 'field_sync.mappings[0]={"insight":"pain","object":"Opportunity",
                                                                    "field":"Pain__c"}'
  callsync settings import --org-id acme settings.json
  callsync settings export --org-id acme [--out settings.json]

Exit 0 on success, 1 when the settings are missing or invalid, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import pathlib
import re
import sys
import types
import typing
from collections.abc import Iterator, Sequence
from copy import deepcopy
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
from callsync.adapters.dynamodb_items import from_item
from callsync.adapters.dynamodb_settings import DynamoDbSettingsStore
from callsync.config import Config
from callsync.errors import CallsyncError, InvalidSettings, SettingsNotFound
from callsync.models.settings import OrgSettings
from callsync.models.validation import parse_settings
from pydantic import BaseModel

from callsync_dev.admin_aws import has_aws_credentials, local_aws

DEFAULT_STATE = pathlib.Path(".callsync") / "settings.json"
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class UsageError(Exception):
    """A malformed argument (exit 2)."""


# --- Unknown keys and dotted assignments --------------------------------------------------------


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``annotation`` (``X``, ``X | None``, ``list[X]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None


def unknown_keys(data: Any, model: type[BaseModel] = OrgSettings, prefix: str = "") -> list[str]:
    """Dotted paths of keys ``model`` does not define (the model itself ignores them silently)."""
    if not isinstance(data, dict):
        return []
    found: list[str] = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        field = model.model_fields.get(key)
        if field is None:
            found.append(path)
            continue
        inner = _model_of(field.annotation)
        if inner is None:
            continue
        if isinstance(value, list):
            for i, item in enumerate(value):
                found += unknown_keys(item, inner, f"{path}[{i}].")
        else:
            found += unknown_keys(value, inner, f"{path}.")
    return found


def parse_assignment(text: str) -> tuple[list[str | int], Any]:
    """``a.b[0].c=VALUE`` → (["a", "b", 0, "c"], VALUE); VALUE is JSON when it parses, else a string."""
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise UsageError(f"expected KEY=VALUE, got {text!r}")
    segments: list[str | int] = []
    position = 0
    for match in _SEGMENT.finditer(path.strip()):
        name, index = match.groups()
        segments.append(int(index) if index is not None else name)
        position = match.end()
    if position != len(path.strip()) or not segments or isinstance(segments[0], int):
        raise UsageError(f"cannot read the key {path!r} (use dots and [n], e.g. field_sync.mappings[0].policy)")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return segments, value


def assign(item: dict[str, Any], segments: Sequence[str | int], value: Any) -> None:
    """Set ``value`` at ``segments`` inside ``item``, creating objects on the way."""
    target: Any = item
    for here, nxt in itertools.pairwise(segments):
        if isinstance(here, int):
            if not isinstance(target, list) or here >= len(target):
                raise UsageError(f"no item [{here}] at {_dotted(segments)}")
            target = target[here]
            continue
        if not isinstance(target, dict):
            raise UsageError(f"{_dotted(segments)}: {here} is not inside an object")
        if not isinstance(target.get(here), dict | list):
            target[here] = [] if isinstance(nxt, int) else {}
        target = target[here]
    last = segments[-1]
    if isinstance(last, int):
        if not isinstance(target, list) or last > len(target):
            raise UsageError(f"no item [{last}] at {_dotted(segments)}")
        if last == len(target):
            target.append(value)
        else:
            target[last] = value
    else:
        if not isinstance(target, dict):
            raise UsageError(f"{_dotted(segments)} is not inside an object")
        target[last] = value


def _dotted(segments: Sequence[str | int]) -> str:
    return "".join(f"[{s}]" if isinstance(s, int) else (f".{s}" if i else s) for i, s in enumerate(segments))


def validated(item: dict[str, Any], org_id: str) -> OrgSettings:
    """``item`` as settings of ``org_id``.

    Raises:
        InvalidSettings: unknown keys, or a value the model rejects (the message names the field).
    """
    if item.get("org_id") not in (None, org_id):
        raise InvalidSettings(f"org_id in the settings is {item['org_id']!r}, not {org_id!r}")
    extra = unknown_keys(item)
    if extra:
        raise InvalidSettings(f"settings of org {org_id} have unknown keys: {', '.join(extra)}")
    return parse_settings({**item, "org_id": org_id}, org_id)


# --- The table ------------------------------------------------------------------------------------


class SettingsTable:
    """The settings store plus raw item access (to show and fix an invalid item)."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.store = DynamoDbSettingsStore(table)

    def raw(self, org_id: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"org_id": org_id}).get("Item")
        return None if item is None else dict(from_item(item))

    def all_items(self) -> dict[str, dict[str, Any]]:
        items: dict[str, dict[str, Any]] = {}
        kwargs: dict[str, Any] = {}
        while True:
            page = self.table.scan(**kwargs)
            for raw in page.get("Items", []):
                item = dict(from_item(raw))
                items[str(item["org_id"])] = item
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@contextlib.contextmanager
def local_table(state: pathlib.Path, config: Config) -> Iterator[SettingsTable]:
    """The embedded settings table, loaded from and saved back to ``state``."""
    items: dict[str, Any] = {}
    if state.exists():
        try:
            items = json.loads(state.read_text(encoding="utf-8"))
        except ValueError as e:
            raise UsageError(f"local settings file {state} is not valid JSON: {e}") from e
    with local_aws(config) as aws:
        table = SettingsTable(aws.resource("dynamodb").Table(config.settings_table))
        for org_id, item in items.items():
            table.store.put_raw(org_id, item)
        yield table
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps(table.all_items(), indent=2, sort_keys=True) + "\n", encoding="utf-8")


# --- Commands -----------------------------------------------------------------------------------


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def cmd_show(table: SettingsTable, args: argparse.Namespace) -> int:
    if args.raw:
        item = table.raw(args.org_id)
        if item is None:
            raise SettingsNotFound(f"no settings for org {args.org_id}")
        _print_json(item)
        return 0
    _print_json(table.store.get(args.org_id).model_dump(mode="json"))
    return 0


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf values by dotted path (``a.b[0].c``); an empty object or list is a leaf."""
    if isinstance(value, dict) and value:
        return {
            k: v for key, item in value.items() for k, v in flatten(item, f"{prefix}.{key}" if prefix else key).items()
        }
    if isinstance(value, list) and value:
        return {k: v for i, item in enumerate(value) for k, v in flatten(item, f"{prefix}[{i}]").items()}
    return {prefix: value}


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """``path: old → new`` for every leaf that differs (``(unset)`` where a side has none)."""
    old, new = flatten(before), flatten(after)
    unset = object()
    lines = []
    for path in dict.fromkeys([*old, *new]):
        a, b = old.get(path, unset), new.get(path, unset)
        if a != b:
            shown = ["(unset)" if v is unset else json.dumps(v, ensure_ascii=False) for v in (a, b)]
            lines.append(f"  {path}: {shown[0]} → {shown[1]}")
    return lines


def cmd_set(table: SettingsTable, args: argparse.Namespace) -> int:
    assignments = [parse_assignment(a) for a in args.assignments]
    stored = table.raw(args.org_id)
    if stored is None and not args.create:
        raise SettingsNotFound(
            f"no settings for org {args.org_id}: check the org id, or pass --create to create settings for it"
        )
    item = deepcopy(stored or {"org_id": args.org_id})
    for segments, value in assignments:
        if segments == ["org_id"]:
            raise UsageError("org_id cannot be set; import the settings under the other org id instead")
        assign(item, segments, value)
    settings = validated(item, args.org_id)
    before: dict[str, Any] = {}
    if stored is not None:
        try:
            before = validated(stored, args.org_id).model_dump(mode="json")
        except InvalidSettings:
            before = stored  # an invalid stored item: compare with it as stored
    after = settings.model_dump(mode="json")
    table.store.put(settings)
    if stored is None:
        print(f"created settings of org {args.org_id} (defaults for every key not set):")
        print("\n".join(changes({k: v for k, v in after.items() if k == "org_id"}, after)))
        return 0
    changed = changes(before, after)
    print(f"changed settings of org {args.org_id}:" if changed else f"settings of org {args.org_id} unchanged")
    if changed:
        print("\n".join(changed))
    return 0


def cmd_import(table: SettingsTable, args: argparse.Namespace) -> int:
    path = pathlib.Path(args.file)
    try:
        item = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InvalidSettings(f"cannot read {path}: {e.strerror}") from e
    except ValueError as e:
        raise InvalidSettings(f"{path} is not valid JSON: {e}") from e
    if not isinstance(item, dict):
        raise InvalidSettings(f"{path} must hold one settings object")
    settings = validated(item, args.org_id)
    table.store.put(settings)
    print(f"imported settings of org {args.org_id} from {path}", file=sys.stderr)
    return 0


def cmd_export(table: SettingsTable, args: argparse.Namespace) -> int:
    if args.raw:
        value = table.raw(args.org_id)
        if value is None:
            raise SettingsNotFound(f"no settings for org {args.org_id}")
    else:
        value = table.store.get(args.org_id).model_dump(mode="json")
    text = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    if args.out:
        pathlib.Path(args.out).write_text(text, encoding="utf-8")
        print(f"exported settings of org {args.org_id} to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


COMMANDS = {"show": cmd_show, "set": cmd_set, "import": cmd_import, "export": cmd_export}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--org-id", required=True)
    common.add_argument("--table", help="settings table name (default: SETTINGS_TABLE or callsync-settings)")
    common.add_argument(
        "--local",
        nargs="?",
        const=str(DEFAULT_STATE),
        metavar="STATE.json",
        help=f"use an embedded table kept in STATE.json (default {DEFAULT_STATE}); "
        "implied when no AWS credentials are found",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="show|set|import|export")
    show = actions.add_parser("show", parents=[common], help="print the org's settings")
    show.add_argument("--raw", action="store_true", help="the stored item as is, even when invalid")
    setter = actions.add_parser("set", parents=[common], help="change keys: KEY=VALUE (VALUE as JSON or text)")
    setter.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
    setter.add_argument("--create", action="store_true", help="create the org's settings when it has none")
    importer = actions.add_parser("import", parents=[common], help="replace the org's settings with a file")
    importer.add_argument("file", metavar="SETTINGS.json")
    exporter = actions.add_parser("export", parents=[common], help="write the org's settings as JSON")
    exporter.add_argument("--out", metavar="FILE")
    exporter.add_argument("--raw", action="store_true", help="the stored item as is, even when invalid")


def run(args: argparse.Namespace, *, boto_session: Any = None) -> int:
    """``callsync settings`` with parsed arguments; ``boto_session`` replaces the default AWS session."""
    config = Config.from_env()
    if args.table:
        config = config.model_copy(update={"settings_table": args.table})
    local = args.local is not None or (boto_session is None and not has_aws_credentials())
    try:
        if local:
            state = pathlib.Path(args.local or DEFAULT_STATE)
            with local_table(state, config) as table:
                code = COMMANDS[args.action](table, args)
            print(f"(local settings table: {state})", file=sys.stderr)
            return code
        aws = boto_session or boto3.session.Session()
        table = SettingsTable(aws.resource("dynamodb").Table(config.settings_table))
        return COMMANDS[args.action](table, args)
    except UsageError as e:
        print(f"callsync settings: {e}", file=sys.stderr)
        return 2
    except CallsyncError as e:
        print(f"callsync settings: {e}", file=sys.stderr)
        return 1
    except (NoRegionError, NoCredentialsError):
        raise  # the callsync command says how to set them up, in one line
    except (ClientError, BotoCoreError) as e:
        print(f"callsync settings: AWS refused: {e}", file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None, *, boto_session: Any = None) -> int:
    parser = argparse.ArgumentParser(prog="callsync settings", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv), boto_session=boto_session)


def register_cli(subparsers: Any) -> None:
    """Add ``settings`` to the ``callsync`` command's subparsers (dispatch through ``args.handler(args)``)."""
    parser = subparsers.add_parser("settings", help="show, change, import or export an org's settings")
    add_arguments(parser)
    parser.set_defaults(handler=run)


if __name__ == "__main__":
    raise SystemExit(main())
