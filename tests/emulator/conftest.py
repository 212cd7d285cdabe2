"""An emulator with a small org for the emulator's contract tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import simple_salesforce
from callsync_dev.emulator import Emulator
from callsync_dev.emulator.testing import salesforce_client

from tests.emulator.orgs import SMALL_ORG


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """Given a running emulator seeded with the small org."""
    emu = Emulator.from_fixture(SMALL_ORG).start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def sf(emulator: Emulator) -> simple_salesforce.Salesforce:
    """A simple-salesforce client connected to the emulator over HTTPS."""
    return salesforce_client(emulator.connection)


def ids(emulator: Emulator, object_name: str) -> list[str]:
    return [r["Id"] for r in emulator.records(object_name)]
