"""The built layer ships compiled bytecode and nothing the functions do not need."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def test_every_module_of_the_layer_has_its_cpython_313_bytecode(layer_dir: Path) -> None:
    # Given every .py of the built layer
    sources = list(layer_dir.rglob("*.py"))
    assert len(sources) > 100
    # Then each has its cpython-313 .pyc next to it, in __pycache__
    missing = [s for s in sources if not (s.parent / "__pycache__" / f"{s.stem}.cpython-313.pyc").is_file()]
    assert not missing, missing[:5]


def test_the_bytecode_is_checked_by_hash_not_by_timestamp(layer_dir: Path) -> None:
    # Given the bytecode of callsync's own package
    pyc = layer_dir / "callsync" / "__pycache__" / "config.cpython-313.pyc"
    header = pyc.read_bytes()[:16]
    # Then it is the 3.13 format, hash-based and unchecked (PEP 552: flags = 0b01)
    assert header[:4] == importlib.util.MAGIC_NUMBER or header[:4] == (3571).to_bytes(2, "little") + b"\r\n"
    assert int.from_bytes(header[4:8], "little") == 0b01


def test_the_layer_ships_no_test_doubles_scripts_stubs_or_sboms(layer_dir: Path) -> None:
    # Then nothing of the following is in the layer
    assert not (layer_dir / "callsync" / "testing.py").exists()
    assert not (layer_dir / "bin").exists()
    assert not list(layer_dir.rglob("*.pyi"))
    assert not list(layer_dir.glob("*-stubs"))
    assert not list(layer_dir.glob("*.dist-info/sboms"))
    # ...nor what the Lambda runtime provides (a copy would shadow its boto3)
    assert not [p for p in ("boto3", "botocore", "s3transfer", "jmespath", "cryptography") if (layer_dir / p).exists()]
