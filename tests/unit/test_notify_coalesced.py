"""Changes that arrive together tell one notice of the state they left (notify/ on the table's own stream, read as
Lambda's event source mapping hands it over): two moves a second apart are one "moved" notice naming the new
place, never a second one naming the old; a move told before the next one came stays told, once."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from core import services
from notify.handler import lambda_handler
from tests.support import stream
from tests.support.clock import PINNED_AT

OSLO = ZoneInfo("Europe/Oslo")
STARTS = (PINNED_AT + timedelta(days=5)).astimezone(OSLO).replace(hour=7, minute=0, second=0, microsecond=0)


class Context:
    function_name = "turnout-notify"
    aws_request_id = "6d1c1a43-5f7e-4d58-9a0b-7c2e3f4a5b6c"


@pytest.fixture
def trip(table, pinned_clock) -> str:
    event = services.create_event(name="Ski trip", starts_at=STARTS.isoformat(), timezone="Europe/Oslo",
                                  location="Hemsedal", now=PINNED_AT)
    for person in ("ann", "bob"):
        services.sign_up(event.event_id, person, now=PINNED_AT)
    return event.event_id


def moves(event_id: str) -> list[dict]:
    return [r for r in stream.delivered() if r["dynamodb"]["NewImage"].get("what", {}).get("S") == "moved"
            and r["dynamodb"]["NewImage"]["event_id"]["S"] == event_id]


def moved(person: str) -> list[str]:
    return [notice.text for notice in services.list_notices(person) if notice.what == "moved"]


def test_two_moves_in_one_batch_are_one_notice_of_the_place_now(trip):
    services.update_event(trip, {"location": "Geilo"}, now=PINNED_AT + timedelta(minutes=1))
    services.update_event(trip, {"location": "Trysil"}, now=PINNED_AT + timedelta(minutes=1, seconds=1))
    batch = moves(trip)
    assert len(batch) == 2  # the stream carries both changes
    assert lambda_handler({"Records": batch}, Context()) == {"batchItemFailures": []}
    for person in ("ann", "bob"):
        (text,) = moved(person)
        assert "Trysil" in text and "Geilo" not in text
    # Delivered again (at least once), alone or together: still one notice each.
    lambda_handler({"Records": batch[:1]}, Context())
    lambda_handler({"Records": batch}, Context())
    assert [len(moved(person)) for person in ("ann", "bob")] == [1, 1]


def test_moves_read_one_batch_each_after_both_happened_still_tell_once(trip):
    services.update_event(trip, {"location": "Geilo"}, now=PINNED_AT + timedelta(minutes=1))
    services.update_event(trip, {"starts_at": STARTS.replace(hour=8).isoformat()},
                          now=PINNED_AT + timedelta(minutes=1, seconds=1))
    for record in moves(trip):
        lambda_handler({"Records": [record]}, Context())
    (text,) = moved("ann")
    assert "Geilo" in text and "08:00" in text


def test_a_move_told_before_the_next_one_came_is_not_told_again(trip):
    services.update_event(trip, {"location": "Geilo"}, now=PINNED_AT + timedelta(minutes=1))
    lambda_handler({"Records": moves(trip)}, Context())
    assert len(moved("ann")) == 1 and "Geilo" in moved("ann")[0]
    services.update_event(trip, {"location": "Trysil"}, now=PINNED_AT + timedelta(hours=1))
    first, second = moves(trip)
    lambda_handler({"Records": [first, second]}, Context())  # a retried batch holding the told one too
    texts = moved("ann")
    assert len(texts) == 2 and "Trysil" in texts[0] and "Geilo" in texts[1]  # newest first


def test_a_move_then_the_events_deletion_tells_only_the_deletion(trip):
    services.update_event(trip, {"location": "Geilo"}, now=PINNED_AT + timedelta(minutes=1))
    services.delete_event(trip, now=PINNED_AT + timedelta(minutes=1, seconds=1))
    lambda_handler({"Records": stream.delivered()}, Context())
    assert [notice.what for notice in services.list_notices("ann")] == ["deleted"]


def test_the_notice_names_the_event_as_it_is_called_now(trip):
    services.update_event(trip, {"location": "Geilo"}, now=PINNED_AT + timedelta(minutes=1))
    services.update_event(trip, {"name": "Ski day"}, now=PINNED_AT + timedelta(minutes=1, seconds=1))
    lambda_handler({"Records": moves(trip)}, Context())
    (text,) = moved("ann")
    assert text.startswith("Ski day has changed")  # the name given since the move
