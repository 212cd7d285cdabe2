"""Cold-start proxies: each handler's import time in a fresh interpreter, and the Lambda layer's size."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAYER_SRC = REPO / "layers" / "callsync" / "python"
# simple-salesforce's dependencies for SOAP metadata (zeep, lxml): callsync never calls it, but
# simple_salesforce imports it, so the layer ships them (the Makefile already leaves out cryptography).
UNUSED_BY_CALLSYNC = ("zeep", "lxml", "isodate", "attrs", "attr", "platformdirs", "requests_file", "requests_toolbelt")
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


@dataclass
class ImportTime:
    function: str
    milliseconds: float  # median cumulative import of the handler module
    fastest: float  # the quickest run (least disturbed by other load on the machine)
    heaviest: list[tuple[str, float]] = field(default_factory=list)  # (module, cumulative ms), direct-ish imports


def handler_dirs() -> list[Path]:
    return sorted(p.parent for p in (REPO / "functions").glob("*/app.py"))


def import_time(code_dir: Path, runs: int = 3, python: str = sys.executable) -> ImportTime:
    """``python -X importtime -c 'import app'`` in the handler's directory, layer on PYTHONPATH; median of runs.

    A first run (not counted) writes the bytecode caches, as a deployed package has them.
    ``LAMBDA_TASK_ROOT`` is set as in Lambda, so tracing is on as the template deploys it
    (``Tracing: Active``): the X-Ray SDK is imported and counted.
    """
    env = {**os.environ, "PYTHONPATH": str(LAYER_SRC), "POWERTOOLS_SERVICE_NAME": "callsync",
           "AWS_DEFAULT_REGION": "us-east-1", "LAMBDA_TASK_ROOT": str(code_dir)}
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    samples: list[float] = []
    heaviest: list[tuple[str, float]] = []
    for i in range(runs + 1):
        done = subprocess.run([python, "-X", "importtime", "-c", "import app"], cwd=code_dir, env=env,  # noqa: S603
                              capture_output=True, text=True, check=True)
        matches = [m for m in map(_LINE.match, done.stderr.splitlines()) if m]
        rows = [(int(m.group(2)) / 1000, len(m.group(3)), m.group(4)) for m in matches]
        total = next(ms for ms, _, name in rows if name == "app")
        if i == 0:
            continue
        samples.append(total)
        base = min((depth for _, depth, name in rows if name != "app"), default=1)
        heaviest = sorted(((name, ms) for ms, depth, name in rows if depth <= base + 4 and name != "app"),
                          key=lambda r: -r[1])[:6]
    return ImportTime(code_dir.name, statistics.median(samples), min(samples), heaviest)


@dataclass
class LayerSize:
    unzipped_bytes: int
    zipped_bytes: int
    packages: list[tuple[str, int]]  # top-level names by size
    without_unused_bytes: int  # if simple-salesforce's unused dependencies were not shipped
    error: str | None = None


def _tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build_layer_size(python: str = sys.executable) -> LayerSize:
    """Build the layer exactly as ``sam build`` does (layers/callsync/Makefile: arm64 / cp313 wheels, minus
    what the Lambda runtime provides and what callsync never imports) into a temp dir, and measure it."""
    with tempfile.TemporaryDirectory(prefix="callsync-layer-") as tmp:
        target = Path(tmp) / "python"
        command = ["make", "--silent", "-C", str(LAYER_SRC.parent), "build-CallsyncLayer", f"ARTIFACTS_DIR={tmp}"]
        done = subprocess.run(command, capture_output=True, text=True)  # noqa: S603
        if done.returncode != 0:
            return LayerSize(0, 0, [], 0, error=(done.stderr.strip().splitlines() or ["make failed"])[-1])
        shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: not importable, not needed
        sizes = {}
        for entry in target.iterdir():
            name = entry.name.split("-")[0] if entry.name.endswith(".dist-info") else entry.name.split(".")[0]
            sizes[name] = sizes.get(name, 0) + _tree_size(entry)
        total = sum(sizes.values())
        unused = sum(size for name, size in sizes.items() if name in UNUSED_BY_CALLSYNC
                     or name.lower().replace("-", "_") in UNUSED_BY_CALLSYNC)
        archive = Path(tmp) / "layer.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(target.rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(target.parent))
        return LayerSize(total, archive.stat().st_size, sorted(sizes.items(), key=lambda kv: -kv[1]),
                         total - unused)
