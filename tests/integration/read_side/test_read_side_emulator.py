"""End to end: the read-side handlers in-process, moto AWS (tables, secrets, bus → queue), the emulator over HTTPS.

Fixture: read_side_org.json (the demo org plus EmailMessages, logged calls, a loss reason field, a hidden field
and a recently closed Opportunity); settings: read_side_settings.json.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from callsync.adapters.salesforce_context import SalesforceClosedDealReader
from callsync.domain.closed_deals import Window
from callsync.ports.closed_deals import ChangeQuery
from callsync_dev.emulator.testing import salesforce_client
from callsync_dev.read_side_cli import LocalReadSide, local_read_side, register_cli

pytestmark = pytest.mark.integration
HERE = Path(__file__).parent
ORG_FIXTURE: dict[str, Any] = json.loads((HERE / "read_side_org.json").read_text())
SETTINGS: dict[str, Any] = json.loads((HERE / "read_side_settings.json").read_text())
AT = "2026-11-25T15:00:00Z"


@pytest.fixture
def stack() -> Iterator[Callable[..., LocalReadSide]]:
    opened: list[Any] = []

    def start(org: dict[str, Any] | None = None, settings: dict[str, Any] | None = None) -> LocalReadSide:
        manager = local_read_side(org or ORG_FIXTURE, [settings or SETTINGS])
        opened.append(manager)
        return manager.__enter__()

    yield start
    for manager in reversed(opened):
        manager.__exit__(None, None, None)


def ids_by_name(side: LocalReadSide, obj: str, key: str = "Name") -> dict[str, str]:
    return {r[key]: r["Id"] for r in side.emulator.records(obj)}


def context_event(*emails: str, **extra: Any) -> dict[str, Any]:
    return {"org_id": "acme", "participants": [{"email": e} for e in emails], "at": AT, **extra}


# ---- deal context ----------------------------------------------------------------------------------


def test_context_matches_reads_prep_fields_and_emails_in_two_composites_when_warm(stack):
    # Given the org and a meeting with Jane, Raj and an internal rep
    side = stack()
    event = context_event("jane.doe@globex.com", "raj.patel@globex.com", "alice@acme.io")
    # When the context is asked twice (cold, then warm describes)
    cold = side.invoke("crm_context", event)
    before = side.emulator.api_requests
    warm = side.invoke("crm_context", event)
    # Then the warm call cost two requests (six queries: ≤5 per composite), counted the same on both sides
    assert cold["api_requests"] == 3
    assert warm["api_requests"] == 2 and side.emulator.api_requests - before == 2
    # And the rules chose the open rollout through Jane's primary role
    opps = ids_by_name(side, "Opportunity")
    assert warm["opportunity"]["id"] == opps["Globex - Sales call automation (120 seats)"]
    assert warm["match"]["link"] == "primary" and warm["account"]["name"] == "Globex"
    assert sorted(c["email"] for c in warm["contacts"]) == ["jane.doe@globex.com", "raj.patel@globex.com"]
    # And the prep fields carry labels and values; the hidden one is absent with a warning
    fields = {f["path"]: (f["label"], f["value"]) for f in warm["fields"]}
    assert fields == {"Opportunity.StageName": ("Stage", "Qualification"), "Opportunity.Amount": ("Amount", 86400),
                      "Opportunity.NextStep": ("Next Step", "Discovery call with RevOps"),
                      "Account.Industry": ("Industry", "Manufacturing"),
                      "Account.AnnualRevenue": ("Annual Revenue", 250000000)}  # fmt: skip
    assert {c["email"]: [f["value"] for f in c["fields"]] for c in warm["contacts"]}["jane.doe@globex.com"] == [
        "VP Sales Operations"
    ]
    assert any("Secret_Score__c" in w and "Field-Level Security" in w for w in warm["warnings"])
    # And the emails are the rollout's, Globex's and Raj's (through EmailMessageRelation) from the last 90 days,
    # newest first
    assert [(e["subject"], e["related_to"]) for e in warm["emails"]] == [
        ("Re: Pilot pricing for 120 seats", "opportunity"),
        ("Pilot pricing for 120 seats", "opportunity"),
        ("SSO questions", "contact"),
        ("Globex renewal terms", "account"),
    ]
    assert warm["emails"][1]["incoming"] is True and warm["emails"][0]["cc_address"] == "raj.patel@globex.com"


def test_context_trims_bodies_and_bounds_the_count(stack):
    settings = copy.deepcopy(SETTINGS)
    settings["email_context"] = {"enabled": True, "days": 30, "max": 2}
    side = stack(settings=settings)
    result = side.invoke("crm_context", context_event("jane.doe@globex.com", body_chars=40))
    assert len(result["emails"]) == 2
    long_one = next(e for e in result["emails"] if e["subject"] == "Pilot pricing for 120 seats")
    assert long_one["truncated"] and len(long_one["text_body"]) == 40 and long_one["text_body"].endswith("…")


def test_context_without_email_permission_still_answers_with_a_warning(stack):
    org = copy.deepcopy(ORG_FIXTURE)
    org["object_permissions"] = {"EmailMessage": "none"}
    side = stack(org=org)
    result = side.invoke("crm_context", context_event("jane.doe@globex.com"))
    assert result["emails"] == [] and result["opportunity"] is not None
    assert any("EmailMessage is not readable" in w for w in result["warnings"])


def test_context_without_email_message_relation_keeps_one_composite_and_leaves_contact_emails_out(stack):
    org = copy.deepcopy(ORG_FIXTURE)
    org["object_permissions"] = {"EmailMessageRelation": "none"}
    side = stack(org=org)
    result = side.invoke("crm_context", context_event("jane.doe@globex.com", "raj.patel@globex.com"))
    assert result["api_requests"] == 2  # cold describes + one composite of five queries
    assert [e["related_to"] for e in result["emails"]] == ["opportunity", "opportunity", "account"]
    assert any("EmailMessageRelation is not readable" in w for w in result["warnings"])


def test_context_for_a_given_opportunity(stack):
    side = stack()
    pilot = ids_by_name(side, "Opportunity")["Globex - Pilot 2025"]
    result = side.invoke("crm_context", context_event("jane.doe@globex.com", opportunity_id=pilot))
    assert result["opportunity"]["id"] == pilot and result["match"]["how"] == "given"
    assert [e["subject"] for e in result["emails"] if e["related_to"] == "opportunity"] == ["Pilot 2025 wrap-up"]
    assert result["api_requests"] == 3  # cold describes + the two composites


def test_context_command_prints_the_json(capsys, tmp_path):
    import argparse

    (tmp_path / "org.json").write_text(json.dumps(ORG_FIXTURE))
    (tmp_path / "settings.json").write_text(json.dumps(SETTINGS))
    parser = argparse.ArgumentParser()
    register_cli(parser.add_subparsers())
    args = parser.parse_args(
        [
            "context",
            "--org",
            str(tmp_path / "org.json"),
            "--settings",
            str(tmp_path / "settings.json"),
            "--email",
            "jane.doe@globex.com",
            "--at",
            AT,
        ]
    )
    assert args.handler(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["opportunity"]["name"] == "Globex - Sales call automation (120 seats)"


# ---- closed deals ----------------------------------------------------------------------------------


def cycle(side: LocalReadSide) -> dict[str, Any]:
    time.sleep(1.05)  # windows end on whole seconds: let the emulator's stamps fall inside
    return side.invoke("watch_closed_deals", {"version": "0", "detail-type": "Scheduled Event",
                                              "source": "aws.events", "detail": {}})["orgs"][0]  # fmt: skip


def test_closed_deals_publish_once_per_close_and_again_after_a_reopen(stack):
    # Given an org with a deal closed today (and one closed a year ago)
    side = stack()
    initech = ids_by_name(side, "Opportunity")["Initech - Team plan"]
    # When the first cycle runs
    first = cycle(side)
    delivered = side.bus_events()
    # Then one deal.closed reached the bus with the loss reason and the call callsync logged on it
    assert first["status"] == "OK" and len(delivered) == 1
    detail = delivered[0]["detail"]
    assert (detail["opportunity"]["id"], detail["is_won"], detail["generation"]) == (initech, False, 1)
    assert (detail["loss_reason_field"], detail["loss_reason"]) == ("Loss_Reason__c", "Competitor")
    assert detail["call_ids"] == ["c-2001"] and detail["account"]["name"] == "Initech"
    assert detail["amount"] == 18000.0 and detail["close_date"] == "2026-11-24"
    # When cycles run again (a retry, the next schedule over the overlap)
    again = cycle(side)
    assert side.bus_events() == [] and again["api_requests"] == 1  # warm: one query, nothing to enrich
    # When the deal is reopened, a cycle sees it, and it is closed again as won
    sf = salesforce_client(side.emulator.connection)
    sf.Opportunity.update(initech, {"StageName": "Negotiation/Review"})
    reopened = cycle(side)
    sf.Opportunity.update(initech, {"StageName": "Closed Won"})
    closed_again = cycle(side)
    # Then exactly one more event, generation 2, won
    assert reopened["reopened"] == 1
    [second] = side.bus_events()
    assert (second["detail"]["generation"], second["detail"]["is_won"]) == (2, True)
    assert second["detail"]["close_id"] == f"acme#{initech}#2" and closed_again["api_requests"] == 2


def test_an_edit_after_the_close_publishes_nothing(stack):
    side = stack()
    initech = ids_by_name(side, "Opportunity")["Initech - Team plan"]
    cycle(side)
    side.bus_events()
    salesforce_client(side.emulator.connection).Opportunity.update(initech, {"NextStep": "Post-mortem"})
    assert cycle(side)["duplicates"] == 1 and side.bus_events() == []


def with_closed_deals(count: int) -> dict[str, Any]:
    """The fixture org plus ``count`` deals closed won on 2026-11-24."""
    org = copy.deepcopy(ORG_FIXTURE)
    org["records"]["Opportunity"] += [
        {"Name": f"Bulk {i}", "AccountId": "acct-initech", "StageName": "Closed Won", "CloseDate": "2026-11-24"}
        for i in range(count)
    ]
    return org


def test_thousands_of_closes_are_read_page_by_page(stack):
    # Given 2,100 deals closed today besides the fixture's (two query pages of 2,000)
    side = stack(org=with_closed_deals(2_100))
    api = side.dependencies().salesforce("acme")
    now = datetime.now(UTC) + timedelta(seconds=1)
    window = Window(start=now - timedelta(days=7), end=now, first_run=True)
    # When the window is read
    rows = SalesforceClosedDealReader(api).changes(ChangeQuery(window=window, only_closed=True))
    # Then every close comes back, oldest first, in one request per page
    assert len(rows) == 2_101 and api.api_requests == 2
    stamps = [r.system_modstamp for r in rows]
    assert stamps == sorted(stamps) and len({r.id for r in rows}) == 2_101


def test_many_closes_in_one_cycle_are_published_once_each(stack):
    # Given 25 deals closed today besides the fixture's (3 PutEvents batches)
    side = stack(org=with_closed_deals(25))
    result = cycle(side)
    assert len(result["published"]) == 26 and result["api_requests"] == 3  # describes, window, logged calls
    events = side.bus_events()
    assert len(events) == 26 and len({e["detail"]["close_id"] for e in events}) == 26
    assert cycle(side)["published"] == [] and side.bus_events() == []
