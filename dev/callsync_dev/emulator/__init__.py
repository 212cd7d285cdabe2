"""A Salesforce org emulator that simple-salesforce cannot tell from Salesforce (developer tooling).

with Emulator.from_fixture("org.json") as emu:
    sf = salesforce_client(emu.connection)      # callsync_dev.emulator.testing
    sf.Contact.create({"LastName": "Doe"})
    emu.dump()                                  # fixture-shaped (INTERFACES.md §3)
"""

from __future__ import annotations

import pathlib
from typing import Any

from callsync_dev.emulator.app import App
from callsync_dev.emulator.fixture import FixtureError, FixtureSource, build_org, dump_org, fixture_rows

__all__ = ["Emulator", "FixtureError"]


class Emulator:
    """One emulated org served over HTTPS on 127.0.0.1."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.store = app.store
        self._server: Any = None
        self.connection: dict[str, str] = {}

    @classmethod
    def from_fixture(
        cls, fixture: dict[str, Any] | str | pathlib.Path | None = None, *, auto_approve: bool = True
    ) -> Emulator:
        """Build an org from a fixture (dict, JSON text or path; None = an empty org)."""
        source: FixtureSource = fixture
        store, settings = build_org(source)
        return cls(App(store, settings, auto_approve=auto_approve))

    def start(self, port: int = 0) -> Emulator:
        from callsync_dev.emulator.server import HttpsServer

        if self._server is not None:
            return self
        server = HttpsServer(self.app, port)
        self.app.instance_url = f"https://127.0.0.1:{server.port}"
        server.start()
        self._server = server
        tokens = self.app.tokens
        self.connection = {
            "instance_url": self.app.instance_url,
            "ca_file": server.tls.ca_file,
            "client_id": tokens.client_id,
            "client_secret": tokens.client_secret,
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
        }
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def api_requests(self) -> int:
        """API requests so far, counted the way Salesforce counts them against the daily allocation."""
        return self.app.meter.used

    def reset_api_requests(self) -> None:
        self.app.meter.reset()

    @property
    def integration_user_id(self) -> str:
        return self.store.integration_user_id

    def add_faults(self, *faults: dict[str, Any]) -> None:
        """Add fixture-style faults (§3: method, path regex, skip, times, status, errorCode, message) at run time."""
        for spec in faults:
            self.app.faults.add(spec)
            self.app.settings.faults.append(dict(spec))

    def dump(self) -> dict[str, Any]:
        """The org as a fixture: every stored record with every field (ContentNote.Content decoded).

        ``api_usage`` is the org's usage now (the fixture's plus this emulator's requests), so a saved
        environment keeps its place in the daily allocation.
        """
        dump = dump_org(self.store, self.app.settings)
        dump.pop("api_usage", None)
        total = self.app.meter.total
        return {**dump, "api_usage": total} if total else dump

    def records(self, object_name: str) -> list[dict[str, Any]]:
        """Live (not deleted) records of one object, fixture-shaped."""
        return fixture_rows(self.store, object_name)
