"""The account-link backfill service over fakes: batches, checkpoints, the API budget."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from callsync.domain.account_links import parse_lines
from callsync.models.backfill import AccountLink, BackfillStatus
from callsync.models.settings import OrgSettings
from callsync.services.account_link_backfill import AccountLinkBackfill, NoLinkField

from tests.support.fakes import FakeAccountLinkStore, FakeBackfillCheckpoints, FakeLeases

FIELD = "Callsync_Link__c"


def account_id(n: int) -> str:
    return f"001{n:012d}AAA"


def settings(**changes: object) -> OrgSettings:
    return OrgSettings.model_validate({"org_id": "acme", "account_link_field": FIELD, **changes})


def org(n: int) -> list[AccountLink]:
    return [AccountLink(id=account_id(i), website=f"https://www.company{i}.example") for i in range(n)]


def lines(n: int) -> list[str]:
    return [f'{{"domain": "company{i}.example", "url": "https://app.example/{i}"}}' for i in range(n)]


def test_a_file_is_written_in_batches_of_200_one_read_and_one_write_each() -> None:
    # Given 450 Accounts without a link and a line for each
    store, checkpoints = FakeAccountLinkStore(org(450)), FakeBackfillCheckpoints()
    # When the backfill runs
    summary = AccountLinkBackfill(store, checkpoints).run(settings(), parse_lines(lines(450)), "h1")
    # Then every Account is filled, in 3 batches of at most 200 (one read and one write each)
    assert summary.status is BackfillStatus.COMPLETED and summary.counts.filled == 450
    assert [len(f) for f in store.fills] == [200, 200, 50] and summary.api_requests == 6
    assert all(a.link for a in store.accounts.values())
    # And the checkpoint says the file is done
    assert checkpoints.get("acme", "h1").done  # type: ignore[union-attr]


def test_an_interrupted_run_resumes_after_its_last_written_batch() -> None:
    # Given a backfill whose second write Salesforce refuses with 503
    store, checkpoints = FakeAccountLinkStore(org(5)), FakeBackfillCheckpoints()
    store.fail_fill_after = 1
    entries = parse_lines(lines(5))
    first = AccountLinkBackfill(store, checkpoints, batch_size=2).run(settings(), entries, "h1")
    assert first.status is BackfillStatus.INTERRUPTED and first.next_line == 3, first
    assert "resume at line 3" in (first.reason or "")
    # When Salesforce answers again and the same file runs again
    store.fail_fill_after = None
    second = AccountLinkBackfill(store, checkpoints, batch_size=2).run(settings(), entries, "h1")
    # Then it starts at line 3 and the totals cover the whole file, nothing written twice
    assert second.status is BackfillStatus.COMPLETED and second.resumed_from_line == 3
    assert second.counts.filled == 5 and sum(len(f) for f in store.fills) == 5


def test_it_stops_before_going_over_the_api_budget_and_resumes_later() -> None:
    # Given an org that has used 70 of its 100 daily requests, and max_share 0.75 (75 allowed)
    store, checkpoints = FakeAccountLinkStore(org(6), used=70, allocation=100), FakeBackfillCheckpoints()
    entries = parse_lines(lines(6))
    # When the backfill runs in batches of 2 (2 requests each)
    first = AccountLinkBackfill(store, checkpoints, batch_size=2).run(
        settings(api_budget={"max_share": 0.75}), entries, "h1"
    )
    # Then it stops DEFERRED before the request that would pass 75, saying why and where it resumes
    assert first.status is BackfillStatus.DEFERRED and store.used <= 75, (first, store.used)
    assert "api_budget.max_share 0.75 allows 75" in (first.reason or "") and "resume at line" in (first.reason or "")
    # When the allocation has room again (a new day)
    store.used = 0
    second = AccountLinkBackfill(store, checkpoints, batch_size=2).run(
        settings(api_budget={"max_share": 0.75}), entries, "h1"
    )
    # Then the rest is filled
    assert second.status is BackfillStatus.COMPLETED and second.counts.filled == 6


def test_a_completed_file_is_not_run_again_unless_restarted() -> None:
    # Given a file backfilled once
    store, checkpoints = FakeAccountLinkStore(org(2)), FakeBackfillCheckpoints()
    entries = parse_lines(lines(2))
    AccountLinkBackfill(store, checkpoints).run(settings(), entries, "h1")
    requests = store.requests
    # When it runs again / Then nothing is read or written
    again = AccountLinkBackfill(store, checkpoints).run(settings(), entries, "h1")
    assert again.status is BackfillStatus.ALREADY_DONE and store.requests == requests
    # When it is restarted / Then every Account is found already set
    restarted = AccountLinkBackfill(store, checkpoints).run(settings(), entries, "h1", restart=True)
    assert restarted.status is BackfillStatus.COMPLETED and restarted.counts.already_set == 2


def test_invalid_and_failed_lines_are_listed_with_their_reason() -> None:
    # Given a file with an invalid line and an Account whose write Salesforce refuses
    store, checkpoints = FakeAccountLinkStore(org(2)), FakeBackfillCheckpoints()
    store.refuse[account_id(1)] = "FIELD_CUSTOM_VALIDATION_EXCEPTION: links are locked"
    entries = parse_lines([*lines(2), '{"domain": "x.example"}'])
    # When the backfill runs
    summary = AccountLinkBackfill(store, checkpoints).run(settings(), entries, "h1")
    # Then the counts and the problems say which line and why
    assert (summary.counts.filled, summary.counts.failed, summary.counts.invalid) == (1, 1, 1)
    assert [(p.line, p.status.value) for p in summary.problems] == [(2, "failed"), (3, "invalid")]


def test_without_a_link_field_there_is_nothing_to_fill() -> None:
    # Given settings without account_link_field / When the backfill runs / Then it refuses, naming the key
    with pytest.raises(NoLinkField, match="account_link_field"):
        AccountLinkBackfill(FakeAccountLinkStore([]), FakeBackfillCheckpoints()).run(
            settings(account_link_field=None), parse_lines(lines(1)), "h1"
        )


class CallWritingDuringTheRead(FakeAccountLinkStore):
    """A store where a call fills Account 1's link (under its lease) while the backfill's first read is answered."""

    def __init__(self, accounts: list[AccountLink], leases: FakeLeases, clock: list[float]) -> None:
        super().__init__(accounts)
        self.leases, self.clock = leases, clock

    def find(self, field: str, account_ids: Sequence[str], domains: Sequence[str]) -> list[AccountLink]:
        found = super().find(field, account_ids, domains)
        if self.requests == 1:  # the call's SyncFields: lease, write, give back (stamped)
            self.clock[0] += 1
            assert self.leases.acquire(f"acme#fields#{account_id(1)}", "call", ttl_seconds=90) is not None
            self.accounts[account_id(1)] = self.accounts[account_id(1)].model_copy(update={"link": "https://call"})
            self.leases.release(f"acme#fields#{account_id(1)}", "call", written=True)
            self.clock[0] += 1
        return found


def test_a_link_a_call_writes_after_the_read_is_kept() -> None:
    # Given a call that fills Account 1's link under its record lease just after the backfill read it empty
    clock = [1000.0]
    leases = FakeLeases(clock=lambda: clock[0])
    store = CallWritingDuringTheRead(org(3), leases, clock)
    service = AccountLinkBackfill(store, FakeBackfillCheckpoints(), leases=leases, clock=lambda: clock[0])
    # When the backfill writes its batch
    summary = service.run(settings(), parse_lines(lines(3)), "h1")
    # Then it read Account 1 again under the lease, kept the call's link, and filled the other two
    assert store.accounts[account_id(1)].link == "https://call"
    assert (summary.counts.filled, summary.counts.already_set) == (2, 1), summary
    assert store.fills == [{account_id(0): "https://app.example/0", account_id(2): "https://app.example/2"}]
    assert summary.api_requests == 3  # read, read again (the contended Account only), write
    # And every lease was given back, stamped where the backfill wrote
    assert all("owner" not in item for item in leases.items.values())


def test_without_a_competing_writer_nothing_is_read_twice() -> None:
    # Given leases nobody else holds
    store, leases = FakeAccountLinkStore(org(3)), FakeLeases()
    # When the backfill runs / Then one read and one write
    summary = AccountLinkBackfill(store, FakeBackfillCheckpoints(), leases=leases).run(
        settings(), parse_lines(lines(3)), "h1"
    )
    assert summary.counts.filled == 3 and summary.api_requests == 2
