"""The API budget guard through the real pipe (``callsync run``, the template's state machine, the emulator).

Salesforce reports the org's usage of its daily allocation in every REST answer (``Sforce-Limit-Info:
api-usage=USED/LIMIT``; REST API Developer Guide, "Limit Info Header"). callsync spends at most
``api_budget.max_share`` of it: a call that would go past it is held (``DEFERRED`` with the reason, nothing
written) and runs when the rolling 24-hour window has room — by ``callsync replay`` or the scheduled resumer.
The org fixture's ``api_usage`` stands for what the org's other clients have used; editing it in ``DIR/org.json``
between runs stands for the window freeing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from callsync.adapters.dynamodb_api_budget import usage_key
from callsync_dev.cli import main
from callsync_dev.control_plane import local_environment
from callsync_dev.runner import DEMO_EVENT, DEMO_ORG, run

from bench.concurrency import call_event, org_fixture, settings_fixture
from tests.support.demo import live_records, load, write_event

pytestmark = pytest.mark.e2e
CALL = "zoom-8841-2026-06-03"
SUBJECT = "[callsync] Globex x Acme - rollout scoping"
LIMIT = 15_000
ALLOWED = 12_000  # max_share 0.8 (the default) of 15,000


def org_near_the_share(used: int) -> dict[str, Any]:
    org = load(DEMO_ORG)
    org.update(api_limit=LIMIT, api_usage=used)
    return org


def free_the_window(state: Path, used: int) -> None:
    """Stand for the rolling window moving on: the org's usage is now ``used``."""
    org = json.loads((state / "org.json").read_text())
    org["api_usage"] = used
    (state / "org.json").write_text(json.dumps(org))


def events(org: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in live_records(org, "Event") if e["Subject"] == SUBJECT]


def test_a_call_that_would_pass_the_share_is_deferred_with_the_reason_and_writes_nothing(tmp_path: Path) -> None:
    # Given an org whose other clients have used 11,995 of its 15,000 daily requests (callsync may use 12,000)
    state = tmp_path / "state"
    # When a call arrives (a call may need up to 10 requests)
    result = run([DEMO_EVENT], org=org_near_the_share(11_995), state=state)
    # Then it is held: DEFERRED (exit 0) with a reason naming the usage and the share
    (only,) = result.runs
    assert only["status"] == "DEFERRED" and result.exit_code == 0, only
    assert "11996 of its 15000" in only["reason"] and "api_budget.max_share 0.8" in only["reason"], only["reason"]
    # And nothing was written: one request read the org's usage (GET limits/), no step ran
    assert result.api_requests == 1
    assert events(result.org) == []
    assert [c for c in live_records(result.org, "Contact") if c["Email"] == "sam.lee@globex.com"] == []
    outcome = next(e for e in result.ledger if e["kind"] == "outcome")
    assert (outcome["status"], outcome["reason"]) == ("DEFERRED", only["reason"])


