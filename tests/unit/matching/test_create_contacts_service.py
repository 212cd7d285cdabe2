"""CreateContacts service with a fake writer: what is created, reused, failed, claimed and requested."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from callsync.domain.contact_plan import NewRecord
from callsync.errors import ConcurrentUpdate, SalesforceRowLocked, SalesforceUnavailable
from callsync.models.match import AccountInfo, MatchResult, Person
from callsync.models.state import SyncState
from callsync.ports.people import SaveOutcome
from callsync.services.create_contacts import CREATE_CLAIM_SECONDS, CreateContacts, claim_key
from matching_builders import make_call, make_settings

from tests.support.fakes import FakeClaims, FakeLedger

GLOBEX = AccountInfo(id="001G", name="Globex", website="https://www.globex.com")


class FakePeopleWriter:
    """Creates records with sequential ids unless told to answer otherwise for an email."""

    def __init__(
        self,
        *,
        accounts: list[AccountInfo] | None = None,
        existing: dict[str, tuple[str, str]] | None = None,
        outcomes: dict[str, SaveOutcome] | None = None,
    ) -> None:
        self.accounts = accounts or []
        self.existing = existing or {}
        self.outcomes = outcomes or {}
        self.requests = 0
        self.created: list[dict[str, Any]] = []
        self.account_lookups: list[tuple[list[str], list[str]]] = []

    def find_accounts(self, domains: list[str], names: list[str]) -> list[AccountInfo]:
        self.requests += 1
        self.account_lookups.append((domains, names))
        return list(self.accounts)

    def find_people(self, emails: list[str]) -> dict[str, tuple[str, str]]:
        self.requests += 1
        return {e: self.existing[e] for e in emails if e in self.existing}

    def create(self, records: list[NewRecord]) -> list[SaveOutcome]:
        self.requests += 1
        answers = []
        for n, record in enumerate(records):
            email = record.person.email
            if email in self.outcomes:
                answers.append(self.outcomes[email])
                continue
            self.created.append(record.payload())
            answers.append(SaveOutcome(True, id=f"{'003' if record.object == 'Contact' else '00Q'}NEW{n}"))
        return answers


def make_state(unknown: list[Person], *, enabled: bool = True, call_id: str = "c1") -> SyncState:
    call = make_call([{"email": p.email, "name": p.name} for p in unknown], call_id=call_id)
    match = MatchResult(account=GLOBEX, accounts_seen=[GLOBEX], unknown=unknown, external=unknown)
    settings = make_settings(contact_creation={"enabled": enabled})
    return SyncState(call=call, settings=settings, match=match)


def service(
    writer: FakePeopleWriter, claims: FakeClaims | None = None, ledger: FakeLedger | None = None, **waiting: Any
):
    waiting.setdefault("wait_seconds", 0.0)
    return CreateContacts(
        writer, claims or FakeClaims(), ledger or FakeLedger(), api_requests=lambda: writer.requests, **waiting
    )


NEW = Person(email="new@globex.com", name="New Person")
SOLO = Person(email="solo@tinyco.io")


def test_contact_under_seen_account_and_lead_otherwise_in_one_request() -> None:
    # Given a Globex newcomer (Globex seen by Match) and a person of a company no Account matches
    writer = FakePeopleWriter()
    ledger = FakeLedger()
    # When the step runs
    result = service(writer, ledger=ledger).run(make_state([NEW, SOLO]))
    # Then one Account lookup (by the unseen domain), and one collections request creates a Contact under
    # Globex and a Lead
    assert writer.requests == 2 and writer.account_lookups == [(["tinyco.io"], [])]
    assert [(p.email, p.object, p.id, p.created, p.account_id) for p in result.created] == [
        ("new@globex.com", "Contact", "003NEW0", True, "001G"),
        ("solo@tinyco.io", "Lead", "00QNEW1", True, None),
    ]
    assert writer.created[1]["Company"] == "tinyco.io" and writer.created[1]["LastName"] == "solo"
    # And the ledger lists both with their fields and the request count
    [entry] = [e.as_json() for e in ledger.entries("acme#c1#1")]
    assert [c["action"] for c in entry["changes"]] == ["created", "created"]
    assert {"field": "AccountId", "before": None, "after": "001G", "policy": None, "note": None} in entry["changes"][0][
        "fields"
    ]
    assert entry["api_requests"] == 2


def test_a_personal_address_without_a_company_is_never_a_lead() -> None:
    # Given a gmail.com participant with no company (an older match payload still lists them as unknown)
    writer = FakePeopleWriter()
    # When the step runs
    result = service(writer).run(make_state([Person(email="pat@gmail.com")]))
    # Then nothing is created, no request is made, and the report says why
    assert writer.requests == 0 and result.created == []
    assert any("pat@gmail.com" in w for w in result.report.warnings)


def test_nothing_new_means_no_request() -> None:
    # Given no unknown participants
    writer = FakePeopleWriter()
    result = service(writer).run(make_state([]))
    # Then nothing is requested or created
    assert writer.requests == 0 and result.created == [] and result.report.api_requests == 0


def test_disabled_creates_nothing() -> None:
    # Given contact creation is off
    writer = FakePeopleWriter()
    result = service(writer).run(make_state([NEW], enabled=False))
    # Then nothing is created, no request, and the report says why
    assert writer.requests == 0 and result.created == [] and not result.enabled
    assert "contact creation is off" in result.report.warnings[0]


def test_account_lookup_only_for_an_unseen_company() -> None:
    # Given a person from Initech (not seen by Match), and the lookup finds Initech by website
    initech = AccountInfo(id="001I", name="Initech", website="http://initech.com/")
    writer = FakePeopleWriter(accounts=[initech])
    result = service(writer).run(make_state([Person(email="pat@initech.com", company="Initech")]))
    # Then one lookup query plus one create: a Contact under Initech
    assert writer.account_lookups == [(["initech.com"], ["Initech"])]
    assert writer.requests == 2
    assert result.created[0].object == "Contact" and result.created[0].account_id == "001I"


def test_duplicate_rule_reuses_the_existing_record() -> None:
    # Given Salesforce's duplicate rule names an existing Lead for the newcomer
    dup = SaveOutcome(
        False, error_code="DUPLICATES_DETECTED", message="Use one of these records?", duplicate_of=("Lead", "00QOLD")
    )
    writer = FakePeopleWriter(outcomes={"new@globex.com": dup})
    claims = FakeClaims()
    result = service(writer, claims).run(make_state([NEW]))
    # Then the existing record is reused, nothing fails, and the claim points at it
    assert result.created == [] and [(p.object, p.id) for p in result.reused] == [("Lead", "00QOLD")]
    assert result.report.changes[0].action == "reused"
    assert claims.get(claim_key("acme", "new@globex.com"))["value"] == "Lead:00QOLD"


def test_refused_record_is_reported_failed_and_the_call_goes_on() -> None:
    # Given a validation rule refuses the Lead
    refused = SaveOutcome(False, error_code="FIELD_CUSTOM_VALIDATION_EXCEPTION", message="Phone required")
    writer = FakePeopleWriter(outcomes={"solo@tinyco.io": refused})
    result = service(writer).run(make_state([NEW, SOLO]))
    # Then the Contact is created, the Lead is failed with Salesforce's message
    assert [p.email for p in result.created] == ["new@globex.com"]
    assert [p.email for p in result.failed] == ["solo@tinyco.io"]
    assert result.report.changes[1].action == "failed"
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION: Phone required" in result.report.changes[1].note


def test_concurrent_execution_reuses_the_record_created_by_the_first() -> None:
    # Given two calls (c1, c2) with the same new person, sharing the org's claims
    claims = FakeClaims()
    first, second = FakePeopleWriter(), FakePeopleWriter()
    service(first, claims).run(make_state([NEW], call_id="c1"))
    # When the second runs
    result = service(second, claims).run(make_state([NEW], call_id="c2"))
    # Then only one record was created; the second reuses it without any request
    assert len(first.created) == 1 and second.created == [] and second.requests == 0
    assert [(p.object, p.id) for p in result.reused] == [("Contact", "003NEW0")]


def test_concurrent_execution_still_creating_makes_the_step_retry() -> None:
    # Given another call claimed the person and has not finished creating it
    claims = FakeClaims()
    claims.take(claim_key("acme", "new@globex.com"), "acme#other#1", ttl_seconds=90)
    writer = FakePeopleWriter()
    # When this call runs and the claim stays unresolved for the whole wait
    # Then it raises a retryable error and creates nothing
    with pytest.raises(ConcurrentUpdate):
        service(writer, claims).run(make_state([NEW]))
    assert writer.created == []


def test_retried_step_finds_what_its_earlier_attempt_created() -> None:
    # Given an earlier attempt of this call claimed both people, created one, and died before resolving
    claims = FakeClaims()
    for p in (NEW, SOLO):
        claims.take(claim_key("acme", p.email), "acme#c1#1", ttl_seconds=90)
    writer = FakePeopleWriter(existing={"new@globex.com": ("Contact", "003EARLIER")})
    # When the step runs again
    result = service(writer, claims).run(make_state([NEW, SOLO]))
    # Then the earlier Contact is reused and only the other person is created
    assert [(p.email, p.id) for p in result.reused] == [("new@globex.com", "003EARLIER")]
    assert [p.email for p in result.created] == ["solo@tinyco.io"]


def test_retried_step_with_resolved_claims_makes_no_request() -> None:
    # Given the step already ran to completion once
    claims, ledger = FakeClaims(), FakeLedger()
    service(FakePeopleWriter(), claims, ledger).run(make_state([NEW]))
    writer = FakePeopleWriter()
    # When it runs again
    result = service(writer, claims, ledger).run(make_state([NEW]))
    # Then it reuses its own record without asking Salesforce
    assert writer.requests == 0 and [p.id for p in result.reused] == ["003NEW0"]


def test_row_lock_on_one_record_raises_after_keeping_the_others() -> None:
    # Given the Lead hits a row lock while the Contact is created
    locked = SaveOutcome(
        False,
        error_code="UNABLE_TO_LOCK_ROW",
        message="lock",
        retryable=True,
        error=SalesforceRowLocked("locked", code="UNABLE_TO_LOCK_ROW"),
    )
    claims, ledger = FakeClaims(), FakeLedger()
    writer = FakePeopleWriter(outcomes={"solo@tinyco.io": locked})
    # When the step runs / Then it raises the retryable error...
    with pytest.raises(SalesforceRowLocked):
        service(writer, claims, ledger).run(make_state([NEW, SOLO]))
    # ...having recorded the Contact it did create, so the retry reuses it
    assert claims.get(claim_key("acme", "new@globex.com"))["value"] == "Contact:003NEW0"
    assert ledger.entries("acme#c1#1")[0].as_json()["changes"][0]["action"] == "created"
    retry_writer = FakePeopleWriter()
    result = service(retry_writer, claims, ledger).run(make_state([NEW, SOLO]))
    assert [p.id for p in result.reused] == ["003NEW0"] and [p.email for p in result.created] == ["solo@tinyco.io"]


def test_a_refused_create_gives_the_claim_back_so_another_call_tries_for_itself() -> None:
    # Given a validation rule refuses the person's Contact in the first call
    refused = SaveOutcome(False, error_code="FIELD_CUSTOM_VALIDATION_EXCEPTION", message="Phone required")
    claims = FakeClaims()
    service(FakePeopleWriter(outcomes={"new@globex.com": refused}), claims).run(make_state([NEW], call_id="c1"))
    # When a second call with that person runs (and Salesforce now accepts it)
    writer = FakePeopleWriter()
    result = service(writer, claims).run(make_state([NEW], call_id="c2"))
    # Then the second call is not held up by the first one's failure: it creates the Contact itself
    assert [p.email for p in result.created] == ["new@globex.com"]
    assert claims.get(claim_key("acme", "new@globex.com"))["value"] == "Contact:003NEW0"


def test_an_outage_during_the_create_gives_every_unresolved_claim_back() -> None:
    # Given Salesforce fails the whole create request transiently
    class Down(FakePeopleWriter):
        def create(self, records: list[NewRecord]) -> list[SaveOutcome]:
            raise SalesforceUnavailable("503")

    claims = FakeClaims()
    # When the step runs / Then it raises for a retry and holds no claim any more
    with pytest.raises(SalesforceUnavailable):
        service(Down(), claims).run(make_state([NEW, SOLO]))
    assert claims.get(claim_key("acme", "new@globex.com")) is None
    assert claims.get(claim_key("acme", "solo@tinyco.io")) is None


def test_a_waiting_call_takes_over_a_claim_given_back_and_looks_the_person_up_first() -> None:
    # Given another call holds the person's claim, then gives it back (it failed) while this call waits;
    # the other call's Contact did land in Salesforce before its failure
    claims = FakeClaims()
    key = claim_key("acme", "new@globex.com")
    claims.take(key, "acme#other#1", ttl_seconds=90)
    writer = FakePeopleWriter(existing={"new@globex.com": ("Contact", "003LANDED")})

    def other_call_gives_up(_seconds: float) -> None:
        claims.release(key, "acme#other#1")

    # When this call runs (its pause between attempts is when the other call gives up)
    result = service(writer, claims, wait_seconds=5.0, sleep=other_call_gives_up).run(make_state([NEW]))
    # Then it took the claim over, found the landed Contact instead of creating a second one
    assert writer.created == [] and [(p.email, p.id) for p in result.reused] == [("new@globex.com", "003LANDED")]
    assert claims.get(key)["value"] == "Contact:003LANDED"


def test_a_claim_left_by_a_dead_holder_is_taken_over_after_it_expires() -> None:
    # Given a holder that died while creating the person (its claim never resolved nor given back)
    now = [1_000.0]
    claims = FakeClaims(clock=lambda: now[0])
    claims.take(claim_key("acme", "new@globex.com"), "acme#dead#1", ttl_seconds=CREATE_CLAIM_SECONDS)
    now[0] += CREATE_CLAIM_SECONDS + 1
    writer = FakePeopleWriter()
    # When another call runs after the claim's time ran out
    result = service(writer, claims).run(make_state([NEW], call_id="c2"))
    # Then it looks the person up first (the dead holder may have created it), then creates it
    assert writer.requests == 2 and [p.email for p in result.created] == ["new@globex.com"]


def at_read(state: SyncState, read_at: float) -> SyncState:
    """``state`` whose match step read (and did not find) its unknown people at ``read_at`` (epoch seconds)."""
    assert state.match is not None
    state.match.read_at = datetime.fromtimestamp(read_at, UTC)
    return state


def test_a_claim_resolved_before_the_match_read_names_a_deleted_record_and_the_person_is_created() -> None:
    # Given c1 created the person at t=1000 and its claim names that Contact for an hour
    now = [1000.0]
    claims = FakeClaims(clock=lambda: now[0])
    service(FakePeopleWriter(), claims).run(at_read(make_state([NEW], call_id="c1"), 999.0))
    # When c2's match step, ten minutes later, looked the email up and did not find it (the Contact was deleted)
    now[0] = 1600.0
    second = FakePeopleWriter()
    result = service(second, claims).run(at_read(make_state([NEW], call_id="c2"), 1599.0))
    # Then c2 creates the person again instead of reusing the deleted id, and the claim names the new record
    assert [(p.object, p.id) for p in result.created] == [("Contact", "003NEW0")] and result.reused == []
    assert len(second.created) == 1
    claim = claims.get(claim_key("acme", NEW.email))
    assert claim is not None and claim["owner"].endswith("#c2#1") and claim["value"] == "Contact:003NEW0"


def test_a_claim_resolved_after_the_match_read_is_a_concurrent_create_and_is_reused() -> None:
    # Given c1 and c2 both looked the new person up at t=1000 (not found), then c1 created it at t=1002
    now = [1002.0]
    claims = FakeClaims(clock=lambda: now[0])
    service(FakePeopleWriter(), claims).run(at_read(make_state([NEW], call_id="c1"), 1000.0))
    # When c2 reaches CreateContacts
    second = FakePeopleWriter()
    result = service(second, claims).run(at_read(make_state([NEW], call_id="c2"), 1000.0))
    # Then it reuses c1's record without any request: nothing is created twice
    assert second.created == [] and second.requests == 0
    assert [(p.object, p.id) for p in result.reused] == [("Contact", "003NEW0")]
