"""Manual association through the real pipe: ``callsync reassociate`` (INTERFACES.md §4) moves a synced call to
another Opportunity and later revisions keep it; an event's ``crm_overrides`` (§1) wins over the automatic match
and is kept by later revisions; an override id that does not exist warns and falls back to the automatic match."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from callsync_dev.cli import main
from callsync_dev.runner import DEMO_EVENT, DEMO_ORG, DEMO_SETTINGS, run

from tests.support.demo import live_records, load, one_record, state_org, write_event

pytestmark = pytest.mark.e2e
CALL = "zoom-8841-2026-06-03"
ROLLOUT = "Globex - Sales call automation (120 seats)"
PILOT_2025 = "Globex - Pilot 2025"
PILOT_2025_ID = "0065g0000000001AAA"  # the emulator's id of the demo org's opp-globex-2025 (seeded first)
ROLLOUT_ID = "0065g0000000002AAA"
SUBJECT = "[callsync] Globex x Acme - rollout scoping"
PAIN = "Reps spend about 5 hours a week"


def is_pain_entry(value: str) -> bool:
    """The call's dated entry, ``[2026-06-03 #<call ref>] Reps spend ...`` (docs/field-sync.md)."""
    return value.startswith("[2026-06-03 #") and value.split("] ", 1)[1].startswith(PAIN)


ALICE = "0055g0000000001AAA"


def seeded_rollout() -> dict[str, Any]:
    org = json.loads(DEMO_ORG.read_text())
    return dict(next(r for r in org["records"]["Opportunity"] if r["Name"] == ROLLOUT))


