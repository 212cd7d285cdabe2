"""A backfill of Account links racing calls that fill the same links, through the real pipe.

Eight Accounts have no link yet. One call per Account (its Contact on the call) fills the Account's link
with the call's company URL; at the same moment ``callsync backfill account-links`` fills the same empty
links from a file, in small batches. Both fill only empty fields, under the same record leases
(docs/operations.md, "Backfill"). Whatever the order, every link ends filled once: by the call exactly when
the call's report says it updated the Account, else by the backfill, and never overwritten.
"""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from callsync.errors import RetryableError
from callsync.models.backfill import BackfillStatus, BackfillSummary
from callsync_dev.backfill_cli import read_companies
from callsync_dev.localstack import LocalStack
from callsync_dev.runner import DEMO_EVENT, DEMO_ORG, DEMO_SETTINGS, read_events, run

from tests.support.demo import live_records, state_org, write_event
from tests.support.races import inject_faults, while_delivering

pytestmark = pytest.mark.e2e

ORG_ID = "acme"
FIELD = "Callsync_Link__c"
COMPANIES = range(8)
ATTEMPTS = 10


def call_url(i: int) -> str:
    return f"https://app.callsync.example/companies/c{i}"


def file_url(i: int) -> str:
    return f"https://crm-import.example/c{i}"


def environment(tmp_path: Path) -> Path:
    """The demo call synced into a local environment whose org also holds the Accounts and their Contacts."""
    org = json.loads(DEMO_ORG.read_text())
    org["records"]["Account"] += [
        {"Id": f"acct-c{i}", "Name": f"Company {i}", "Website": f"https://www.company{i}.example/home"}
        for i in COMPANIES
    ]
    org["records"]["Contact"] += [
        {"Id": f"contact-c{i}", "FirstName": "Pat", "LastName": f"Buyer{i}", "Email": f"pat@company{i}.example",
         "AccountId": f"acct-c{i}"}
        for i in COMPANIES
    ]  # fmt: skip
    state = tmp_path / "state"
    assert [r["status"] for r in run([DEMO_EVENT], org=org, settings=str(DEMO_SETTINGS), state=state).runs] == [
        "SUCCEEDED"
    ]
    return state


def call_event(i: int) -> dict[str, Any]:
    """A call with Company i's Contact: it matches the Account and fills its link with the company URL."""
    event = json.loads(DEMO_EVENT.read_text())
    event.update(
        call_id=f"company-{i}-intro",
        title=f"Company {i} intro",
        participants=[event["participants"][0], {"email": f"pat@company{i}.example", "name": f"Pat Buyer{i}"}],
        company={"name": f"Company {i}", "domain": f"company{i}.example", "url": call_url(i)},
        action_items=[],
    )
    return dict(event)


def calls_under_way(stack: LocalStack, timeout: float = 120.0) -> None:
    """Wait until a call of the batch has recorded its match: the calls' field writes are about to start."""
    ledger = stack.table("LedgerTable")
    deadline = time.monotonic() + timeout
    while not any(
        str(item["call_key"]).startswith(f"{ORG_ID}#company-") and str(item["sk"]).endswith("#step#MatchOpportunity")
        for item in ledger.scan().get("Items", [])
    ):
        if time.monotonic() > deadline:
            raise TimeoutError("no call of the batch recorded its match")
        time.sleep(0.02)


def backfill_until_settled(stack: LocalStack, file: Path, out: list[BackfillSummary]) -> None:
    """An operator's backfill in batches of one line, started once the calls are under way and run again
    (it resumes after its last saved batch) while Salesforce interrupts it."""
    calls_under_way(stack)
    deps = stack.function("SyncFieldsFunction").dependencies()
    entries, file_hash = read_companies(str(file))
    for _ in range(ATTEMPTS):
        try:
            with deps.salesforce_bound(ORG_ID):
                summary = deps.account_link_backfill_service(ORG_ID, batch_size=1).run(
                    deps.settings.get(ORG_ID), entries, file_hash
                )
        except RetryableError:
            continue
        out.append(summary)
        if summary.status is BackfillStatus.COMPLETED:
            return


@pytest.mark.parametrize("faults", [False, True], ids=["quiet", "row-locks-and-outages"])
def test_a_backfill_racing_calls_fills_every_link_once_and_overwrites_none(tmp_path: Path, faults: bool) -> None:
    # Given eight Accounts without a link, a file naming each by domain, and one call per Account
    # (and, in one variant, Salesforce refusing writes for a while from now on)
    state = environment(tmp_path)
    if faults:
        inject_faults(state)
    lines = [{"domain": f"company{i}.example", "url": file_url(i)} for i in COMPANIES]
    file = tmp_path / "companies.jsonl"
    file.write_text("".join(json.dumps(line) + "\n" for line in lines))
    calls = read_events([write_event(tmp_path, f"c{i}", call_event(i)) for i in COMPANIES])
    summaries: list[BackfillSummary] = []
    # When the backfill runs while the calls are delivered together
    delivered = while_delivering(state, calls, [partial(backfill_until_settled, file=file, out=summaries)])
    # Then every call succeeded and the backfill completed, every line settled
    assert [r["status"] for r in delivered.runs] == ["SUCCEEDED"] * len(COMPANIES), delivered.runs
    final = summaries[-1]
    assert final.status is BackfillStatus.COMPLETED, summaries
    assert final.counts.filled + final.counts.already_set == len(COMPANIES), final
    # And each link is filled once: the call's URL exactly where the call reports it updated the Account,
    # else the file's; nothing either wrote was overwritten by the other
    accounts = {a["Name"]: a for a in live_records(state_org(state), "Account")}
    updated_by_call = {
        change["id"]
        for entry in delivered.ledger
        if entry.get("step") == "SyncFields"
        for change in entry.get("changes", [])
        if change.get("object") == "Account" and change.get("action") == "updated"
    }
    for i in COMPANIES:
        account = accounts[f"Company {i}"]
        expected = call_url(i) if account["Id"] in updated_by_call else file_url(i)
        assert account.get(FIELD) == expected, (i, account.get(FIELD), account["Id"] in updated_by_call)
    # And the backfill counted as filled exactly the links that hold the file's URL
    assert final.counts.filled == sum(1 for i in COMPANIES if accounts[f"Company {i}"].get(FIELD) == file_url(i))
