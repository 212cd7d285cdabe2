"""The note of a call gets a missing ContentDocumentLink on its own when the call's revision runs again with
another Opportunity: ``callsync reassociate`` re-runs the revision, and LogActivity links the existing note to
the chosen record in its one write, after looking up the links Salesforce already holds (by the note's title, with
``LinkedEntityId = <id>``, the filter Salesforce accepts, docs/emulator.md). No link is duplicated."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from callsync_dev.cli import main
from callsync_dev.runner import DEMO_EVENT, run

from tests.e2e.test_reassociate_e2e import CALL, PILOT_2025_ID, ROLLOUT_ID, reassociate
from tests.support.demo import live_records, state_org

pytestmark = pytest.mark.e2e


def note_links(state: Path) -> Counter[str]:
    """How many links the call's one note has, per linked record."""
    org = state_org(state)
    (note,) = live_records(org, "ContentNote")
    links = live_records(org, "ContentDocumentLink")
    return Counter(r["LinkedEntityId"] for r in links if r["ContentDocumentId"] == note["Id"])


def test_moving_the_call_links_the_existing_note_once_per_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the demo call synced: its note is linked to the rollout Opportunity and the primary contact
    state = tmp_path / "state"
    assert [r["status"] for r in run([DEMO_EVENT], state=state).runs] == ["SUCCEEDED"]
    first = note_links(state)
    assert first[ROLLOUT_ID] == 1 and set(first.values()) == {1}

    # When the call is moved to the 2025 pilot (the same revision runs again and matches the pilot)
    code, out = reassociate(state, capsys, "--opportunity", PILOT_2025_ID)

    # Then the run succeeds; the one note is linked once to the pilot, no longer to the rollout, once to each
    # other record it was linked to
    assert code == 0 and out["ended"] == "SUCCEEDED", out
    moved = note_links(state)
    assert moved == Counter({**{k: v for k, v in first.items() if k != ROLLOUT_ID}, PILOT_2025_ID: 1})
    # And the link was written by LogActivity's run, not by the move itself (which only deleted the old one)
    links = [c for c in out["changes"] if c["object"] == "ContentDocumentLink"]
    assert [c["action"] for c in links] == ["reverted"]

    # When it is moved back to the rollout
    code, out = reassociate(state, capsys, "--opportunity", ROLLOUT_ID)

    # Then again exactly one link per record: the rollout's anew, the pilot's removed
    assert code == 0 and out["ended"] == "SUCCEEDED", out
    assert note_links(state) == first


def test_a_link_a_person_already_made_to_the_chosen_record_is_not_made_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the demo call synced, and a person then shared its note with the 2025 pilot by hand
    state = tmp_path / "state"
    assert [r["status"] for r in run([DEMO_EVENT], state=state).runs] == ["SUCCEEDED"]
    org = state_org(state)
    (note,) = live_records(org, "ContentNote")
    org["records"]["ContentDocumentLink"].append(
        {"Id": "06A5g0000000099", "ContentDocumentId": note["Id"], "LinkedEntityId": PILOT_2025_ID, "ShareType": "V"}
    )
    (state / "org.json").write_text(json.dumps(org))
    first = note_links(state)

    # When the call is moved to the pilot
    code, out = reassociate(state, capsys, "--opportunity", PILOT_2025_ID)

    # Then LogActivity's note lookup (by title, LinkedEntityId = the pilot) finds the person's link: the note
    # keeps exactly one link to the pilot (Salesforce would refuse a second one, DUPLICATE_VALUE) and none to
    # the rollout; nothing was refused
    assert code == 0 and out["ended"] == "SUCCEEDED", out
    assert note_links(state) == Counter({k: v for k, v in first.items() if k != ROLLOUT_ID})
    capsys.readouterr()
    assert main(["status", "--call", CALL, "--state", str(state), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"] == []
