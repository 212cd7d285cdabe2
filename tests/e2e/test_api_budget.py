"""The Salesforce API budget per call, counted by the emulator — counts, not times.

The steps run in the state machine's order with the template's functions and real
dependencies over moto (``bench.harness``); the cold case is also checked through
``callsync run``. Targets: typical warm ≤ 4, typical cold ≤ 10, large warm ≤ 6.
"""

from __future__ import annotations

import json

import pytest
from callsync_dev import runner

from bench.api_budget import TARGETS, Budget, measure_budget
from bench.fixtures import LARGE, TYPICAL, call_event, org_fixture, settings_fixture
from tests.support.chaos import CHAOS, NO_BUDGETS_UNDER_CHAOS

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(CHAOS, reason=NO_BUDGETS_UNDER_CHAOS)]


@pytest.fixture(scope="module")
def typical() -> Budget:
    return measure_budget(TYPICAL)


@pytest.fixture(scope="module")
def large() -> Budget:
    return measure_budget(LARGE)


def test_typical_call_warm_within_4_requests(typical):
    # Given a process that already synced a call of this org (describes cached, token cached)
    # When a typical call on another deal syncs
    # Then it costs at most 4 Salesforce API requests
    assert typical.warm.api_requests <= TARGETS[("typical", "warm")], typical.per_step("warm")


def test_typical_call_cold_within_10_requests(typical):
    # Given a fresh process (empty describe cache) / When a typical call syncs / Then at most 10 requests
    assert typical.cold.api_requests <= TARGETS[("typical", "cold")], typical.per_step("cold")


def test_cold_describes_cost_one_request_in_total(typical):
    # Given a fresh process / When a typical call syncs / Then the describes every step needs (the global
    # describe included) came in MatchOpportunity's one describe composite: the steps' cold costs one request
    # more than warm
    cold, warm = typical.per_step("cold"), typical.per_step("warm")
    for steps in (cold, warm):
        steps.pop("CheckApiBudget", None)  # the guard's usage reading: the next test
    assert sum(cold.values()) <= sum(warm.values()) + 1, typical.per_step("cold")


def test_the_budget_guard_reads_the_usage_once_on_a_fresh_org_and_not_per_call(typical):
    # Given a fresh org (no stored usage reading) / When two calls sync one after the other
    # Then the guard read the org's usage (GET limits/) for the first, and the second used the stored reading,
    # which the first call's own answers (Sforce-Limit-Info) refreshed
    assert typical.per_step("cold").get("CheckApiBudget") == 1
    assert typical.per_step("warm").get("CheckApiBudget", 0) == 0


def test_large_call_warm_within_6_requests(large):
    # Given a warm process / When a 40-participant, 20-field, 10-action-item call syncs / Then at most 6 requests
    assert large.warm.api_requests <= TARGETS[("large", "warm")], large.per_step("warm")


def test_typical_call_on_the_same_deal_again_within_4_requests(typical):
    # Given a warm process that synced a call on this deal a moment ago
    # When another typical call on the same deal syncs / Then it also costs at most 4 requests: its match
    # step read the records after that write, so SyncFields trusts the read-ahead
    assert typical.warm_same_deal.api_requests <= TARGETS[("typical", "warm")], typical.per_step("warm_same_deal")


def test_every_step_reports_the_requests_the_emulator_counted(typical, large):
    # Given the calls measured above / Then each step's StepReport.api_requests is what Salesforce would count
    assert typical.mismatches == [] and large.mismatches == []


def test_callsync_beats_the_naive_sync_by_far(typical, large):
    # Given the same org and calls synced the obvious way (one request per participant, field and record)
    # Then callsync spends under a third of the naive requests, and never fewer than the floor of 2
    for budget in (typical, large):
        assert budget.floor <= budget.warm.api_requests <= budget.naive / 3


def test_cold_call_through_callsync_run_within_10_requests(tmp_path):
    # Given one typical call in a fresh local stack (SQS, consumer, Step Functions, handlers, emulator)
    path = tmp_path / "call.json"
    path.write_text(json.dumps(call_event(TYPICAL, 0)), encoding="utf-8")
    # When callsync run syncs it
    result = runner.run([path], org=org_fixture(), settings=settings_fixture(TYPICAL))
    # Then it succeeds within the cold budget
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"]
    assert result.api_requests <= TARGETS[("typical", "cold")]
