"""No token, secret or authorization code in any log line, report or ledger of a full run.

The org's sessions die every few API requests and refresh tokens rotate, so the run
refreshes several times; every value the emulator issued (access and refresh tokens,
the client secret) is then searched for in everything the run printed, logged and wrote.
"""

from __future__ import annotations

import json
import logging
import pathlib
from collections.abc import Callable
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
        original_init, original_grant = TokenBook.__init__, TokenBook._refresh_grant
        original_authorize = TokenBook.authorize

        def init(book: TokenBook, *args: Any, **kwargs: Any) -> None:
            original_init(book, *args, **kwargs)
            spy.values.add(book.client_secret)

        def remembering(original: Callable[[TokenBook], str]) -> Callable[[TokenBook], str]:
            def issue(book: TokenBook) -> str:
                token = original(book)
                spy.values.add(token)
                return token

            return issue

        def refresh_grant(book: TokenBook, *args: Any, **kwargs: Any) -> dict[str, Any]:
            spy.refreshes += 1
            return original_grant(book, *args, **kwargs)

        def authorize(book: TokenBook, params: dict[str, str]) -> str:
            location = original_authorize(book, params)
            spy.values.update(v for k, v in _query(location).items() if k == "code")
            return location

        monkeypatch.setattr(TokenBook, "__init__", init)
        monkeypatch.setattr(TokenBook, "_new_access", remembering(TokenBook._new_access))
        monkeypatch.setattr(TokenBook, "_new_refresh", remembering(TokenBook._new_refresh))
        monkeypatch.setattr(TokenBook, "_refresh_grant", refresh_grant)
        monkeypatch.setattr(TokenBook, "authorize", authorize)

    def found_in(self, text: str) -> list[str]:
        """The secret values present in ``text``, shortened so a failure does not print them whole."""
        return [f"{v[:6]}…({len(v)} chars)" for v in self.values if v and v in text]


def _query(url: str) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(url).query))


@pytest.fixture
def issued(monkeypatch: pytest.MonkeyPatch) -> IssuedSecrets:
    """Every secret value the emulator hands out during the test."""
    return IssuedSecrets(monkeypatch)


RunDemo = Callable[..., tuple[int, Any]]


@pytest.fixture
def run_demo(tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture) -> RunDemo:
    """``callsync run --verbose`` of the demo event against the demo org with the given org settings, every
    INFO log (and callsync's DEBUG ones) captured; returns the exit code and the result document."""

    def run(**org_settings: Any) -> tuple[int, Any]:
        org_path = tmp_path / "org.json"
        org_path.write_text(json.dumps(json.loads(DEMO_ORG.read_text()) | org_settings))
        out = tmp_path / "result.json"
        caplog.set_level(logging.DEBUG, logger="callsync")
        caplog.set_level(logging.INFO)
        code = cli.main(
            [
                "run",
                str(DEMO_EVENT),
                "--org",
                str(org_path),
                "--settings",
                str(DEMO_SETTINGS),
                "--out",
                str(out),
                "--verbose",
            ]
        )
        return code, json.loads(out.read_text())

    return run


def test_a_full_run_with_refreshes_logs_no_secret(
    issued: IssuedSecrets, run_demo: RunDemo, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the demo org whose sessions expire after 2 API requests, with rotating refresh tokens
    org = {"session_expires_after": 2, "rotate_refresh_tokens": True}
    # When the demo event runs through the local stack with every function's INFO logs on
    code, result = run_demo(**org)
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
    issued: IssuedSecrets, run_demo: RunDemo, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an org whose refresh token was revoked and whose session dies after 1 request
    org = {"session_expires_after": 1, "refresh_token_revoked": True}
    # When the demo event runs
    code, result = run_demo(**org)
    # Then the run fails (the org must be reconnected) and the error names no token
    printed = capsys.readouterr()
    assert code == 1
    assert result["runs"][0]["status"] == "FAILED"
    texts = [
        printed.out,
        printed.err,
        "\n".join(r.getMessage() for r in caplog.records),
        json.dumps(result["runs"]),
        json.dumps(result["ledger"], default=str),
    ]
    for text in texts:
        assert issued.found_in(text) == []
    # And the run failed as OrgDisconnected, with the reconnect hint
    assert result["runs"][0]["error"].startswith("OrgDisconnected: org acme is disconnected (invalid_grant)")
    outcome = next(e for e in result["ledger"] if e.get("sk") == "outcome")
    assert "callsync connect --org-id acme" in outcome["cause"]
