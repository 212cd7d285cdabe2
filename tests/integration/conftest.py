"""Live-org mode for the adapter integration tests (docs/emulator.md, "Live-org contract mode").

With ``CALLSYNC_LIVE_INSTANCE_URL`` set (tests/support/live_org.py), the tests marked ``live_org`` get the
live org from ``emulator_for()`` in the place of a fresh emulator: they are read-only or delete what they
create, and use nothing but the org's connection. Every other test here needs what only an emulator gives
(seeded records, faults, expiring sessions, the server's request count) and is skipped with that reason.
AWS stays the embedded moto either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.live_org import LiveOrg, live_mode

NEEDS_AN_EMULATOR = (
    "live-org mode: this test needs an emulator org (seeded records, faults, session expiry or the "
    "server's request count); only tests marked live_org run against the live org"
)
NOT_ABOUT_THE_ORG = "live-org mode: only tests marked live_org run; this one does not take its org from emulator_for"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In live-org mode, skip the integration tests that are not marked ``live_org``."""
    if not live_mode():
        return
    here = str(config.rootpath / "tests" / "integration")
    for item in items:
        if str(item.path).startswith(here) and item.get_closest_marker("live_org") is None:
            uses_an_org = "emulator_for" in getattr(item, "fixturenames", ())
            item.add_marker(pytest.mark.skip(reason=NEEDS_AN_EMULATOR if uses_an_org else NOT_ABOUT_THE_ORG))


@pytest.fixture
def emulator_for(emulator_for: Callable[..., Any]) -> Callable[..., Any]:
    """The shared factory (tests/support/stack.py); in live-org mode a plain org is the live org."""
    if not live_mode():
        return emulator_for

    def live(fixture: dict[str, Any] | None = None, **org_settings: Any) -> LiveOrg:
        if fixture or org_settings:
            pytest.skip(f"{NEEDS_AN_EMULATOR} (it seeds {sorted({*(fixture or {}), *org_settings})})")
        return LiveOrg()

    return live
