"""No token, secret or authorization code in any log line, report or ledger of a full run.

The org's sessions die every few API requests and refresh tokens rotate, so the run
refreshes several times; every value the emulator issued (access and refresh tokens,
the client secret) is then searched for in everything the run printed, logged and wrote.
"""

from __future__ import annotations

import json
import logging
import pathlib
from typing import Any

import pytest
from callsync_dev import cli
from callsync_dev.emulator.oauth import TokenBook
from callsync_dev.runner import DEMO_EVENT, DEMO_ORG, DEMO_SETTINGS

pytestmark = pytest.mark.e2e


class IssuedSecrets:
    """Spies on the emulator's token book: remembers every secret value it hands out."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.values: set[str] = set()
        self.refreshes = 0
        spy = self
        original_init = TokenBook.__init__
        original_access, original_refresh = TokenBook._new_access, TokenBook._new_refresh
        original_grant = TokenBook._refresh_grant
        original_authorize = TokenBook.authorize

        def init(book: TokenBook, *args: Any, **kwargs: Any) -> None:
            original_init(book, *args, **kwargs)
            spy.values.add(book.client_secret)

        def new_access(book: TokenBook) -> str:
            token = original_access(book)
            spy.values.add(token)
            return token

        def new_refresh(book: TokenBook) -> str:
            token = original_refresh(book)
            spy.values.add(token)
            return token

        def refresh_grant(book: TokenBook, *args: Any, **kwargs: Any) -> dict[str, Any]:
            spy.refreshes += 1
            return original_grant(book, *args, **kwargs)

        def authorize(book: TokenBook, params: dict[str, str]) -> str:
            location = original_authorize(book, params)
            spy.values.update(v for k, v in _query(location).items() if k == "code")
            return location

        monkeypatch.setattr(TokenBook, "__init__", init)
        monkeypatch.setattr(TokenBook, "_new_access", new_access)
        monkeypatch.setattr(TokenBook, "_new_refresh", new_refresh)
        monkeypatch.setattr(TokenBook, "_refresh_grant", refresh_grant)
        monkeypatch.setattr(TokenBook, "authorize", authorize)

    def found_in(self, text: str) -> list[str]:
        """The secret values present in ``text``, shortened so a failure does not print them whole."""
        return [f"{v[:6]}…({len(v)} chars)" for v in self.values if v and v in text]


def _query(url: str) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(url).query))


def run_demo(tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture, **org_settings: Any) -> tuple[int, Any]:
    """``callsync run --verbose`` of the demo event against the demo org with ``org_settings``, every INFO log
    (and callsync's DEBUG ones) captured; returns the exit code and the result document."""
    org_path = tmp_path / "org.json"
    org_path.write_text(json.dumps(json.loads(DEMO_ORG.read_text()) | org_settings))
    out = tmp_path / "result.json"
    caplog.set_level(logging.DEBUG, logger="callsync")
    caplog.set_level(logging.INFO)
    code = cli.main(["run", str(DEMO_EVENT), "--org", str(org_path), "--settings", str(DEMO_SETTINGS),
                     "--out", str(out), "--verbose"])
    return code, json.loads(out.read_text())


def test_a_full_run_with_refreshes_logs_no_secret(
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the demo org whose sessions expire after 2 API requests, with rotating refresh tokens
    issued = IssuedSecrets(monkeypatch)
    # When the demo event runs through the local stack with every function's INFO logs on
    code, result = run_demo(tmp_path, caplog, session_expires_after=2, rotate_refresh_tokens=True)
    # Then the run succeeded, refreshing tokens on the way
    printed = capsys.readouterr()
    assert code == 0, printed.out[-2000:]
    assert issued.refreshes >= 2
    assert len(issued.values) >= 4  # client secret, first tokens, and the refreshed ones
    # And no secret value appears in stdout, stderr, any log record, the report, the ledger or the DLQ
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    everything = {
        "stdout": printed.out,
        "stderr": printed.err,
        "log records": logged,
        "ledger": json.dumps(result["ledger"], default=str),
        "runs": json.dumps(result["runs"], default=str),
        "dlq": json.dumps(result["dlq"], default=str),
    }
    assert '"level":"INFO"' in printed.err.replace(" ", "")  # the functions' structured logs were captured
    assert issued.found_in(" ".join(sorted(issued.values)))  # and the scan would see a leak
    for where, text in everything.items():
        assert issued.found_in(text) == [], f"secret value in {where}"


def test_a_failed_refresh_reports_without_the_refresh_token(
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given an org whose refresh token was revoked and whose session dies after 1 request
    issued = IssuedSecrets(monkeypatch)
    # When the demo event runs
    code, result = run_demo(tmp_path, caplog, session_expires_after=1, refresh_token_revoked=True)
    # Then the run fails (the org must be reconnected) and the error names no token
    printed = capsys.readouterr()
    assert code == 1
    assert result["runs"][0]["status"] == "FAILED"
    texts = [printed.out, printed.err, "\n".join(r.getMessage() for r in caplog.records), json.dumps(result["runs"]),
             json.dumps(result["ledger"], default=str)]
    for text in texts:
        assert issued.found_in(text) == []
    # And the run failed as OrgDisconnected, with the reconnect hint
    assert result["runs"][0]["error"].startswith("OrgDisconnected: org acme is disconnected (invalid_grant)")
    outcome = next(e for e in result["ledger"] if e.get("sk") == "outcome")
    assert "callsync connect --org-id acme" in outcome["cause"]
