"""CreateContacts service with a fake writer: what is created, reused, failed, claimed and requested."""

from __future__ import annotations

from typing import Any

import pytest
from callsync.domain.contact_plan import NewRecord
from callsync.errors import ConcurrentUpdate, SalesforceRowLocked
from callsync.models.match import AccountInfo, MatchResult, Person
from callsync.models.state import SyncState
from callsync.services.create_contacts import CreateContacts, SaveOutcome, claim_key
from callsync.testing import FakeClaims, FakeLedger
from matching_builders import make_call, make_settings

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


def service(writer: FakePeopleWriter, claims: FakeClaims | None = None, ledger: FakeLedger | None = None):
    return CreateContacts(writer, claims or FakeClaims(), ledger or FakeLedger(), api_requests=lambda: writer.requests)


NEW = Person(email="new@globex.com", name="New Person")
SOLO = Person(email="solo@gmail.com")


def test_contact_under_seen_account_and_lead_otherwise_in_one_request() -> None:
    # Given a Globex newcomer (Globex seen by Match) and a gmail person with no company
    writer = FakePeopleWriter()
    ledger = FakeLedger()
    # When the step runs
    result = service(writer, ledger=ledger).run(make_state([NEW, SOLO]))
    # Then one collections request creates a Contact under Globex and a Lead, and no Account lookup is made...
    # ...because the gmail person cannot match by domain and has no company: a lookup by nothing is skipped
    assert writer.requests == 1 and writer.account_lookups == []
    assert [(p.email, p.object, p.id, p.created, p.account_id) for p in result.created] == [
        ("new@globex.com", "Contact", "003NEW0", True, "001G"),
        ("solo@gmail.com", "Lead", "00QNEW1", True, None),
    ]
    assert writer.created[1]["Company"] == "gmail.com" and writer.created[1]["LastName"] == "solo"
    # And the ledger lists both with their fields and the request count
    [entry] = ledger.entries("acme#c1#1")
    assert [c["action"] for c in entry["changes"]] == ["created", "created"]
    assert {"field": "AccountId", "before": None, "after": "001G", "policy": None, "note": None} in entry["changes"][0][
        "fields"
    ]
    assert entry["api_requests"] == 1


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
    writer = FakePeopleWriter(outcomes={"solo@gmail.com": refused})
    result = service(writer).run(make_state([NEW, SOLO]))
    # Then the Contact is created, the Lead is failed with Salesforce's message
    assert [p.email for p in result.created] == ["new@globex.com"]
    assert [p.email for p in result.failed] == ["solo@gmail.com"]
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
    claims.claim(claim_key("acme", "new@globex.com"), "acme#other#1")
    writer = FakePeopleWriter()
    # When this call runs / Then it raises a retryable error and creates nothing
    with pytest.raises(ConcurrentUpdate):
        service(writer, claims).run(make_state([NEW]))
    assert writer.created == []


def test_retried_step_finds_what_its_earlier_attempt_created() -> None:
    # Given an earlier attempt of this call claimed both people, created one, and died before resolving
    claims = FakeClaims()
    for p in (NEW, SOLO):
        claims.claim(claim_key("acme", p.email), "acme#c1#1")
    writer = FakePeopleWriter(existing={"new@globex.com": ("Contact", "003EARLIER")})
    # When the step runs again
    result = service(writer, claims).run(make_state([NEW, SOLO]))
    # Then the earlier Contact is reused and only the other person is created
    assert [(p.email, p.id) for p in result.reused] == [("new@globex.com", "003EARLIER")]
    assert [p.email for p in result.created] == ["solo@gmail.com"]


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
    writer = FakePeopleWriter(outcomes={"solo@gmail.com": locked})
    # When the step runs / Then it raises the retryable error...
    with pytest.raises(SalesforceRowLocked):
        service(writer, claims, ledger).run(make_state([NEW, SOLO]))
    # ...having recorded the Contact it did create, so the retry reuses it
    assert claims.get(claim_key("acme", "new@globex.com"))["value"] == "Contact:003NEW0"
    assert ledger.entries("acme#c1#1")[0]["changes"][0]["action"] == "created"
    retry_writer = FakePeopleWriter()
    result = service(retry_writer, claims, ledger).run(make_state([NEW, SOLO]))
    assert [p.id for p in result.reused] == ["003NEW0"] and [p.email for p in result.created] == ["solo@gmail.com"]
