"""The readable report of ``callsync run``: what it leaves out and how it shows an overwrite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from callsync_dev.cli import main

from tests.support.chaos import CHAOS, NO_BUDGETS_UNDER_CHAOS

pytestmark = pytest.mark.e2e
DEMO = Path(__file__).resolve().parents[2] / "dev/callsync_dev/demo"


def test_report_summarises_fields_without_value_and_shows_an_overwrite(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given a call with only two insights, one of them a NextStep (overwrite) that starts with the current value
    event = json.loads((DEMO / "demo_event.json").read_text())
    event["insights"] = {
        "pain": event["insights"]["pain"],
        "next_step": "Discovery call with RevOps, then the proposal",
    }
    (tmp_path / "event.json").write_text(json.dumps(event), encoding="utf-8")
    # When it runs
    code = main(["run", str(tmp_path / "event.json")])
    report = capsys.readouterr().out
    assert code == 0
    # Then the mapped fields the call had no value for are one summary line, not one line each
    assert "no value in this call for 5 mapped field(s): Opportunity.Metrics__c," in report
    assert "Contact.Champion_Notes__c" in report
    assert "(empty) -> (empty)" not in report
    # And the Contact that only had such fields is not listed as a record
    assert "unchanged Contact 'Jane Doe" not in report
    # And the overwrite is shown as one, not as text kept with an addition
    line = next(x for x in report.splitlines() if x.strip().startswith("NextStep:"))
    assert "(kept)" not in line and "(overwritten)" in line
    assert "Discovery call with RevOps -> Discovery call with RevOps, then the proposal" in line
    # And MatchOpportunity's read is not listed as an unchanged record (the match lines say what was found)
    section = report.split("MatchOpportunity:", 1)[1].split("CreateContacts:", 1)[0]
    assert "unchanged" not in section
    assert "match: Opportunity 'Globex - Sales call automation (120 seats)'" in report


def _failing_org(skip: int) -> dict[str, object]:
    """The demo org whose composite requests answer 503 after the first ``skip`` (until retries run out)."""
    org = json.loads((DEMO / "demo_org.json").read_text())
    org["faults"] = [
        {"method": "POST", "path": "composite$", "skip": skip, "times": 10_000, "status": 503,
         "errorCode": "SERVER_UNAVAILABLE", "message": "try later"}
    ]  # fmt: skip
    return org


@pytest.mark.parametrize(
    ("skip", "says"),
    [
        (0, "nothing was written to Salesforce before the failure"),
        # which composite is the third depends on Salesforce's batch sizes: not under the chaos switch
        pytest.param(2, "the ledger above lists the", marks=pytest.mark.skipif(CHAOS, reason=NO_BUDGETS_UNDER_CHAOS)),
    ],
    ids=["nothing-written", "some-written"],
)
def test_a_failed_run_says_whether_anything_was_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, skip: int, says: str
) -> None:
    # Given Salesforce refusing every composite from the first one (nothing written), or after the match's two
    # answers (contacts and fields written, the activity not)
    (tmp_path / "org.json").write_text(json.dumps(_failing_org(skip)))
    # When the demo call runs until it FAILS
    code = main(["run", str(DEMO / "demo_event.json"), "--org", str(tmp_path / "org.json")])
    report = capsys.readouterr().out
    # Then the report says what the ledger holds: no claim of a list when it lists nothing
    assert code == 1 and "FAILED:" in report, report
    assert says in report
    if skip == 0:
        assert "the ledger above lists" not in report
