"""Cold-start proxies: each handler's import time in a fresh interpreter, and the Lambda layer's size."""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
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
    cpu_milliseconds: float = 0.0  # median CPU time (user + system) of the whole process: start-up + import


def handler_dirs() -> list[Path]:
    return sorted(p.parent for p in (REPO / "functions").glob("*/app.py"))


def import_time(
    code_dir: Path, runs: int = 3, python: str = sys.executable, layer: Path = LAYER_SRC, runtime: Path | None = None
) -> ImportTime:
    """``python -X importtime -c 'import app'`` in the handler's directory, the layer on ``PYTHONPATH``; median.

    With ``runtime`` (the built layer and the Lambda runtime's own packages, see ``built_layer``): a clean
    interpreter as Lambda starts it — ``-S`` (nothing of the interpreter's site-packages), ``-B`` (no bytecode
    written: ``/var/task`` and ``/opt`` are read-only, so only the layer's shipped bytecode is used), the
    function's directory, the layer and the runtime's packages on the path, nothing else of this environment.
    Without it (``--smoke``): the layer's source with this venv's packages, a first run writing the caches.
    A first run is not counted either way (it warms the machine's file cache, not Python's).
    ``LAMBDA_TASK_ROOT`` is set as in Lambda, so tracing is on as the template deploys it
    (``Tracing: Active``): the X-Ray SDK is imported and counted.
    """
    lambda_env = {
        "POWERTOOLS_SERVICE_NAME": "callsync",
        "AWS_DEFAULT_REGION": "us-east-1",
        "LAMBDA_TASK_ROOT": str(code_dir),
    }
    if runtime is not None:
        env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "PYTHONPATH": os.pathsep.join([str(layer), str(runtime)]),
            **lambda_env,
        }
        command = [python, "-S", "-B", "-X", "importtime", "-c", "import app"]
    else:
        env = {**os.environ, "PYTHONPATH": str(layer), **lambda_env}
        env.pop("POWERTOOLS_TRACE_DISABLED", None)
        command = [python, "-X", "importtime", "-c", "import app"]
    samples: list[float] = []
    cpu: list[float] = []
    heaviest: list[tuple[str, float]] = []
    for i in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(command, cwd=code_dir, env=env, capture_output=True, text=True, check=True)  # noqa: S603
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        matches = [m for m in map(_LINE.match, done.stderr.splitlines()) if m]
        rows = [(int(m.group(2)) / 1000, len(m.group(3)), m.group(4)) for m in matches]
        total = next(ms for ms, _, name in rows if name == "app")
        if i == 0:
            continue
        samples.append(total)
        cpu.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
        base = min((depth for _, depth, name in rows if name != "app"), default=1)
        heaviest = sorted(
            ((name, ms) for ms, depth, name in rows if depth <= base + 4 and name != "app"), key=lambda r: -r[1]
        )[:6]
    return ImportTime(code_dir.name, statistics.median(samples), min(samples), heaviest, statistics.median(cpu))


@contextmanager
def built_layer() -> Iterator[tuple[str, Path, Path]]:
    """(CPython 3.13, the layer built by its Makefile for this machine, the Lambda runtime's packages).

    The layer is what ``sam build`` ships (the same Makefile, lock and bytecode) with this machine's wheels, so
    that it can be imported here; the runtime's packages are ``requirements/lambda-runtime.txt`` (awslambdaric,
    boto3), as ``callsync invoke`` uses them.
    """
    from callsync_dev.invoke import ensure_runtime, find_python313, machine_architecture

    python = find_python313()
    runtime = ensure_runtime(python)
    with tempfile.TemporaryDirectory(prefix="callsync-layer-") as tmp:
        command = [
            "make",
            "--silent",
            "-C",
            str(LAYER_SRC.parent),
            "build-CallsyncLayer",
            f"ARTIFACTS_DIR={tmp}",
            f"LAYER_ARCH={machine_architecture()}",
            f"PYTHON={python}",
        ]
        subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
        yield python, Path(tmp) / "python", runtime


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


def build_layer_size(python: str | None = None) -> LayerSize:
    """Build the layer exactly as ``sam build`` does (layers/callsync/Makefile: arm64 / cp313 wheels from the
    lock, minus what the Lambda runtime provides and what callsync never imports, with bytecode) into a temp
    dir, and measure it."""
    if python is None:
        from callsync_dev.invoke import find_python313

        python = find_python313()
    with tempfile.TemporaryDirectory(prefix="callsync-layer-") as tmp:
        target = Path(tmp) / "python"
        command = [
            "make",
            "--silent",
            "-C",
            str(LAYER_SRC.parent),
            "build-CallsyncLayer",
            f"ARTIFACTS_DIR={tmp}",
            f"PYTHON={python}",
        ]
        done = subprocess.run(command, capture_output=True, text=True)  # noqa: S603
        if done.returncode != 0:
            return LayerSize(0, 0, [], 0, error=(done.stderr.strip().splitlines() or ["make failed"])[-1])
        sizes: dict[str, int] = {}
        for entry in target.iterdir():
            name = entry.name.split("-")[0] if entry.name.endswith(".dist-info") else entry.name.split(".")[0]
            sizes[name] = sizes.get(name, 0) + _tree_size(entry)
        total = sum(sizes.values())
        unused = sum(
            size
            for name, size in sizes.items()
            if name in UNUSED_BY_CALLSYNC or name.lower().replace("-", "_") in UNUSED_BY_CALLSYNC
        )
        archive = Path(tmp) / "layer.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(target.rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(target.parent))
        return LayerSize(total, archive.stat().st_size, sorted(sizes.items(), key=lambda kv: -kv[1]), total - unused)
