"""``callsync backfill account-links`` (INTERFACES.md §4) on the local environment of ``callsync run --state``:
the pipeline's adapters, the emulator over HTTPS, checkpoints in the stack's claims table."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import Any

import pytest
from callsync_dev.cli import main
from callsync_dev.runner import DEMO_EVENT, DEMO_ORG, DEMO_SETTINGS, run

from tests.support.chaos import CHAOS, NO_BUDGETS_UNDER_CHAOS

pytestmark = pytest.mark.e2e
FIELD = "Callsync_Link__c"
PIPELINE_LINK = "https://app.callsync.example/companies/globex"  # what the demo call writes on Globex


def company(i: int) -> dict[str, Any]:
    return {"Id": f"acct-c{i}", "Name": f"Company {i}", "Website": f"https://www.company{i}.example/home"}


def environment(tmp_path: Path, companies: int, *, settings: dict[str, Any] | None = None) -> Path:
    """Given the demo call synced into a persistent environment whose org also holds ``companies`` Accounts."""
    org = json.loads(DEMO_ORG.read_text())
    org["records"]["Account"] += [company(i) for i in range(companies)]
    org["records"]["Account"].append(
        {"Id": "acct-oneil", "Name": "O'Neil_Partners", "Website": "o'neil_partners.example"}
    )
    state = tmp_path / "state"
    result = run([DEMO_EVENT], org=org, settings=settings or str(DEMO_SETTINGS), state=state)
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"]
    return state


def accounts(state: Path) -> dict[str, dict[str, Any]]:
    return {a["Name"]: a for a in json.loads((state / "org.json").read_text())["records"]["Account"]}


def write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


def backfill(
    capsys: pytest.CaptureFixture[str], state: Path, file: Path, *extra: str
) -> tuple[int, dict[str, Any], str]:
    capsys.readouterr()
    code = main(["backfill", "account-links", "--file", str(file), "--state", str(state), "--json", *extra])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_links_are_filled_in_batches_of_200_and_set_ones_are_kept(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given 250 Accounts without a link, Globex linked by the pipeline, and a file naming all of them (by
    # domain, written as websites too; Initech by id; a domain with a quote and a LIKE wildcard; a domain no
    # Account has; an invalid line)
    state = environment(tmp_path, 250)
    initech_id = accounts(state)["Initech"]["Id"]
    lines: list[Any] = [{"domain": f"company{i}.example", "url": f"https://app.example/c/{i}"} for i in range(250)]
    lines += [
        {"domain": "https://www.globex.com/about", "url": "https://app.example/globex"},
        {"account_id": initech_id, "url": "https://app.example/initech"},
        {"domain": "o'neil_partners.example", "url": "https://app.example/oneil"},
        {"domain": "nowhere.example", "url": "https://app.example/nowhere"},
        '{"domain": "broken.example", "url": ',
    ]
    file = write_lines(tmp_path / "companies.jsonl", lines)
    # When the backfill runs
    code, out, err = backfill(capsys, state, file)
    # Then every empty link is filled, Globex's is kept, and the summary counts each line once
    assert out["status"] == "COMPLETED" and out["counts"] == {
        "filled": 252, "already_set": 1, "no_match": 1, "invalid": 1, "failed": 0,
    }, out  # fmt: skip
    after = accounts(state)
    assert all(after[f"Company {i}"][FIELD] == f"https://app.example/c/{i}" for i in range(250))
    assert after["Globex"][FIELD] == PIPELINE_LINK and after["Initech"][FIELD] == "https://app.example/initech"
    assert after["O'Neil_Partners"][FIELD] == "https://app.example/oneil"
    # And 254 lines took two batches: one composite read and one collections write each
    assert CHAOS or out["api_requests"] == 4, out  # NO_BUDGETS_UNDER_CHAOS
    # And the invalid line is named with its number; the exit code says not everything was clean
    assert out["problems"] == [
        {"line": 255, "status": "invalid", "account_ids": [], "reason": out["problems"][0]["reason"]}
    ]
    assert out["problems"][0]["reason"].startswith("not JSON") and code == 1
    # And without a terminal, progress is one plain line per batch on stderr
    assert "backfill: 200/255 lines" in err and "backfill: 255/255 lines" in err


def test_an_interrupted_backfill_resumes_where_it_stopped(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Given a backfill in batches of 2 whose second write Salesforce answers 503 (every PATCH after the first)
    state = environment(tmp_path, 5)
    org = json.loads((state / "org.json").read_text())
    org["faults"] = [
        {"method": "PATCH", "path": "composite/sobjects$", "skip": 1, "times": 10_000, "status": 503,
         "errorCode": "SERVER_UNAVAILABLE", "message": "try later"}
    ]  # fmt: skip
    (state / "org.json").write_text(json.dumps(org))
    file = write_lines(
        tmp_path / "c.jsonl", [{"domain": f"company{i}.example", "url": f"https://app.example/{i}"} for i in range(5)]
    )
    code, out, _ = backfill(capsys, state, file, "--batch-size", "2")
    # Then it stops INTERRUPTED after the first batch, saying where it will resume
    assert code == 1 and out["status"] == "INTERRUPTED" and out["next_line"] == 3, out
    assert "resume at line 3" in out["reason"] and "SalesforceUnavailable" in out["reason"]
    assert [bool(accounts(state)[f"Company {i}"].get(FIELD)) for i in range(5)] == [True, True, False, False, False]
    # When Salesforce answers again and the same command runs again
    org = json.loads((state / "org.json").read_text())
    org["faults"] = []
    (state / "org.json").write_text(json.dumps(org))
    code, out, _ = backfill(capsys, state, file, "--batch-size", "2")
    # Then it resumes at line 3: two batches (a read and a write each), the totals cover the whole file
    assert code == 0 and out["status"] == "COMPLETED" and out["resumed_from_line"] == 3, out
    assert out["counts"]["filled"] == 5 and (CHAOS or out["api_requests"] == 4)  # NO_BUDGETS_UNDER_CHAOS
    assert all(accounts(state)[f"Company {i}"][FIELD] == f"https://app.example/{i}" for i in range(5))
    # When it runs once more / Then there is nothing left to do, and nothing is read
    code, out, _ = backfill(capsys, state, file)
    assert code == 0 and out["status"] == "ALREADY_DONE" and out["api_requests"] == 0


@pytest.mark.skipif(CHAOS, reason=NO_BUDGETS_UNDER_CHAOS)
def test_the_backfill_stops_before_the_api_budget_and_resumes_when_there_is_room(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given an org with 20 requests a day and api_budget.max_share 0.5 (10 requests for callsync)
    settings = {**json.loads(DEMO_SETTINGS.read_text()), "api_budget": {"max_share": 0.5}}
    state = environment(tmp_path, 12, settings=settings)
    org = json.loads((state / "org.json").read_text())
    org["api_limit"] = 20
    org["api_usage"] = 0  # the day starts now (the requests of the run that made the environment are gone)
    (state / "org.json").write_text(json.dumps(org))
    file = write_lines(
        tmp_path / "c.jsonl", [{"domain": f"company{i}.example", "url": f"https://app.example/{i}"} for i in range(12)]
    )
    # When 12 lines are backfilled in batches of 2 (2 requests each)
    code, out, _ = backfill(capsys, state, file, "--batch-size", "2")
    # Then it stops DEFERRED after 5 batches, never past 10 requests, saying why and where it resumes
    assert code == 1 and out["status"] == "DEFERRED" and out["next_line"] == 11, out
    assert out["api_usage"] == [10, 20] and "max_share 0.5 allows 10" in out["reason"]
    # When the allocation has room again (a new day: the org's usage in DIR/org.json starts over)
    org = json.loads((state / "org.json").read_text())
    org["api_usage"] = 0
    (state / "org.json").write_text(json.dumps(org))
    code, out, _ = backfill(capsys, state, file, "--batch-size", "2")
    # Then the last batch is written
    assert code == 0 and out["status"] == "COMPLETED" and out["counts"]["filled"] == 12, out


def test_on_a_terminal_the_progress_is_a_bar(tmp_path: Path) -> None:
    # Given an environment with 6 Accounts to link and the console script whose stderr is a terminal (a pty)
    state = environment(tmp_path, 6)
    file = write_lines(
        tmp_path / "c.jsonl", [{"domain": f"company{i}.example", "url": f"https://app.example/{i}"} for i in range(6)]
    )
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 100-column terminal
    callsync = str(Path(sys.executable).parent / "callsync")
    argv = [callsync, "backfill", "account-links", "--file", str(file), "--state", str(state), "--batch-size", "2"]
    # When the backfill runs
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out, _ = proc.communicate(timeout=300)
    terminal = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the pty is closed once the process is gone
            break
        if not chunk:
            break
        terminal += chunk
    os.close(master)
    # Then the terminal shows a tqdm bar that reaches 6/6 lines, and stdout holds only the summary
    shown = terminal.decode(errors="replace")
    assert proc.returncode == 0, (out, shown)
    assert "account links: 100%" in shown and "6/6" in shown and "\r" in shown, shown
    assert "backfill: " not in shown  # not the plain lines meant for logs
    assert out.decode().startswith("account-link backfill of org acme") and "filled            6" in out.decode()
