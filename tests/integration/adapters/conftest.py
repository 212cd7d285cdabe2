"""The adapters' tests run on the shared moto AWS (``aws``, tests/support/stack.py) with the default Config."""

from __future__ import annotations

import pytest
from callsync.config import Config


@pytest.fixture
def config() -> Config:
    return Config()
