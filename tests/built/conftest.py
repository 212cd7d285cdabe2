"""The built application (`sam build`): these tests run what .aws-sam/build holds, as Lambda runs it.

They need a build this machine can run; .ci/run makes one. Without it they are skipped, with the reason.
"""

from __future__ import annotations

import platform
from collections.abc import Iterator
from pathlib import Path

import pytest
from callsync_dev.invoke import BUILD_DIR, InvokeError, InvokeSession, built_functions, layer_architecture

MACHINE = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())


def _why_not_runnable() -> str | None:
    try:
        functions = built_functions(BUILD_DIR)
    except InvokeError as e:
        return str(e)
    for layer in {layer for fn in functions.values() for layer in fn.layer_dirs}:
        if layer_architecture(layer) not in (None, MACHINE):
            return f"{layer} is not built for {MACHINE}: CALLSYNC_LAYER_ARCH={MACHINE} sam build"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = _why_not_runnable()
    if reason is None:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.skip(reason=f"no runnable build: {reason}"))


@pytest.fixture(scope="session")
def session() -> Iterator[InvokeSession]:
    """One local stack + emulator (demo org and settings) for every invocation of the built functions."""
    with InvokeSession() as running:
        yield running


@pytest.fixture(scope="session")
def layer_dir() -> Path:
    return BUILD_DIR / "CallsyncLayer" / "python"