def reassociate(state: Path, capsys: pytest.CaptureFixture[str], *target: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["reassociate", "--call", CALL, *target, "--state", str(state), "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def test_reassociate_moves_the_call_reverts_the_old_deal_applies_the_new_one_and_revision_2_keeps_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the demo call synced to the rollout Opportunity (its fields, Event, note, follow-ups)
    state = tmp_path / "state"
    assert [r["status"] for r in run([DEMO_EVENT], state=state).runs] == ["SUCCEEDED"]
    assert one_record(state_org(state), "Event", Subject=SUBJECT)["WhatId"] == ROLLOUT_ID

    # When a person moves it to the 2025 pilot Opportunity
    code, out = reassociate(state, capsys, "--opportunity", PILOT_2025_ID)

    # Then the call runs again to the end, and its activity, follow-ups and note now hang on the pilot
    assert code == 0 and out["ended"] == "SUCCEEDED" and out["execution_arn"].endswith("-move1"), out
    org = state_org(state)
    event = one_record(org, "Event", Subject=SUBJECT)
    assert event["WhatId"] == PILOT_2025_ID
    follow_ups = [t for t in live_records(org, "Task") if t["WhatId"] in (PILOT_2025_ID, ROLLOUT_ID)]
    assert len(follow_ups) == 2 and {t["WhatId"] for t in follow_ups} == {PILOT_2025_ID}
    (note,) = live_records(org, "ContentNote")
    linked = {
        link["LinkedEntityId"]
        for link in live_records(org, "ContentDocumentLink")
        if link["ContentDocumentId"] == note["Id"]
    }
    assert PILOT_2025_ID in linked and ROLLOUT_ID not in linked
    # And the rollout's fields are back to their seeded values, while the pilot got the call's fields
    rollout, pilot = one_record(org, "Opportunity", Name=ROLLOUT), one_record(org, "Opportunity", Name=PILOT_2025)
    seed = seeded_rollout()
    assert (rollout["Pain__c"], rollout["NextStep"], rollout["Competitors__c"]) == (
        seed["Pain__c"],
        seed["NextStep"],
        seed["Competitors__c"],
    )
    assert rollout["Metrics__c"] is None
    assert is_pain_entry(pilot["Pain__c"]) and pilot["Competitors__c"] == "Gong;Chorus"
    # And nothing was duplicated: one Event, one note, the same follow-ups
    assert len([e for e in live_records(org, "Event") if e["Subject"] == SUBJECT]) == 1

    # When revision 2 of the call arrives (no crm_overrides in it)
    revision2 = write_event(tmp_path, "revision2", revision=2, summary=load(DEMO_EVENT)["summary"] + " Revised.")
    result = run([revision2], state=state)

    # Then it keeps the chosen Opportunity
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"]
    org = state_org(state)
    assert one_record(org, "Event", Subject=SUBJECT)["WhatId"] == PILOT_2025_ID
    assert one_record(org, "Opportunity", Name=ROLLOUT)["Pain__c"] == seed["Pain__c"]
    match = next(e for e in result.ledger if e.get("step") == "MatchOpportunity" and e["call_key"].endswith("#2"))
    assert "chosen by hand (reassociate)" in match["changes"][0]["note"]


def test_a_field_a_person_changed_on_the_old_deal_is_kept_when_the_call_moves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the demo call synced, then a person rewrote the rollout's Next Step
    state = tmp_path / "state"
    assert [r["status"] for r in run([DEMO_EVENT], state=state).runs] == ["SUCCEEDED"]
    org = state_org(state)
    one_record(org, "Opportunity", Name=ROLLOUT).update(
        NextStep="Pilot kickoff on June 20", LastModifiedById=ALICE, LastModifiedDate="2026-06-10T09:00:00Z"
    )
    (state / "org.json").write_text(json.dumps(org))

    # When the call is moved to the pilot
    code, out = reassociate(state, capsys, "--opportunity", PILOT_2025_ID)

    # Then the move happens, the person's value stays (listed as kept, exit 1), callsync's other values go back
    assert code == 1 and out["ended"] == "SUCCEEDED", out
    kept = [c for c in out["changes"] if c["action"] == "kept"]
    assert [(c["object"], c["id"], c["note"]) for c in kept] == [
        ("Opportunity", ROLLOUT_ID, "NextStep: changed since callsync wrote it")
    ]
    rollout = one_record(state_org(state), "Opportunity", Name=ROLLOUT)
    assert rollout["NextStep"] == "Pilot kickoff on June 20" and rollout["Pain__c"] == seeded_rollout()["Pain__c"]
    assert one_record(state_org(state), "Event", Subject=SUBJECT)["WhatId"] == PILOT_2025_ID


def test_reassociate_to_a_record_that_does_not_exist_is_refused_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the demo call synced
    state = tmp_path / "state"
    assert [r["status"] for r in run([DEMO_EVENT], state=state).runs] == ["SUCCEEDED"]
    before = state_org(state)["records"]
    # When it is moved to an Opportunity id that does not exist, or given an Account id as an Opportunity
    capsys.readouterr()
    missing = main(["reassociate", "--call", CALL, "--opportunity", "0065g0000000099AAA", "--state", str(state)])
    err = capsys.readouterr().err
    wrong = main(["reassociate", "--call", CALL, "--opportunity", "0015g0000000001AAA", "--state", str(state)])
    # Then both are usage errors naming what is wrong, and Salesforce is untouched
    assert missing == 2 and "Opportunity 0065g0000000099AAA does not exist or is not visible" in err
    assert wrong == 2 and "is not a Salesforce Opportunity id" in capsys.readouterr().err
    assert state_org(state)["records"] == before


def test_crm_overrides_win_over_the_automatic_match_and_later_revisions_keep_them(tmp_path: Path) -> None:
    # Given an event whose upstream chose the 2025 pilot (the automatic match would be the rollout)
    state = tmp_path / "state"
    chosen = write_event(tmp_path, "chosen", crm_overrides={"opportunity_id": PILOT_2025_ID})
    # When it is synced
    first = run([chosen], state=state)
    # Then everything goes to the pilot, and the rollout is untouched
    assert [r["status"] for r in first.runs] == ["SUCCEEDED"]
    org = state_org(state)
    assert one_record(org, "Event", Subject=SUBJECT)["WhatId"] == PILOT_2025_ID
    assert is_pain_entry(one_record(org, "Opportunity", Name=PILOT_2025)["Pain__c"])
    assert one_record(org, "Opportunity", Name=ROLLOUT)["Pain__c"] == seeded_rollout()["Pain__c"]
    # When revision 2 arrives without crm_overrides
    revision2 = write_event(tmp_path, "revision2", revision=2)
    assert [r["status"] for r in run([revision2], state=state).runs] == ["SUCCEEDED"]
    # Then it keeps the upstream choice
    org = state_org(state)
    assert one_record(org, "Event", Subject=SUBJECT)["WhatId"] == PILOT_2025_ID
    assert one_record(org, "Opportunity", Name=ROLLOUT)["Pain__c"] == seeded_rollout()["Pain__c"]


def test_a_reassociation_is_kept_when_later_revisions_repeat_the_upstream_override(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an event whose upstream chose the rollout (crm_overrides), synced, then moved by a person to the pilot
    state = tmp_path / "state"
    chosen = write_event(tmp_path, "chosen", crm_overrides={"opportunity_id": ROLLOUT_ID})
    assert [r["status"] for r in run([chosen], state=state).runs] == ["SUCCEEDED"]
    code, _ = reassociate(state, capsys, "--opportunity", PILOT_2025_ID)
    assert code == 0
    # When revision 2 arrives repeating the same override (upstream apps resend what they hold)
    revision2 = write_event(tmp_path, "revision2", revision=2, crm_overrides={"opportunity_id": ROLLOUT_ID})
    assert [r["status"] for r in run([revision2], state=state).runs] == ["SUCCEEDED"]
    # Then the person's later choice stands: the activity stays on the pilot, the rollout keeps its seeded values
    org = state_org(state)
    assert one_record(org, "Event", Subject=SUBJECT)["WhatId"] == PILOT_2025_ID
    assert one_record(org, "Opportunity", Name=ROLLOUT)["Pain__c"] == seeded_rollout()["Pain__c"]


def test_an_override_id_that_does_not_exist_warns_and_the_automatic_match_stands(tmp_path: Path) -> None:
    # Given an event whose crm_overrides names an Opportunity id the org does not have
    event = write_event(tmp_path, "missing", crm_overrides={"opportunity_id": "0065g0000000099AAA"})
    # When it is synced
    result = run([event], state=tmp_path / "state")
    # Then the run succeeds on the automatic match and its warnings say why the override was not used
    (only,) = result.runs
    assert only["status"] == "SUCCEEDED"
    assert (
        "crm_overrides: Opportunity 0065g0000000099AAA does not exist or is not visible to the integration user; "
        "the call was matched automatically instead"
    ) in only["warnings"]
    assert one_record(result.org, "Event", Subject=SUBJECT)["WhatId"] == ROLLOUT_ID


def test_revert_after_a_move_undoes_the_call_on_both_deals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the demo call synced, then moved to the 2025 pilot
    state = tmp_path / "state"
    assert [r["status"] for r in run([DEMO_EVENT], state=state).runs] == ["SUCCEEDED"]
    code, _ = reassociate(state, capsys, "--opportunity", PILOT_2025_ID)
    assert code == 0
    # When the call is reverted
    capsys.readouterr()
    code = main(["revert", "--call", CALL, "--state", str(state), "--json"])
    out = json.loads(capsys.readouterr().out)
    # Then both deals are as seeded, and what the call created (its first run and the move) is gone
    assert code == 0 and out["status"] == "REVERTED", out
    org = state_org(state)
    pilot, rollout = one_record(org, "Opportunity", Name=PILOT_2025), one_record(org, "Opportunity", Name=ROLLOUT)
    assert (pilot["Pain__c"], pilot["NextStep"], pilot["Competitors__c"]) == (None, None, None)
    assert (rollout["Pain__c"], rollout["NextStep"]) == (seeded_rollout()["Pain__c"], seeded_rollout()["NextStep"])
    assert not [e for e in live_records(org, "Event") if e["Subject"] == SUBJECT]
    assert not live_records(org, "ContentNote") and not live_records(org, "ContentDocumentLink")
    assert not [t for t in live_records(org, "Task") if t["WhatId"] in (PILOT_2025_ID, ROLLOUT_ID)]
    assert "sam.lee@globex.com" not in {c["Email"] for c in live_records(org, "Contact")}


def test_reassociate_to_an_account_moves_the_call_off_the_deal_and_its_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the demo call synced to Globex's rollout (and Globex's link field filled from company.url)
    state = tmp_path / "state"
    assert [r["status"] for r in run([DEMO_EVENT], state=state).runs] == ["SUCCEEDED"]
    initech = one_record(state_org(state), "Account", Name="Initech")["Id"]
    # When a person says the call belongs to the Initech account
    code, out = reassociate(state, capsys, "--account", initech)
    # Then the activity and follow-ups hang on Initech, the rollout and Globex are back as they were,
    # and Initech got the account-level field (no Opportunity of Initech: none is matched)
    assert code == 0 and out["ended"] == "SUCCEEDED", out
    org = state_org(state)
    assert one_record(org, "Event", Subject=SUBJECT)["WhatId"] == initech
    assert {t["WhatId"] for t in live_records(org, "Task")} == {initech}
    assert one_record(org, "Account", Name="Globex")["Callsync_Link__c"] is None
    assert (
        one_record(org, "Account", Name="Initech")["Callsync_Link__c"]
        == "https://app.callsync.example/companies/globex"
    )
    rollout = one_record(org, "Opportunity", Name=ROLLOUT)
    assert (rollout["Pain__c"], rollout["NextStep"]) == (seeded_rollout()["Pain__c"], seeded_rollout()["NextStep"])


def test_reassociate_and_revert_are_refused_while_the_org_is_in_preview_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the demo call synced, then the org switched to preview mode (another call ran with those settings)
    state = tmp_path / "state"
    assert [r["status"] for r in run([DEMO_EVENT], state=state).runs] == ["SUCCEEDED"]
    settings = tmp_path / "preview.json"
    settings.write_text(json.dumps({**load(DEMO_SETTINGS), "preview": True}))
    other = write_event(tmp_path, "other", call_id="other-call")
    assert [r["status"] for r in run([other], settings=settings, state=state).runs] == ["PREVIEWED"]
    before = state_org(state)["records"]
    # When the first call is moved to another Opportunity, and when it is reverted
    capsys.readouterr()
    code = main(["reassociate", "--call", CALL, "--opportunity", PILOT_2025_ID, "--state", str(state), "--json"])
    out, err = capsys.readouterr()
    reverted = main(["revert", "--call", CALL, "--state", str(state), "--json"])
    revert_err = capsys.readouterr().err
    # Then both are refused as usage errors naming the setting, and Salesforce is untouched (no half move)
    assert (code, out) == (2, "")
    assert '"preview": true' in err and "reassociate refused" in err
    assert reverted == 2 and '"preview": true' in revert_err and "revert refused" in revert_err
    assert state_org(state)["records"] == before
