"""Combobox fields through `callsync run`: a combobox takes any text besides its suggested values ("Comboboxes,
which provide a set of enumerated values and allow the user to specify a value not in the list", Apex Reference,
"DisplayType Enum",
https://developer.salesforce.com/docs/platform/apex-ref/references/apex-ref/apex-enum-schema-displaytype.html;
the emulator's combobox rule is listed in docs/emulator.md). callsync writes one value to it: filled when empty,
kept by default when it has a value, replaced under ``overwrite``."""

from __future__ import annotations

from typing import Any

import pytest
from callsync_dev.runner import DEMO_EVENT, DEMO_ORG, DEMO_SETTINGS, run

from tests.support.demo import load, records, write_event

pytestmark = pytest.mark.e2e

OPP_NAME = "Globex - Sales call automation (120 seats)"
SUGGESTED = ["Gong", "Chorus", "Clari"]


def org_with_comboboxes() -> dict[str, Any]:
    """The demo org with three combobox fields on Opportunity; the rollout already holds two of them."""
    org = load(DEMO_ORG)
    fields = org["schema"]["Opportunity"]["fields"]
    for name in ("Rival__c", "Incumbent__c", "Shortlist_Leader__c"):
        fields[name] = {"type": "combobox", "length": 40, "values": SUGGESTED}
    rollout = next(r for r in org["records"]["Opportunity"] if r["Name"] == OPP_NAME)
    rollout.update(Incumbent__c="Gong", Shortlist_Leader__c="Clari")
    return org


def settings_with_comboboxes() -> dict[str, Any]:
    body = load(DEMO_SETTINGS)
    body["field_sync"]["mappings"] += [
        {"insight": "rival", "object": "Opportunity", "field": "Rival__c"},
        {"insight": "rival", "object": "Opportunity", "field": "Incumbent__c"},
        {"insight": "rival", "object": "Opportunity", "field": "Shortlist_Leader__c", "policy": "overwrite"},
    ]
    return body


def test_an_insight_lands_in_combobox_fields_as_one_value(tmp_path):
    # Given a call naming a rival that is not among the comboboxes' suggested values, on two lines
    event = load(DEMO_EVENT)
    event["insights"] = {**event["insights"], "rival": "Outreach\n(enterprise tier)"}
    path = write_event(tmp_path, "call", event)

    # When `callsync run` processes it
    result = run([path], org=org_with_comboboxes(), settings=settings_with_comboboxes())

    # Then the call succeeds: the empty combobox is filled with the value as one line (no dated entry),
    # the one that had a value keeps it (default policy), and the overwrite mapping replaces its value
    assert [r["status"] for r in result.runs] == ["SUCCEEDED"]
    opp = next(r for r in records(result, "Opportunity") if r["Name"] == OPP_NAME)
    assert opp["Rival__c"] == "Outreach (enterprise tier)"
    assert opp["Incumbent__c"] == "Gong"
    assert opp["Shortlist_Leader__c"] == "Outreach (enterprise tier)"
    # And the ledger names each field's rule; nothing was dropped as unwritable
    (entry,) = [e for e in result.ledger if e.get("sk") == "step#SyncFields"]
    changes = {f["field"]: f for c in entry["changes"] for f in c["fields"]}
    assert {n: changes[n]["policy"] for n in ("Rival__c", "Incumbent__c", "Shortlist_Leader__c")} == {
        "Rival__c": "fill",
        "Incumbent__c": "keep",
        "Shortlist_Leader__c": "overwrite",
    }
    assert not any("cannot be written" in str(f.get("note")) for f in changes.values())
