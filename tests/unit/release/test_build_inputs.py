"""What `sam build` and `callsync invoke` start from: the layer's Makefile, its lock, the built template."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from callsync_dev.cfn import load_template
from callsync_dev.invoke import BuiltFunction, InvokeError, find_function, layer_architecture

REPO = Path(__file__).resolve().parents[3]
LAYER = REPO / "layers" / "callsync"
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath"}


def locked(path: Path) -> dict[str, list[str]]:
    """name -> hashes of a `--generate-hashes` lock."""
    packages: dict[str, list[str]] = {}
    current = ""
    for line in path.read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9_.\-]+)==\S+", line):
            current = match.group(1).lower()
            packages[current] = []
        elif "--hash=sha256:" in line and current:
            packages[current].append(line.strip())
    return packages


def test_the_layer_is_built_for_the_architecture_the_functions_run_on() -> None:
    # Given the template's function and layer architectures
    template = load_template(REPO / "template.yaml")
    function_arch = template["Globals"]["Function"]["Architectures"]
    layer_arch = template["Resources"]["CallsyncLayer"]["Properties"]["CompatibleArchitectures"]
    # When reading the layer Makefile's default
    default = re.search(r"^LAYER_ARCH := (\w+)$", (LAYER / "Makefile").read_text(), re.MULTILINE)
    # Then all three agree
    assert default is not None
    assert function_arch == layer_arch == [default.group(1)]


def test_every_layer_package_is_pinned_with_hashes_and_none_is_the_runtimes_own() -> None:
    # Given the lock the Makefile installs with --require-hashes
    packages = locked(LAYER / "requirements.txt")
    # Then the four top-level pins are there, every package has hashes, and boto3 & co. are left to the runtime
    top_level = {
        line.split("==")[0].lower()
        for line in (LAYER / "requirements.in").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert top_level <= packages.keys()
    assert all(packages.values()), [name for name, hashes in packages.items() if not hashes]
    assert not RUNTIME_PROVIDED & packages.keys()
    assert "cryptography" not in packages


def test_the_layer_pins_what_the_project_declares() -> None:
    # Given pyproject's runtime dependencies and the layer's top-level pins
    pyproject = (REPO / "pyproject.toml").read_text()
    declared = dict(
        re.findall(
            r'^\s+"([a-z0-9\-]+)==([^"]+)",$', pyproject.split("[project.optional-dependencies]")[0], re.MULTILINE
        )
    )
    layer_pins = dict(re.findall(r"^([a-z0-9\-]+)==(\S+)$", (LAYER / "requirements.in").read_text(), re.MULTILINE))
    # Then each layer pin is the version pyproject declares
    assert layer_pins
    assert {name: declared.get(name) for name in layer_pins} == layer_pins


FUNCTIONS = {
    "StartSyncFunction": BuiltFunction("StartSyncFunction", Path("StartSyncFunction"), "app.handler", (), 30, 512),
    "CrmContextFunction": BuiltFunction("CrmContextFunction", Path("CrmContextFunction"), "app.handler", (), 30, 512),
}


@pytest.mark.parametrize("name", ["StartSyncFunction", "start_sync"])
def test_a_function_is_found_by_logical_id_or_by_its_source_directory(name: str) -> None:
    assert find_function(FUNCTIONS, name).logical_id == "StartSyncFunction"


def test_an_unknown_function_is_a_usage_error_naming_the_known_ones() -> None:
    with pytest.raises(InvokeError, match="CrmContextFunction, StartSyncFunction"):
        find_function(FUNCTIONS, "nope")


@pytest.mark.parametrize(
    ("so_name", "arch"),
    [
        ("_pydantic_core.cpython-313-aarch64-linux-gnu.so", "arm64"),
        ("_pydantic_core.cpython-313-x86_64-linux-gnu.so", "x86_64"),
    ],
)
def test_a_layers_architecture_is_read_from_its_compiled_extensions(tmp_path: Path, so_name: str, arch: str) -> None:
    # Given a layer with one compiled extension
    (tmp_path / "pydantic_core").mkdir()
    (tmp_path / "pydantic_core" / so_name).write_bytes(b"")
    # Then its architecture is the extension's
    assert layer_architecture(tmp_path) == arch


def test_the_development_lock_holds_every_pin_of_pyproject() -> None:
    # Given every pin of pyproject.toml (runtime dependencies and dev extras)
    pins = dict(
        re.findall(
            r'^\s+"([A-Za-z0-9\-_.]+)(?:\[[^\]]*\])?==([^"]+)",$', (REPO / "pyproject.toml").read_text(), re.MULTILINE
        )
    )
    # When reading the lock .ci/run and scripts/test install
    lock = dict(
        re.findall(r"^([A-Za-z0-9\-_.]+)==(\S+) \\$", (REPO / "requirements" / "dev.txt").read_text(), re.MULTILINE)
    )
    # Then each pin is locked at its version (a pin changed without scripts/lock fails here)
    assert len(pins) > 10
    assert {name.lower(): version for name, version in pins.items()} == {
        name.lower(): lock.get(name.lower()) for name in pins
    }


@pytest.mark.parametrize("dev_only", ["tqdm", "moto", "lark", "trustme"])
def test_developer_tools_are_locked_for_the_venv_but_never_shipped_in_the_layer(dev_only: str) -> None:
    # Given the development lock and the layer's lock
    # Then a developer tool (the CLI's progress bar, the local stack, the emulator) is pinned with hashes for
    # the venv, and the layer does not ship it
    assert locked(REPO / "requirements" / "dev.txt").get(dev_only), dev_only
    assert dev_only not in locked(LAYER / "requirements.txt")
