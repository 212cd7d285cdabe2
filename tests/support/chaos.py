"""Whether this test run has the emulator's chaos switch on (``CALLSYNC_EMULATOR_CHAOS``).

Under chaos every query pages by 1-3 records, so request counts measure the chaos, not callsync:
budget assertions hold only without it.
"""

from __future__ import annotations

import os

from callsync_dev.emulator.fixture import CHAOS_ENV

CHAOS = os.environ.get(CHAOS_ENV, "") not in ("", "0")
NO_BUDGETS_UNDER_CHAOS = "request budgets assume Salesforce's batch sizes; the chaos switch pages by 1-3 records"
