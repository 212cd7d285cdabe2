"""MatchOpportunity service with a fake reader: the query it asks for, what it hands on, the ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from callsync.domain.matching import ContactRow, MatchInput, RoleRow, UserRow
from callsync.models.match import AccountInfo, MatchResult
from callsync.models.state import SyncState
from callsync.ports.match import MatchQuery, MatchRead
from callsync.services.match_opportunity import MatchOpportunity
from matching_builders import CALL_START, make_call, make_settings, opp

from tests.support.fakes import FakeDescribeSource, FakeLedger

GLOBEX = AccountInfo(id="001A", name="Globex", website="globex.com")


class FakeMatchReader:
    """Answers with fixed rows and remembers the query it was given."""

    def __init__(
        self,
        data: MatchInput,
        values: dict[str, dict[str, Any]] | None = None,
        activities: list[dict[str, Any]] | None = None,
    ) -> None:
        self.data, self.values, self.activities = data, values or {}, activities
        self.queries: list[MatchQuery] = []

    def read(self, query: MatchQuery) -> MatchRead:
        self.queries.append(query)
        return MatchRead(self.data, dict(self.values), self.activities if query.activity_object else None)


def describe(name: str, *fields: str) -> dict[str, Any]:
    return {"name": name, "fields": [{"name": f, "type": "string"} for f in ("Id", "Name", *fields)]}


def state(**settings: Any) -> SyncState:
    call = make_call(
        [{"email": "alice@ourco.com"}, {"email": "Jane@Globex.com", "name": "Jane Doe"}, {"email": "bad email"}],
        company={"name": "Globex", "url": "https://globex.com"},
    )
    return SyncState(call=call, settings=make_settings(**settings))


def data() -> MatchInput:
    return MatchInput(
        started_at=CALL_START,
        contacts=[ContactRow(id="003J", email="jane@globex.com", name="Jane Doe", account=GLOBEX)],
        roles=[RoleRow("006E", "003J", is_primary=True)],
        opportunities=[opp("006E", name="Globex - Expansion")],
    )


def test_query_has_visible_mapped_fields_and_activity_subjects() -> None:
    # Given mappings on all three objects, one of them hidden, plus the Account link field
    settings = {
        "field_sync": {"enabled": True, "mappings": [
            {"insight": "pain", "object": "Opportunity", "field": "pain__c"},
            {"insight": "secret", "object": "Opportunity", "field": "Secret__c"},
            {"insight": "size", "object": "Account", "field": "Size__c"},
            {"insight": "role", "object": "Contact", "field": "Title"},
        ]},
        "account_link_field": "Airspeed_Link__c",
        "activity_sync": {"enabled": True, "mode": "smart"},
        "subject_prefix": "[Airspeed]",
    }  # fmt: skip
    reader = FakeMatchReader(data())
    describes = FakeDescribeSource({
        "Opportunity": describe("Opportunity", "Pain__c"),
        "Account": describe("Account", "Size__c", "Airspeed_Link__c"),
        "Contact": describe("Contact", "Title"),
    })  # fmt: skip
    # When the step runs
    MatchOpportunity(reader, FakeLedger(), describes=describes).run(state(**settings))
    # Then the reader is asked for the visible fields by canonical name, the hidden one left out
    query = reader.queries[0]
    assert query.fields.opportunity == ("Pain__c",)
    assert query.fields.account == ("Size__c", "Airspeed_Link__c")
    assert query.fields.contact == ("Title",)
    # And for Event candidates (video call, smart mode) with and without the prefix
    assert query.activity_object == "Event"
    assert query.activity_subjects == ("[Airspeed] Globex weekly", "Globex weekly")
    # And emails are normalized; the host is not among the external ones
    assert query.emails == ("alice@ourco.com", "jane@globex.com")
    assert query.external_emails == ("jane@globex.com",)


def test_no_describe_and_no_activity_query_when_not_needed() -> None:
    # Given field sync, activity sync, task sync and notes sync off (no later step describes anything)
    reader = FakeMatchReader(data())
    describes = FakeDescribeSource({})
    MatchOpportunity(reader, FakeLedger(), describes=describes).run(
        state(
            activity_sync={"enabled": False},
            field_sync={"enabled": False},
            task_sync={"enabled": False},
            notes_sync={"enabled": False},
        )
    )
    # Then no describe is asked for and no activity candidates are read
    assert describes.calls == []
    assert reader.queries[0].activity_object is None


def test_one_describe_batch_covers_the_later_steps() -> None:
    # Given field sync with a custom via-object, the Account link field, Event logging, follow-ups and notes
    settings = {
        "field_sync": {"enabled": True, "mappings": [
            {"insight": "pain", "object": "Opportunity", "field": "Pain__c"},
            {"insight": "summary", "object": "Call_Note__c", "field": "Summary__c", "via": "Opportunity__c"},
        ]},
        "account_link_field": "Link__c",
        "activity_sync": {"enabled": True, "mode": "events"},
        "task_sync": {"enabled": True},
        "notes_sync": {"enabled": True},
    }  # fmt: skip
    describes = FakeDescribeSource({"Opportunity": describe("Opportunity", "Pain__c")})
    # When the step runs
    MatchOpportunity(FakeMatchReader(data()), FakeLedger(), describes=describes).run(state(**settings))
    # Then one batch asked for its own objects and every object SyncFields and LogActivity will describe
    # (ContentDocumentLink for the notes' write gate)
    assert describes.calls == [
        ["Opportunity", "Account", "Call_Note__c", "Event", "Task", "ContentNote", "ContentDocumentLink"]
    ]


def test_later_steps_alone_still_get_their_describes_prefetched() -> None:
    # Given no mapped fields, activity sync on (smart mode, a video call: an Event), tasks and notes off
    describes = FakeDescribeSource({})
    MatchOpportunity(FakeMatchReader(data()), FakeLedger(), describes=describes).run(
        state(
            field_sync={"enabled": False},
            activity_sync={"enabled": True, "mode": "smart"},
            task_sync={"enabled": False},
            notes_sync={"enabled": False},
        )
    )
    # Then the Event describe is asked for now, in the match step's batch
    assert describes.calls == [["Event"]]


def test_the_result_says_when_the_read_ahead_was_taken() -> None:
    # Given a clock, and a reader that notes when it is asked
    events: list[str] = []
    at = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    class NotingReader(FakeMatchReader):
        def read(self, query: MatchQuery) -> MatchRead:
            events.append("read")
            return super().read(query)

    def clock() -> datetime:
        events.append("clock")
        return at

    # When the step runs
    result = MatchOpportunity(NotingReader(data()), FakeLedger(), clock=clock).run(state())
    # Then the result carries the time taken just before the read's request (SyncFields compares write stamps to it)
    assert result.read_at == at and events == ["clock", "read"]
    assert MatchResult.model_validate(result.model_dump(mode="json")).read_at == at


def test_result_carries_current_values_candidates_and_reason_and_goes_to_the_ledger() -> None:
    # Given values read for the opp, its account, the contact and an unrelated record
    values: dict[str, dict[str, Any]] = {
        "006E": {"Pain__c": "slow"},
        "001A": {"Size__c": "big"},
        "003J": {"Title": "CTO"},
        "006Z": {"x": 1},
    }
    reader = FakeMatchReader(data(), values, activities=[{"Id": "00U1", "Subject": "Globex weekly"}])
    ledger = FakeLedger()
    # When the step runs
    result = MatchOpportunity(reader, ledger, instance_url="https://org.example", api_requests=lambda: 1).run(state())
    # Then the matched records' values and the candidates are handed on
    assert result.current_values == {"006E": {"Pain__c": "slow"}, "001A": {"Size__c": "big"}, "003J": {"Title": "CTO"}}
    assert result.activity_candidates == [{"Id": "00U1", "Subject": "Globex weekly"}]
    assert result.reason == "Globex - Expansion: Jane Doe is its primary contact; open before the call"
    assert result.skipped_emails == ["bad email"]
    # And the ledger has the reason, the request count and the malformed-email warning
    [entry] = [e.as_json() for e in ledger.entries("acme#c1#1")]
    assert entry["sk"] == "step#MatchOpportunity"
    assert entry["api_requests"] == 1
    assert entry["changes"][0]["note"] == f"matched: {result.reason}"
    assert entry["changes"][0]["url"] == "https://org.example/lightning/r/Opportunity/006E/view"
    assert any("bad email" in w for w in entry["warnings"])


def test_assignees_are_looked_up_as_users_and_one_not_on_the_call_is_handed_on() -> None:
    # Given an action item assigned to Carol, who was not on the call, and task sync on
    call = make_call(
        [{"email": "alice@ourco.com"}, {"email": "jane@globex.com"}],
        action_items=[{"text": "Loop in legal", "assignee_email": "Carol@ourco.com"}],
    )
    rows = data()
    rows.users = [UserRow(id="005A", email="alice@ourco.com"), UserRow(id="005C", email="carol@ourco.com")]
    reader = FakeMatchReader(rows)
    # When the step runs
    result = MatchOpportunity(reader, FakeLedger()).run(
        SyncState(call=call, settings=make_settings(task_sync={"enabled": True}))
    )
    # Then the User query covers the assignee (in the same read), and Carol is handed on as an assignee
    assert reader.queries[0].emails == ("alice@ourco.com", "jane@globex.com", "carol@ourco.com")
    assert [(p.email, p.id) for p in result.assignees] == [("carol@ourco.com", "005C")]
    assert [p.email for p in result.internal] == ["alice@ourco.com"]
    assert result.report.warnings == []


def test_a_personal_address_without_company_is_not_handed_to_contact_creation() -> None:
    # Given an unknown gmail.com participant with no company, and one with a company, contact creation on
    call = make_call(
        [{"email": "alice@ourco.com"}, {"email": "jo@gmail.com"}, {"email": "kim@yahoo.com", "company": "Initech"}]
    )
    ledger = FakeLedger()
    # When the step runs
    result = MatchOpportunity(FakeMatchReader(data()), ledger).run(
        SyncState(call=call, settings=make_settings(contact_creation={"enabled": True}))
    )
    # Then only the one with a company is left for contact creation; the other is listed with the reason
    assert [p.email for p in result.unknown] == ["kim@yahoo.com"]
    assert [p.email for p in result.not_created] == ["jo@gmail.com"]
    (warning,) = result.report.warnings
    assert warning.startswith("jo@gmail.com: a personal email address (gmail.com) and no company given")
