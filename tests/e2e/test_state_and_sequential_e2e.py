"""``callsync run --state DIR`` and ``--sequential`` (INTERFACES.md §4, version 1.1): an environment that
persists between runs, editable between them, and calls that arrive one after the other."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from callsync_dev.cli import main
from callsync_dev.runner import run

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
DEMO_EVENT = ROOT / "dev/callsync_dev/demo/demo_event.json"
DEMO_SETTINGS = ROOT / "dev/callsync_dev/demo/demo_settings.json"
REVISION_2 = ROOT / "events/demo_event_revision2.json"
ROLLOUT = "Globex - Sales call automation (120 seats)"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def record(org: dict[str, Any], obj: str, name: str) -> dict[str, Any]:
    return next(r for r in org["records"][obj] if r.get("Name") == name)


def test_a_later_run_continues_the_environment_of_the_first(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Given a first run of the demo call with --state DIR
    state = tmp_path / "state"
    code, _ = cli(capsys, "run", str(DEMO_EVENT), "--state", str(state), "--out", str(tmp_path / "r1.json"))
    assert code == 0
    first = read(tmp_path / "r1.json")
    # Then DIR holds the org in the fixture format and the AWS side
    org = read(state / "org.json")
    assert any(c.get("Email") == "sam.lee@globex.com" for c in org["records"]["Contact"])
    assert (state / "aws/tables/LedgerTable.json").is_file() and (state / "aws/secrets.json").is_file()

    # When the same call is delivered again in a second run, with revision 2 after it
    code, report = cli(
        capsys, "run", str(DEMO_EVENT), str(REVISION_2), "--state", str(state), "--out", str(tmp_path / "r2.json")
    )
    second = read(tmp_path / "r2.json")
    # Then the redelivery is a DUPLICATE of the first run's execution (its name stayed taken)
    assert code == 0
    assert [r["status"] for r in second["runs"]] == ["DUPLICATE", "SUCCEEDED"]
    assert second["runs"][0]["execution_arn"] == first["runs"][0]["execution_arn"]
    # And the Contact created in the first run is not created again: revision 2 finds it
    contacts = [c for c in second["org"]["records"]["Contact"] if c.get("Email") == "sam.lee@globex.com"]
    assert len(contacts) == 1
    # And the ledger still holds the first run's outcome beside the second's
    outcomes = sorted(e["call_key"] for e in second["ledger"] if e["sk"] == "outcome")
    assert outcomes == ["acme#zoom-8841-2026-06-03#1", "acme#zoom-8841-2026-06-03#2"]
    assert "State: " in report


def test_hand_edits_to_org_json_are_loaded_as_given(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Given a first run, then a person edits org.json: the rollout's NextStep, changed by Alice on a given date
    state = tmp_path / "state"
    assert cli(capsys, "run", str(DEMO_EVENT), "--state", str(state))[0] == 0
    org = read(state / "org.json")
    alice = next(u["Id"] for u in org["records"]["User"] if u.get("Email") == "alice.rep@acme.io")
    opp = record(org, "Opportunity", ROLLOUT)
    opp.update(NextStep="Security review with Raj", LastModifiedById=alice, LastModifiedDate="2026-06-05T09:30:00.000Z")
    account = record(org, "Account", "Globex")
    account.update(Description="Edited by hand", LastModifiedById=alice, LastModifiedDate="2026-06-04T08:00:00.000Z")
    (state / "org.json").write_text(json.dumps(org), encoding="utf-8")

    # When revision 2 runs against DIR
    code, report = cli(capsys, "run", str(REVISION_2), "--state", str(state), "--out", str(tmp_path / "r2.json"))
    assert code == 0
    # Then the pipeline read the edited value (the report shows it as NextStep's value before the call)
    assert "NextStep: Security review with Raj ->" in report
    # And a record callsync did not write keeps the edit and its system fields exactly as given
    saved = record(read(state / "org.json"), "Account", "Globex")
    assert saved["Description"] == "Edited by hand"
    assert saved["LastModifiedById"] == alice
    assert datetime.fromisoformat(saved["LastModifiedDate"].replace("Z", "+00:00")) == datetime.fromisoformat(
        "2026-06-04T08:00:00+00:00"
    )


def test_stored_settings_are_replaced_only_when_settings_are_given(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given an environment seeded with the demo settings, then given settings with autosync off
    state = tmp_path / "state"
    assert cli(capsys, "run", str(DEMO_EVENT), "--state", str(state))[0] == 0
    off = {**read(DEMO_SETTINGS), "autosync": False}
    (tmp_path / "off.json").write_text(json.dumps(off), encoding="utf-8")
    code, _ = cli(
        capsys,
        "run",
        str(REVISION_2),
        "--state",
        str(state),
        "--settings",
        str(tmp_path / "off.json"),
        "--out",
        str(tmp_path / "r2.json"),
    )
    # Then that run is SKIPPED with the reason
    (skipped,) = read(tmp_path / "r2.json")["runs"]
    assert code == 0 and skipped["status"] == "SKIPPED"
    assert skipped["reason"] == "autosync is off for org acme"

    # When a later run gives no settings but another org fixture
    empty_org = tmp_path / "empty_org.json"
    empty_org.write_text(json.dumps({"records": {}}), encoding="utf-8")
    code, report = cli(
        capsys,
        "run",
        str(REVISION_2),
        "--state",
        str(state),
        "--org",
        str(empty_org),
        "--out",
        str(tmp_path / "r3.json"),
    )
    # Then the stored settings (autosync off) still apply and the stored org is used, --org is ignored
    (again,) = read(tmp_path / "r3.json")["runs"]
    assert again["status"] == "SKIPPED"
    assert "--org ignored" in report
    assert any(r.get("Name") == ROLLOUT for r in read(tmp_path / "r3.json")["org"]["records"]["Opportunity"])


def test_a_dry_run_leaves_the_state_as_it_was(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Given an environment after one run
    state = tmp_path / "state"
    assert cli(capsys, "run", str(DEMO_EVENT), "--state", str(state))[0] == 0
    before = {p.relative_to(state): p.read_bytes() for p in state.rglob("*.json")}
    # When revision 2 runs with --dry-run
    code, _ = cli(capsys, "run", str(REVISION_2), "--state", str(state), "--dry-run")
    # Then nothing in DIR changed
    assert code == 0
    assert {p.relative_to(state): p.read_bytes() for p in state.rglob("*.json")} == before


def test_sequential_settles_each_call_before_sending_the_next(tmp_path: Path) -> None:
    # Given two revisions of one call
    # When they run with --sequential
    result = run([DEMO_EVENT, REVISION_2], sequential=True)
    # Then both succeed, and revision 2's execution started only after revision 1's had finished
    assert [r["status"] for r in result.runs] == ["SUCCEEDED", "SUCCEEDED"]
    first, second = (result.executions[r["execution_arn"]] for r in result.runs)
    assert datetime.fromisoformat(first["stopDate"]) <= datetime.fromisoformat(second["startDate"])
    # And each run reports the largest state its execution carried: more than the input, below Step Functions' cap
    for entry in result.runs:
        assert entry["warnings"] == [] and entry["reason"] is None
        assert 0 < entry["max_state_bytes"] < 256 * 1024
    assert result.runs[0]["max_state_bytes"] > len(first["input"].encode())
