"""SalesforcePeopleWriter.create against duplicate rules as Salesforce applies them (emulator over HTTPS)."""

from __future__ import annotations

import pytest
from callsync.adapters.salesforce_people import SalesforcePeopleWriter
from callsync.domain.contact_plan import NewRecord
from callsync.models.match import Person

pytestmark = pytest.mark.integration

ORG = "acme"


def _org(action: str) -> dict:
    return {
        "duplicate_rules": [
            {"object": "Contact", "fields": ["Email"], "action": action},
            {"object": "Contact", "fields": ["LastName", "Title"], "action": action},  # a fuzzy rule
        ],
        "records": {"Contact": [{"Id": "jane", "LastName": "Doe", "Email": "jane@globex.com", "Title": "CFO"}]},
    }


def _contact(email: str, last_name: str, title: str) -> NewRecord:
    return NewRecord(
        person=Person(email=email), object="Contact", fields={"LastName": last_name, "Email": email, "Title": title}
    )


@pytest.mark.parametrize("action", ["alert", "block"])
def test_an_exact_duplicate_is_reused_though_collections_name_no_record(emulator_for, deps_for, action):
    # Given a duplicate rule on Email (collections errors carry no matching ids) and Jane in the org
    emu = emulator_for(_org(action))
    jane = emu.records("Contact")[0]["Id"]
    writer = SalesforcePeopleWriter(deps_for(emu).salesforce(ORG))
    # When Jane (same email) and a new person are created
    outcomes = writer.create([_contact("jane@globex.com", "Doe", "VP"), _contact("new@globex.com", "New", "CTO")])
    # Then Jane's record is found by email and reused, the other created, and no duplicate saved
    assert outcomes[0].duplicate_of == ("Contact", jane) and not outcomes[0].success
    assert outcomes[1].success and outcomes[1].id
    assert sorted(c["Email"] for c in emu.records("Contact")) == ["jane@globex.com", "new@globex.com"]


@pytest.mark.parametrize(("action", "saved"), [("alert", True), ("block", False)])
def test_a_fuzzy_duplicate_is_saved_only_when_the_rule_alerts(emulator_for, deps_for, action, saved):
    # Given a rule that matches another person (same LastName and Title, other email)
    emu = emulator_for(_org(action))
    api = deps_for(emu).salesforce(ORG)
    writer = SalesforcePeopleWriter(api)
    # When that person is created
    outcome = writer.create([_contact("john@globex.com", "Doe", "CFO")])[0]
    # Then an alert rule lets the second save (allowSave=true) through; a block rule refuses it again
    assert outcome.success is saved and outcome.duplicate_of is None
    if not saved:
        assert outcome.error_code == "DUPLICATES_DETECTED"
    assert ("john@globex.com" in [c["Email"] for c in emu.records("Contact")]) is saved
    # And it cost the collections request, the lookup by email and the second save
    assert api.api_requests == 3
