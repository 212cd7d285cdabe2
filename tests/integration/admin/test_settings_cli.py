"""callsync settings show|set|import|export against the settings table (moto) and the local file mode."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
from callsync.adapters.dynamodb_settings import DynamoDbSettingsStore
from callsync_dev import settings_cli

pytestmark = pytest.mark.integration

SETTINGS: dict[str, Any] = {
    "org_id": "acme",
    "internal_domains": ["ourco.com"],
    "subject_prefix": "[Airspeed]",
    "field_sync": {
        "enabled": True,
        "mappings": [{"insight": "pain", "object": "Opportunity", "field": "Pain__c"}],
    },
    "activity_sync": {"enabled": True, "mode": "smart"},
    "notes_sync": {"enabled": True},
}


def write(tmp_path: pathlib.Path, name: str, value: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(value))
    return str(path)


def stored(aws: Any) -> DynamoDbSettingsStore:
    return DynamoDbSettingsStore(aws.resource("dynamodb").Table("callsync-settings"))


def test_import_set_show_export_round_trip(
    aws: Any, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given settings imported from a file into the table
    path = write(tmp_path, "in.json", SETTINGS)
    assert settings_cli.main(["import", "--org-id", "acme", path], boto_session=aws) == 0
    # When an admin changes two keys and appends a mapping
    code = settings_cli.main(
        [
            "set",
            "--org-id",
            "acme",
            "activity_sync.mode=events",
            "task_sync.enabled=true",
            'field_sync.mappings[1]={"insight": "budget", "object": "Opportunity", "field": "Amount"}',
        ],
        boto_session=aws,
    )
    assert code == 0
    # Then the table holds the change, and show/export print it
    settings = stored(aws).get("acme")
    assert settings.activity_sync.mode == "events" and settings.task_sync.enabled
    assert [m.field for m in settings.field_sync.mappings] == ["Pain__c", "Amount"]
    capsys.readouterr()
    assert settings_cli.main(["show", "--org-id", "acme"], boto_session=aws) == 0
    shown = json.loads(capsys.readouterr().out)
    out = tmp_path / "out.json"
    assert settings_cli.main(["export", "--org-id", "acme", "--out", str(out)], boto_session=aws) == 0
    exported = json.loads(out.read_text())
    assert shown == exported == settings.model_dump(mode="json")
    # And what was exported imports again unchanged
    assert settings_cli.main(["import", "--org-id", "acme", str(out)], boto_session=aws) == 0
    assert stored(aws).get("acme") == settings


@pytest.mark.parametrize(
    ("assignment", "named"),
    [
        ("activity_sync.mode=sometimes", "activity_sync.mode"),
        ("activty_sync.mode=events", "activty_sync"),
        ('field_sync.mappings[0]={"insight": "m", "object": "Deal_Review__c", "field": "Metrics__c"}', "via"),
        ('field_sync.mappings[0].polcy="overwrite"', "field_sync.mappings[0].polcy"),
        ("email_context.days=0", "email_context.days"),
    ],
)
def test_an_invalid_change_names_the_field_and_changes_nothing(
    aws: Any, capsys: pytest.CaptureFixture[str], assignment: str, named: str
) -> None:
    # Given valid settings in the table
    store = stored(aws)
    store.put(settings_cli.validated(SETTINGS, "acme"))
    before = store.get("acme")
    # When an admin sets an invalid value, or a misspelt key
    code = settings_cli.main(["set", "--org-id", "acme", assignment], boto_session=aws)
    # Then the command fails naming the field, and the stored settings are unchanged
    assert code == 1
    assert named in capsys.readouterr().err
    assert store.get("acme") == before


def test_import_refuses_another_orgs_settings(
    aws: Any, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a file with another org's settings
    path = write(tmp_path, "globex.json", {**SETTINGS, "org_id": "globex"})
    # When it is imported for acme
    code = settings_cli.main(["import", "--org-id", "acme", path], boto_session=aws)
    # Then it is refused
    assert code == 1 and "globex" in capsys.readouterr().err


def test_show_of_a_missing_org_and_of_an_invalid_item(aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # Given no item for nobody, and a hand-edited invalid item for acme
    stored(aws).put_raw("acme", {**SETTINGS, "activity_sync": {"mode": "sometimes"}})
    # When both are shown
    missing = settings_cli.main(["show", "--org-id", "nobody"], boto_session=aws)
    invalid = settings_cli.main(["show", "--org-id", "acme"], boto_session=aws)
    err = capsys.readouterr().err
    # Then both fail, saying why (the field for the invalid one)
    assert missing == 1 and "no settings for org nobody" in err
    assert invalid == 1 and "activity_sync.mode" in err
    # And --raw shows the stored item so it can be fixed
    assert settings_cli.main(["show", "--org-id", "acme", "--raw"], boto_session=aws) == 0
    assert json.loads(capsys.readouterr().out)["activity_sync"] == {"mode": "sometimes"}


def test_a_malformed_assignment_is_a_usage_error(aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an argument without '='
    # When set runs
    code = settings_cli.main(["set", "--org-id", "acme", "notes_sync.enabled"], boto_session=aws)
    # Then it exits 2
    assert code == 2 and "KEY=VALUE" in capsys.readouterr().err


def test_local_mode_keeps_the_table_between_runs(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a local state file and no AWS at all
    state = tmp_path / "state" / "settings.json"
    local = ["--local", str(state)]
    # When one run imports and another changes, a third shows
    assert settings_cli.main(["import", "--org-id", "acme", *local, write(tmp_path, "in.json", SETTINGS)]) == 0
    assert settings_cli.main(["set", "--org-id", "acme", *local, "autosync=false"]) == 0
    capsys.readouterr()
    assert settings_cli.main(["show", "--org-id", "acme", *local]) == 0
    # Then the last run sees both changes, and the file holds the item
    shown = json.loads(capsys.readouterr().out)
    assert shown["autosync"] is False and shown["subject_prefix"] == "[Airspeed]"
    assert json.loads(state.read_text())["acme"]["autosync"] is False


def test_set_prints_what_changed_not_the_whole_document(aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # Given valid settings in the table
    stored(aws).put(settings_cli.validated(SETTINGS, "acme"))
    capsys.readouterr()
    # When an admin changes the activity mode and turns task sync on
    code = settings_cli.main(
        ["set", "--org-id", "acme", "activity_sync.mode=events", "task_sync.enabled=true"], boto_session=aws
    )
    # Then the output lists exactly those two keys, old → new
    out = capsys.readouterr().out
    assert code == 0 and out.splitlines() == [
        "changed settings of org acme:",
        '  activity_sync.mode: "smart" → "events"',
        "  task_sync.enabled: false → true",
    ], out
    # When the same change is made again / Then nothing is listed
    settings_cli.main(["set", "--org-id", "acme", "activity_sync.mode=events"], boto_session=aws)
    assert capsys.readouterr().out == "settings of org acme unchanged\n"


def test_set_for_an_unknown_org_refuses_unless_create(aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # Given no settings for org "acmee" (a typo of acme)
    # When an admin sets a key for it
    code = settings_cli.main(["set", "--org-id", "acmee", "autosync=false"], boto_session=aws)
    # Then it is refused, pointing at --create, and nothing is stored
    assert code == 1 and "no settings for org acmee" in capsys.readouterr().err
    assert settings_cli.SettingsTable(aws.resource("dynamodb").Table("callsync-settings")).raw("acmee") is None
    # When it is meant: --create
    code = settings_cli.main(["set", "--org-id", "newco", "--create", "autosync=false"], boto_session=aws)
    # Then the settings are created from the defaults with that key
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("created settings of org newco") and "  autosync: " in out
    assert stored(aws).get("newco").autosync is False
