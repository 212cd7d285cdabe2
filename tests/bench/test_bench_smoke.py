"""The benchmark's code works (its smoke mode end to end); its timings are not asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from callsync.models.event import CallProcessed
from callsync.models.settings import OrgSettings

from bench.fixtures import LARGE, TYPICAL, call_event, org_fixture, settings_fixture
from bench.stats import percentile

REPO = Path(__file__).resolve().parents[2]


def test_call_shapes_match_the_issue():
    # Given the two call shapes / When their events and settings are generated
    typical, large = call_event(TYPICAL, 1, company=1), call_event(LARGE, 1, company=1)
    # Then they are valid call.processed v1 events and settings with the benchmark's sizes
    for event, shape in ((typical, TYPICAL), (large, LARGE)):
        call = CallProcessed.model_validate(event)
        settings = OrgSettings.model_validate(settings_fixture(shape))
        assert len(call.participants) == shape.participants
        assert len(settings.field_sync.mappings) == shape.mapped_fields
        assert len(call.action_items) == shape.action_items
    assert (TYPICAL.participants, TYPICAL.new_external, TYPICAL.mapped_fields) == (5, 1, 6)
    assert (LARGE.participants, LARGE.new_external, LARGE.mapped_fields, LARGE.action_items) == (40, 5, 20, 10)
    # And two calls never share a call_id or a new person
    other = call_event(TYPICAL, 2, company=1)
    assert other["call_id"] != typical["call_id"]
    assert {p["email"] for p in other["participants"]} != {p["email"] for p in typical["participants"]}


def test_org_fixture_scales_without_touching_the_customers():
    # Given a small and a scaled org / Then the customer records are the same and the filler is added
    small, big = org_fixture(companies=2), org_fixture(companies=2, extra_contacts=500, extra_opportunities=50)
    assert len(big["records"]["Contact"]) == len(small["records"]["Contact"]) + 500
    assert len(big["records"]["Opportunity"]) == len(small["records"]["Opportunity"]) + 50
    assert big["records"]["OpportunityContactRole"] == small["records"]["OpportunityContactRole"]


def test_percentile_is_nearest_rank():
    assert percentile([5, 1, 3, 2, 4], 50) == 3
    assert percentile(list(range(1, 101)), 95) == 95
    with pytest.raises(ValueError):
        percentile([], 50)


def test_smoke_run_prints_and_writes_the_report(tmp_path):
    # Given the smoke mode / When the benchmark runs as `make bench-smoke` would
    out = tmp_path / "benchmarks.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    # Then it succeeds, prints the report and writes the same report
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert done.stdout == text
    # And every section is there, with the request counts of both call shapes and the naive comparison
    for heading in (
        "## Targets",
        "## 1. Salesforce API requests per call",
        "## 2. Compute per call",
        "## 3. Cold-start proxies",
        "## 4. Scale",
        "## 5. Cost on paper",
    ):
        assert heading in text
    rows = {
        line.split("|")[1].strip(): line
        for line in text.splitlines()
        if line.startswith("| typical |") or line.startswith("| large |")
    }
    assert set(rows) == {"typical", "large"}
    typical_cells = [c.strip() for c in rows["typical"].split("|")[2:7]]
    cold, warm, _same, naive, floor = (int(c) for c in typical_cells)
    assert floor == 2 and warm <= cold < naive
    assert "SUCCEEDED 3" in text
