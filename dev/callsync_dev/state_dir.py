"""``callsync run --state DIR``: a local environment that persists between runs.

Layout of ``DIR``::

    org.json                 the emulator's org in the fixture format (INTERFACES.md §3); written at the
                             end of every run, read at the start of the next; a person may edit it
                             in between (values and system fields such as LastModifiedById /
                             LastModifiedDate are loaded as given)
    aws/tables/<Table>.json  every DynamoDB table of the template (settings, ledger, describe cache,
                             claims, ...), one item per element in DynamoDB's typed JSON
    aws/secrets.json         every Secrets Manager secret: name -> secret string
    aws/executions.json      the state machine's finished executions (their names stay taken, as in
                             Step Functions: a redelivered call is still a DUPLICATE in a later run)

The first run seeds ``DIR`` from ``--org``/``--settings``; later runs ignore ``--org`` and replace the
stored settings item of each org ``--settings`` lists. Files are written whole (a temporary file
renamed into place), so an interrupted run leaves the previous state readable.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from callsync_dev.localstack import LocalStack

ORG_FILE = "org.json"
AWS_DIR = "aws"
TABLES_DIR = "tables"
SECRETS_FILE = "secrets.json"
EXECUTIONS_FILE = "executions.json"
# Secret keys that describe the emulator process (new on every run: its port and tokens).
CONNECTION_KEYS = ("instance_url", "access_token", "refresh_token", "issued_at", "id")


class StateError(Exception):
    """``DIR`` exists but cannot be used (not a directory, unreadable or malformed files)."""


class StateDir:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise StateError(f"state directory {self.path} is not a directory")

    # ---------------------------------------------------------------- paths
    @property
    def org_path(self) -> Path:
        return self.path / ORG_FILE

    @property
    def aws_path(self) -> Path:
        return self.path / AWS_DIR

    def table_path(self, logical_id: str) -> Path:
        return self.aws_path / TABLES_DIR / f"{logical_id}.json"

    @property
    def has_org(self) -> bool:
        return self.org_path.is_file()

    @property
    def has_aws(self) -> bool:
        return (self.aws_path / TABLES_DIR).is_dir()

    # ---------------------------------------------------------------- org
    def read_org(self) -> dict[str, Any]:
        data = self._read(self.org_path)
        if not isinstance(data, dict):
            raise StateError(f"{self.org_path}: an org fixture is a JSON object")
        return data

    def write_org(self, org: dict[str, Any]) -> None:
        _write_json(self.org_path, org)

    # ---------------------------------------------------------------- AWS side
    def restore(self, stack: LocalStack, connection: dict[str, str]) -> None:
        """Load the stored tables, secrets and executions into a fresh local stack.

        Each secret that holds an org connection is pointed at this run's emulator (its URL and
        tokens are new on every run); its other keys are kept as stored.
        """
        for logical_id in stack.tables:
            path = self.table_path(logical_id)
            if path.is_file():
                items = self._read(path)
                if not isinstance(items, list):
                    raise StateError(f"{path}: a list of items expected")
                stack.load_table_items(logical_id, items)
        secrets_path = self.aws_path / SECRETS_FILE
        secrets = self._read(secrets_path) if secrets_path.is_file() else {}
        if not isinstance(secrets, dict):
            raise StateError(f"{secrets_path}: an object of secret name -> value expected")
        for name, raw in secrets.items():
            stack.put_secret_string(name, _repointed(str(raw), connection))
        executions_path = self.aws_path / EXECUTIONS_FILE
        if executions_path.is_file():
            executions = self._read(executions_path)
            if not isinstance(executions, list):
                raise StateError(f"{executions_path}: a list of executions expected")
            stack.restore_executions(executions)

    def save(self, stack: LocalStack) -> None:
        """Write every table of the template, every secret and the finished executions."""
        for logical_id in stack.tables:
            _write_json(self.table_path(logical_id), stack.table_items(logical_id))
        _write_json(self.aws_path / SECRETS_FILE, stack.secrets())
        _write_json(self.aws_path / EXECUTIONS_FILE, stack.finished_executions())

    def _read(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise StateError(f"cannot read {path}: {e}") from e


def _repointed(raw: str, connection: dict[str, str]) -> str:
    """An org connection secret with this run's emulator URL and tokens; any other secret as stored."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return raw
    if not isinstance(value, dict) or "instance_url" not in value:
        return raw
    value.update({k: connection[k] for k in CONNECTION_KEYS if k in connection})
    return json.dumps(value)


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, ensure_ascii=False, default=str)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
