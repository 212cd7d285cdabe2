"""Input limits at the door: what an oversized call.processed message becomes.

Limits cited:
- SQS: a message body is at most 262,144 bytes (256 KiB), the default MaximumMessageSize of a queue
  (AWS SQS SetQueueAttributes / CreateQueue, MaximumMessageSize: "default 262,144 (256 KiB)").
- Step Functions: a state's input or output is at most 262,144 bytes of UTF-8 JSON (API reference,
  StateEnteredEventDetails.input / StateExitedEventDetails.output: "Maximum length of 262144").
- Salesforce: Task/Event Description holds 32,000 characters, Subject 255 (Object Reference, Task/Event).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from callsync.domain.input_limits import (
    INPUT_BUDGET_BYTES,
    MAX_MESSAGE_BYTES,
    MAX_PARTICIPANTS,
    STATE_LIMIT_BYTES,
    TRIM_MARK,
    InputTooLarge,
    admit,
    check_message,
    json_bytes,
    trim_text,
)
from callsync.errors import InvalidEvent
from callsync.models.event import CallProcessed
from callsync_dev.runner import DEMO_EVENT, DEMO_SETTINGS

SETTINGS = json.loads(DEMO_SETTINGS.read_text())


def event(**changes: Any) -> dict[str, Any]:
    body = json.loads(DEMO_EVENT.read_text())
    body.update(changes)
    return CallProcessed.model_validate(body).model_dump(mode="json")


def admitted(**changes: Any):
    return admit(event(**changes), settings=SETTINGS, message_id="m-1")


def test_the_limits_are_the_services_limits():
    assert MAX_MESSAGE_BYTES == STATE_LIMIT_BYTES == 256 * 1024
    assert INPUT_BUDGET_BYTES < STATE_LIMIT_BYTES  # the steps' results need room too


def test_a_body_over_the_sqs_limit_is_refused_before_parsing():
    # Given a body one byte over 256 KiB (multi-byte characters count as bytes)
    body = "é" * (MAX_MESSAGE_BYTES // 2) + "x"
    # When it is checked / Then it is refused with its size and the limit; an invalid event, permanent
    with pytest.raises(InputTooLarge, match=r"262,145 bytes.*at most 262,144 bytes \(256 KiB"):
        check_message(body)
    assert issubclass(InputTooLarge, InvalidEvent)
    check_message("x" * MAX_MESSAGE_BYTES)  # exactly the limit passes


def test_a_typical_call_is_admitted_unchanged():
    # Given the demo call / When admitted / Then nothing is trimmed
    original = event()
    result = admit(original, settings=SETTINGS, message_id="m-1")
    assert result.call == original and result.notes == ()


def test_a_40k_character_summary_is_trimmed_to_32000_with_a_note():
    # Given a 40,000-character summary
    result = admitted(summary="word " * 8000)
    # Then it holds 32,000 characters ending with the mark, and the note names the field and lengths
    assert len(result.call["summary"]) == 32_000 and result.call["summary"].endswith(TRIM_MARK)
    assert result.notes == ("summary: 40,000 characters, trimmed to 32,000",)
    CallProcessed.model_validate(result.call)  # still a valid event


@pytest.mark.parametrize(("field", "limit"), [("title", 255), ("call_type", 255), ("source", 255)])
def test_short_texts_are_trimmed_to_255(field, limit):
    result = admitted(**{field: "t" * 40_000})
    assert len(result.call[field]) == limit
    assert result.notes == (f"{field}: 40,000 characters, trimmed to {limit}",)


def test_long_texts_everywhere_are_trimmed_and_each_is_named():
    # Given a long note, key point, insight (text and list item) and action item
    big = "x" * 40_000
    result = admitted(
        notes=big, key_points=["short", big], insights={"pain": big, "tags": ["a", big]}, action_items=[{"text": big}]
    )
    # Then each is cut to 32,000 and named in its own note (five of them then exceed the state budget: more cuts)
    labels = [n.split(":")[0] for n in result.notes if n.endswith("trimmed to 32,000")]
    assert labels == ["notes", "key_points[1]", "insights.pain", "insights.tags[1]", "action_items[0].text"]
    assert result.call["key_points"][0] == "short"
    assert len(result.call["insights"]["tags"][1]) == 32_000


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("call_id", "c" * 256),
        ("org_id", "o" * 256),
        ("host_email", "h" * 321 + "@acme.io"),
        ("call_url", "https://app.example.com/" + "p" * 2048),
    ],
)
def test_identifiers_over_their_limit_are_rejected_naming_the_field(field, value):
    # Given an identifier that trimming would turn into another one
    with pytest.raises(InputTooLarge, match=rf"^{field} is [\d,]+ characters; at most"):
        admit({**event(), field: value}, settings=SETTINGS, message_id="m-1")


def participants(n: int) -> list[dict[str, str]]:
    return [{"email": f"p{i}@globex.com", "name": f"P {i}"} for i in range(n)]


def test_over_200_participants_keeps_the_first_200_and_the_host():
    # Given 250 participants, the host listed last
    people = [*participants(249), {"email": "Alice.Rep@acme.io", "name": "Alice Rep"}]
    result = admitted(participants=people)
    # Then 200 are kept: the first 199 and the host; the note says how many were left out
    kept = [p["email"] for p in result.call["participants"]]
    assert len(kept) == MAX_PARTICIPANTS and kept[-1] == "Alice.Rep@acme.io" and kept[0] == "p0@globex.com"
    assert result.notes == (
        "participants: 250 on the call, only the first 200 (the host included) are matched and linked; 50 left out",
    )


def test_repeated_emails_do_not_count_towards_the_200():
    # Given 199 people and the host, each person listed twice with a different case
    people = participants(199) + [{"email": p["email"].upper()} for p in participants(199)]
    # Then nothing is left out
    assert admitted(participants=[*people, {"email": "alice.rep@acme.io"}]).notes == ()


def test_exactly_200_participants_pass():
    people = [*participants(199), {"email": "alice.rep@acme.io"}]
    assert admitted(participants=people).notes == ()


def test_insights_pushing_the_state_past_its_budget_are_cut_longest_first():
    # Given texts that each fit their own limit but together exceed the execution input budget
    insights = {f"k{i}": "i" * 30_000 for i in range(6)}  # ~180 KB
    result = admitted(insights=insights)
    # Then the input fits the budget, the notes name each text cut for the state, the rest is intact
    payload = {"call": result.call, "settings": SETTINGS, "message_id": "m-1"}
    assert json_bytes(payload) <= INPUT_BUDGET_BYTES
    assert result.notes and all("so the call fits in the state machine's 256 KiB" in n for n in result.notes)
    assert all(n.startswith("insights.k") for n in result.notes)
    assert result.call["summary"] == event()["summary"]
    CallProcessed.model_validate(result.call)


def test_the_same_message_is_always_trimmed_the_same_way():
    insights = {f"k{i}": "i" * 30_000 for i in range(6)}
    assert admitted(insights=insights) == admitted(insights=insights)


def test_a_call_that_cannot_fit_even_trimmed_is_rejected_naming_the_heaviest_fields():
    # Given 200 participants with long names and companies, and 2,000 action items (no text can absorb it)
    people = [{"email": f"p{i}@globex.com", "name": "n" * 255, "company": "c" * 255} for i in range(199)]
    items = [{"text": f"follow up {i} " + "x" * 100} for i in range(2_000)]
    # When admitted / Then REJECTED with the size, the budget and the heaviest fields
    with pytest.raises(InputTooLarge, match=r"once its texts are trimmed.*Heaviest fields: action_items"):
        admitted(participants=[*people, {"email": "alice.rep@acme.io"}], action_items=items)


def test_trim_text_keeps_short_text_and_marks_cut_text():
    assert trim_text("short", 10) == "short"
    cut = trim_text("a" * 100, 50)
    assert len(cut) <= 50 and cut.endswith(TRIM_MARK)