def test_a_deferred_call_is_replayed_once_the_window_has_room(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given a call held by the budget
    state = tmp_path / "state"
    first = run([DEMO_EVENT], org=org_near_the_share(11_995), state=state)
    assert [r["status"] for r in first.runs] == ["DEFERRED"]
    # When still no room / Then a replay holds it again (its guard read the usage again: one request)
    capsys.readouterr()
    assert main(["replay", "--call", CALL, "--state", str(state), "--json"]) == 0
    held = json.loads(capsys.readouterr().out)
    assert (held["replayed_status"], held["ended"]) == ("DEFERRED", "DEFERRED"), held
    # When the rolling window frees (the org has used 3,000) and the admin replays it
    free_the_window(state, 3_000)
    assert main(["replay", "--call", CALL, "--state", str(state), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # Then the stored call runs to the end, once
    assert (out["replayed_status"], out["ended"]) == ("DEFERRED", "SUCCEEDED"), out
    after = json.loads((state / "org.json").read_text())
    assert len(events(after)) == 1
    assert [c["Email"] for c in live_records(after, "Contact")].count("sam.lee@globex.com") == 1
    # And the org's usage kept counting: the guard's reads and the call's requests
    assert 3_000 < after["api_usage"] <= 3_000 + 1 + 10


def test_the_scheduled_resumer_replays_held_calls_once_the_window_has_room(tmp_path: Path) -> None:
    # Given two calls held by the budget
    state = tmp_path / "state"
    paths = [write_event(tmp_path, "a"), write_event(tmp_path, "b", call_id="zoom-9001", title="Globex follow-up")]
    first = run(paths, org=org_near_the_share(11_995), state=state, sequential=True)
    assert [r["status"] for r in first.runs] == ["DEFERRED", "DEFERRED"]
    # When the window frees and the resumer's schedule fires
    free_the_window(state, 3_000)
    with local_environment(state) as stack:
        resume = stack.function("ResumeDeferredFunction")
        # (and the org's stored reading is now 20 minutes old: old enough to be read again)
        claims = stack.table("ClaimsTable")
        reading = claims.get_item(Key={"pk": usage_key("acme")})["Item"]
        claims.put_item(Item={**reading, "read_at": reading["read_at"] - 1_200})
        # Then the first tick replays one held call only: the stored reading still says there is no room, so
        # that call's guard reads the usage again — and finds room, and the call runs
        (org,) = resume.invoke({"source": "aws.scheduler"})["orgs"]
        assert (org["org_id"], org["held"], org["replayed"]) == ("acme", 2, [CALL])
        _wait_for_replays(stack, 1)
        # And the next tick, trusting the fresh reading, replays the rest
        (org,) = resume.invoke({"source": "aws.scheduler"})["orgs"]
        assert (org["held"], org["replayed"]) == (1, ["zoom-9001"])
        assert set(_wait_for_replays(stack, 2).values()) == {"SUCCEEDED"}
        # And nothing is left held
        assert resume.invoke({"source": "aws.scheduler"})["orgs"] == []
    after = json.loads((state / "org.json").read_text())
    assert len(events(after)) == 1 and any(
        e["Subject"].endswith("Globex follow-up") for e in live_records(after, "Event")
    )


def _wait_for_replays(stack: Any, count: int) -> dict[str, str]:
    """Wait until ``count`` replayed executions have finished; name -> status."""
    sfn = stack.client("stepfunctions")
    deadline = time.monotonic() + 120
    while True:
        listed = sfn.list_executions(stateMachineArn=stack.state_machines["PostCallSyncStateMachine"])["executions"]
        done = {e["name"]: e["status"] for e in listed if "-replay" in e["name"] and e["status"] != "RUNNING"}
        if len(done) >= count or time.monotonic() > deadline:
            return done
        time.sleep(0.05)


def test_one_orgs_burst_runs_at_most_its_concurrency_cap_of_salesforce_requests_at_once(tmp_path: Path) -> None:
    # Given a slow org (every request takes 150 ms) and a cap of 2 Salesforce-bound invocations per org
    org = org_fixture(8)
    org["latency_ms"] = 150
    paths = [write_event(tmp_path, f"c{i}", call_event(i)) for i in range(8)]
    # When eight calls of the org arrive together (the state machine's waits for a slot at 5 % of their length:
    # the local default of 1 % can spend OrgBusy's attempts before a slot frees, which AWS's minutes do not)
    result = run(paths, org=org, settings=settings_fixture(), org_concurrency=2, retry_wait_scale=0.05)
    # Then every call succeeds, and Salesforce never answered more than two of the org's requests at once
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"] * 8, [r["error"] for r in result.runs]
    assert 1 <= result.peak_concurrent_requests <= 2


def test_without_the_cap_the_same_burst_runs_more_requests_at_once(tmp_path: Path) -> None:
    # Given the same slow org and burst, with the cap at Salesforce's own 25
    org = org_fixture(8)
    org["latency_ms"] = 150
    paths = [write_event(tmp_path, f"c{i}", call_event(i)) for i in range(8)]
    # When the calls arrive together / Then more than two requests ran at once (the cap above is what held them)
    result = run(paths, org=org, settings=settings_fixture(), org_concurrency=25)
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"] * 8
    assert result.peak_concurrent_requests > 2


def test_a_burst_near_the_share_runs_what_fits_holds_the_rest_and_never_passes_the_share(tmp_path: Path) -> None:
    # Given an org with room for about four calls under its share (12,000 of 15,000; 11,863 used)
    org = org_fixture(8)
    org.update(api_limit=LIMIT, api_usage=11_863)
    paths = [write_event(tmp_path, f"c{i}", call_event(i)) for i in range(8)]
    # When eight calls arrive together (their guards check at the same moment)
    result = run(paths, org=org, settings=settings_fixture())
    statuses = [r["status"] for r in result.runs]
    # Then some ran and the rest were held, each with its reason
    assert set(statuses) == {"SUCCEEDED", "DEFERRED"} and statuses.count("SUCCEEDED") <= 4, statuses
    assert all("API budget" in r["reason"] for r in result.runs if r["status"] == "DEFERRED")
    # And the org's usage never passed callsync's share, and a held call wrote nothing (one Event per call run)
    assert result.org["api_usage"] <= ALLOWED
    subjects = [e["Subject"] for e in live_records(result.org, "Event")]
    ran = [i for i, r in enumerate(result.runs) if r["status"] == "SUCCEEDED"]
    assert sorted(i for i in range(8) if any(s.endswith(f"Globex sync #{i}") for s in subjects)) == ran


def test_a_replay_is_refused_while_the_resumers_replay_of_the_call_still_runs(tmp_path: Path) -> None:
    """One call never runs twice at once: the DEFERRED outcome is older than the resumer's replay, so the
    replay's own execution status decides (Step Functions DescribeExecution: RUNNING)."""
    from callsync.services.replay import NothingToReplay, ReplayRunning
    from callsync_dev.replay_cli import replay_local

    # Given a call held by the budget, and a slow org (every Salesforce request takes 1.5 s)
    state = tmp_path / "state"
    assert [r["status"] for r in run([DEMO_EVENT], org=org_near_the_share(11_995), state=state).runs] == ["DEFERRED"]
    free_the_window(state, 3_000)
    org = json.loads((state / "org.json").read_text())
    (state / "org.json").write_text(json.dumps({**org, "latency_ms": 1_500}))
    with local_environment(state) as stack:
        claims = stack.table("ClaimsTable")
        reading = claims.get_item(Key={"pk": usage_key("acme")})["Item"]
        claims.put_item(Item={**reading, "read_at": reading["read_at"] - 1_200})

        def replay() -> Any:
            return replay_local(stack, CALL, "acme")

        # When the resumer's schedule fires (it starts a replay of the held call) and, while that replay
        # runs, an admin replays the call too
        (resumed,) = stack.function("ResumeDeferredFunction").invoke({"source": "aws.scheduler"})["orgs"]
        assert resumed["replayed"] == [CALL]
        # Then the admin's replay is refused, naming the running replay, and no second execution starts
        with pytest.raises(ReplayRunning, match=f"a replay is running: a replay of call {CALL} revision 1"):
            replay()
        # And once the resumer's replay has run the call, there is nothing left to replay
        assert _wait_for_replays(stack, 1) == {f"acme-{CALL}-1-replay1": "SUCCEEDED"}
        with pytest.raises(NothingToReplay):
            replay()
    assert len(events(json.loads((state / "org.json").read_text()))) == 1
