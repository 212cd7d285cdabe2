"""callsync doctor against the emulator: hidden fields, read-only objects, missing Shared Activities."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
from callsync.composition import build_dependencies
from callsync.config import Config
from callsync.domain.permissions import field_permission_fix, object_permission_fix, shared_activities_fix
from callsync.models.settings import OrgSettings
from callsync_dev import doctor_cli

from tests.support.stack import StartEmulator, WireDependencies

pytestmark = pytest.mark.integration

ORG: dict[str, Any] = {
    "shared_activities": True,
    "schema": {
        "Opportunity": {"fields": {"Pain__c": {"type": "textarea"}, "Secret__c": {"type": "string"}}},
    },
    "records": {"User": [{"Id": "alice", "LastName": "Rep", "Email": "alice@ourco.com", "IsActive": True}]},
}
SETTINGS: dict[str, Any] = {
    "org_id": "acme",
    "field_sync": {"enabled": True, "mappings": [{"insight": "pain", "object": "Opportunity", "field": "Pain__c"}]},
    "activity_sync": {"enabled": True, "mode": "smart"},
    "notes_sync": {"enabled": True},
    "contact_creation": {"enabled": True},
    "task_sync": {"enabled": True},
}


def files(tmp_path: pathlib.Path, org: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    (tmp_path / "org.json").write_text(json.dumps(org))
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    return ["--org", str(tmp_path / "org.json"), "--settings", str(tmp_path / "settings.json")]


def with_mapping(obj: str, field: str) -> dict[str, Any]:
    mappings = [*SETTINGS["field_sync"]["mappings"], {"insight": "x", "object": obj, "field": field}]
    return {**SETTINGS, "field_sync": {"enabled": True, "mappings": mappings}}


def test_an_org_that_allows_everything_passes(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an emulated org with every permission and every feature on
    # When doctor runs against it
    code = doctor_cli.main(files(tmp_path, ORG, SETTINGS))
    # Then every feature is ✓ and the exit code is 0
    out = capsys.readouterr().out
    assert code == 0, out
    assert "✗" not in out and "⚠" not in out
    for feature in ("core read", "field sync", "contact creation", "call activity", "notes", "task sync"):
        assert f"{feature} — ✓ works" in out
    assert "every enabled feature can work" in out


def test_a_hidden_mapped_field_degrades_field_sync_with_the_field_level_security_fix(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given Opportunity.Secret__c mapped but hidden from the integration user, next to a writable mapping
    org = {**ORG, "hidden_fields": ["Opportunity.Secret__c"]}
    # When doctor runs
    code = doctor_cli.main(files(tmp_path, org, with_mapping("Opportunity", "Secret__c")))
    # Then field sync is degraded (that mapping is skipped, Pain__c still syncs), not "cannot work"
    out = capsys.readouterr().out
    assert code == 0, out
    assert "field sync — ⚠ works, with limits (degraded)" in out and "cannot work" not in out
    assert "⚠ Opportunity.Secret__c" in out and "Its mapping is skipped; the others sync." in out
    assert f"Fix: {field_permission_fix('Opportunity', 'Secret__c')}" in out
    assert "Setup → Object Manager → Opportunity → Fields & Relationships → Secret__c → Set Field-Level Security" in out
    assert "every enabled feature can work; degraded: field sync" in out
    # And the other features still work
    assert "call activity — ✓ works" in out and "notes — ✓ works" in out


def test_field_sync_cannot_work_when_no_mapping_can_be_written(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the only mapped field hidden from the integration user
    org = {**ORG, "hidden_fields": ["Opportunity.Pain__c"]}
    # When doctor runs
    code = doctor_cli.main(files(tmp_path, org, SETTINGS))
    # Then field sync cannot work and the exit code says so
    out = capsys.readouterr().out
    assert code == 1 and "field sync — ✗ cannot work" in out and "✗ Opportunity.Pain__c" in out


def test_failures_only_shows_the_checks_that_did_not_pass(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given one hidden mapped field among working ones
    org = {**ORG, "hidden_fields": ["Opportunity.Secret__c"]}
    # When doctor runs with --failures (text, then JSON)
    code = doctor_cli.main([*files(tmp_path, org, with_mapping("Opportunity", "Secret__c")), "--failures"])
    out = capsys.readouterr().out
    # Then only field sync's failing check is listed, and the passing features are one line
    assert code == 0 and "⚠ Opportunity.Secret__c" in out, out
    assert "✓ Opportunity.Pain__c" not in out and "notes — " not in out
    assert "feature(s) pass every check:" in out and "notes" in out
    code = doctor_cli.main([*files(tmp_path, org, with_mapping("Opportunity", "Secret__c")), "--failures", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and [f["feature"] for f in report["features"]] == ["field sync"]
    assert [c["subject"] for c in report["features"][0]["checks"]] == ["Opportunity.Secret__c"]


def test_a_read_only_mapped_field_is_not_updateable(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given Account.Industry mapped, visible but read-only
    org = {**ORG, "read_only_fields": ["Account.Industry"]}
    # When doctor runs with --json
    code = doctor_cli.main([*files(tmp_path, org, with_mapping("Account", "Industry")), "--json"])
    # Then the JSON report degrades field sync on that field's updateability (Pain__c still syncs)
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["ok"] is True
    field_sync = next(f for f in report["features"] if f["feature"] == "field sync")
    assert field_sync["works"] is True and field_sync["degraded"] is True
    (failure,) = [c for c in field_sync["checks"] if not c["ok"]]
    assert failure["subject"] == "Account.Industry" and failure["need"] == "visible, updateable"
    assert "read-only" in failure["problem"] and failure["blocking"] is False
    assert failure["fix"] == field_permission_fix("Account", "Industry", "edit")


def test_read_only_notes_objects_fail_notes_only(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given ContentNote read-only and ContentDocumentLink invisible
    org = {**ORG, "object_permissions": {"ContentNote": "read", "ContentDocumentLink": "none"}}
    # When doctor runs with --json
    code = doctor_cli.main([*files(tmp_path, org, SETTINGS), "--json"])
    # Then notes cannot work, with permission-set fixes, and every other feature can
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    broken = {f["feature"]: f for f in report["features"] if not f["works"]}
    assert list(broken) == ["notes"]
    failures = {(c["subject"], c["need"]): c["fix"] for c in broken["notes"]["checks"] if not c["ok"]}
    assert failures == {
        ("ContentNote", "create"): object_permission_fix("ContentNote", "create"),
        ("ContentDocumentLink", "read"): object_permission_fix("ContentDocumentLink", "create"),
    }


def test_missing_shared_activities_is_a_warning_not_a_failure(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an org without Shared Activities, logging calls as Events
    org = {**ORG, "shared_activities": False}
    settings = {**SETTINGS, "activity_sync": {"enabled": True, "mode": "events"}}
    # When doctor runs
    code = doctor_cli.main(files(tmp_path, org, settings))
    # Then it passes, with a ⚠ that explains the limit and how to enable Shared Activities
    out = capsys.readouterr().out
    assert code == 0, out
    assert "shared activities — ⚠ works, with limits" in out
    assert "⚠ Shared Activities" in out and "only the primary contact" in out
    assert f"Fix: {shared_activities_fix()}" in out


def test_an_invalid_settings_file_names_the_field(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given settings with an unknown activity mode
    settings = {**SETTINGS, "activity_sync": {"enabled": True, "mode": "sometimes"}}
    # When doctor runs
    code = doctor_cli.main(files(tmp_path, ORG, settings))
    # Then it fails naming the field
    assert code == 1
    assert "activity_sync.mode" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    # Given neither an org id nor an org fixture / a fixture without settings
    # Then doctor refuses with exit code 2
    assert doctor_cli.main([]) == 2
    assert doctor_cli.main(["--org", "org.json"]) == 2
    assert "--settings" in capsys.readouterr().err


def test_a_connected_org_is_checked_with_its_stored_settings(
    emulator_for: StartEmulator, deps_for: WireDependencies, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a connected org (tokens and app secret in Secrets Manager) whose settings are in the table,
    # with Pain__c hidden
    emu = emulator_for({**ORG, "hidden_fields": ["Opportunity.Pain__c"]})
    conn = emu.connection
    deps = deps_for(emu)
    deps.settings.put(OrgSettings.model_validate(SETTINGS))
    # When doctor runs for the org id
    code = doctor_cli.main(["--org-id", "acme"], deps=deps)
    # Then it reads the describes (one composite when cold) and reports the hidden field
    out = capsys.readouterr().out
    assert code == 1
    assert conn["instance_url"] in out
    assert "✗ Opportunity.Pain__c" in out
    assert emu.api_requests == 1  # describes of the required objects with the global describe riding along


def test_an_org_without_settings_is_reported(aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an org id with no settings item
    deps = build_dependencies(Config(), boto_session=aws)
    # When doctor runs for it
    code = doctor_cli.main(["--org-id", "nobody"], deps=deps)
    # Then it fails saying so
    assert code == 1
    assert "no settings for org nobody" in capsys.readouterr().err
