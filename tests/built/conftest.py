"""The built application (`sam build`): these tests run what .aws-sam/build holds, as Lambda runs it.

``CALLSYNC_BUILD_DIR`` points them at another build directory. On a machine of another architecture than the
template's, the invocations run a copy of the build with the layer rebuilt for this machine
(``callsync_dev.invoke.runnable_build``); the layer checks read the build itself. Without a build (``sam build``;
.ci/run makes one) they are skipped, with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from callsync_dev.cfn import load_template, resources_of_type
from callsync_dev.invoke import BUILD_DIR, InvokeError, InvokeSession, built_functions

REPO = Path(__file__).resolve().parents[2]


def stale_files(build: Path) -> list[str]:
    """Source files whose built copy differs: the build predates this checkout."""
    layer_src = REPO / "layers" / "callsync" / "python"
    pairs = [
        (src, build / "CallsyncLayer" / "python" / src.relative_to(layer_src))
        for src in (layer_src / "callsync").rglob("*.py")
    ]
    functions = resources_of_type(load_template(REPO / "template.yaml"), "AWS::Serverless::Function")
    pairs += [
        (REPO / spec["Properties"]["CodeUri"] / "app.py", build / logical / "app.py")
        for logical, spec in functions.items()
    ]
    return [
        str(src.relative_to(REPO))
        for src, built in pairs
        if not built.is_file() or built.read_bytes() != src.read_bytes()
    ]


@pytest.fixture(scope="session")
def build_dir() -> Path:
    path = Path(os.environ.get("CALLSYNC_BUILD_DIR") or BUILD_DIR).resolve()
    try:
        built_functions(path)
    except InvokeError as e:
        pytest.skip(f"no build: {e}")
    stale = stale_files(path)
    if stale:
        pytest.skip(f"{path} is older than the source ({', '.join(stale[:3])}, ...): run sam build")
    return path


@pytest.fixture(scope="module")
def session(build_dir: Path) -> Iterator[InvokeSession]:
    """One local stack + emulator (demo org and settings) for a module's invocations of the built functions.

    Module-scoped: the local stack is moto's process-wide mock, so it must be gone before other tests start theirs.
    """
    with InvokeSession(build_dir=build_dir) as running:
        yield running


@pytest.fixture(scope="session")
def layer_dir(build_dir: Path) -> Path:
    return build_dir / "CallsyncLayer" / "python"
