"""The built application (`sam build`): these tests run what .aws-sam/build holds, as Lambda runs it.

``CALLSYNC_BUILD_DIR`` points them at another build directory. The invocations need a build this machine can
run (its layer's wheels for this machine's architecture); the layer checks take any build. .ci/run makes both.
Without a build they are skipped, with the reason.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator
from pathlib import Path

import pytest
from callsync_dev.invoke import BUILD_DIR, InvokeError, InvokeSession, built_functions, layer_architecture

MACHINE = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())


@pytest.fixture(scope="session")
def build_dir() -> Path:
    path = Path(os.environ.get("CALLSYNC_BUILD_DIR") or BUILD_DIR).resolve()
    try:
        built_functions(path)
    except InvokeError as e:
        pytest.skip(f"no build: {e}")
    return path


@pytest.fixture(scope="session")
def session(build_dir: Path) -> Iterator[InvokeSession]:
    """One local stack + emulator (demo org and settings) for every invocation of the built functions."""
    layers = {layer for fn in built_functions(build_dir).values() for layer in fn.layer_dirs}
    for layer in layers:
        if layer_architecture(layer) not in (None, MACHINE):
            pytest.skip(f"{layer} is not built for {MACHINE}: CALLSYNC_LAYER_ARCH={MACHINE} sam build")
    with InvokeSession(build_dir=build_dir) as running:
        yield running


@pytest.fixture(scope="session")
def layer_dir(build_dir: Path) -> Path:
    return build_dir / "CallsyncLayer" / "python"
