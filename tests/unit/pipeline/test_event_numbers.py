"""The event parser refuses NaN and Infinity: JSON (RFC 8259) has no such numbers, Python's json reads them."""

from __future__ import annotations

import json

import pytest
from callsync.errors import InvalidEvent
from callsync.models.validation import parse_event
from callsync_dev.runner import DEMO_EVENT


def body_with(**insights: object) -> str:
    event = json.loads(DEMO_EVENT.read_text())
    event["insights"] = {**event["insights"], **insights}
    return json.dumps(event)  # writes NaN / Infinity / -Infinity as Python does


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_insight_rejects_the_message_naming_the_insight(bad):
    # Given a body whose "budget" insight is NaN or ±Infinity
    body = body_with(budget=bad)
    # When it is parsed / Then it is refused with the insight named
    with pytest.raises(InvalidEvent, match=r"insights: .*not a finite number.*: budget"):
        parse_event(body)


def test_finite_numbers_pass():
    # Given large but finite numbers / Then the event parses (range is the field's business, not the door's)
    call = parse_event(body_with(budget=1e30, seats=120))
    assert call.insights["budget"] == 1e30
