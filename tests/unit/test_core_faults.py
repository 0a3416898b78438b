"""Faults in DynamoDB reach the edges as the typed Busy error, and a forged cursor cannot fake places in line."""
from __future__ import annotations

from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from core import cursor, errors, keys, services
from tests.support.clock import PINNED_AT
from tests.support.dynamodb_calls import hooked

NOW = PINNED_AT


@pytest.fixture
def throttled(table):
    """Every DynamoDB call of the named operations answers ThrottlingException."""
    failing: set[str] = set()

    def call(operation, params):
        if operation in failing:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, operation)

    with hooked(before=call):
        yield failing


def make(capacity=1):
    return services.create_event(
        name="Ski trip", starts_at=(NOW + timedelta(days=2)).isoformat(), capacity=capacity, now=NOW
    )


def test_throttled_read_is_throttled(throttled):
    event = make()
    throttled.add("GetItem")
    with pytest.raises(errors.Throttled):
        services.get_event(event.event_id)


def test_throttled_transaction_is_throttled_and_changes_nothing(throttled):
    event = make()
    throttled.add("TransactWriteItems")
    with pytest.raises(errors.Throttled):
        services.sign_up(event.event_id, "ann", now=NOW)
    throttled.clear()
    assert services.get_event(event.event_id).going == 0


def test_a_hand_made_cursor_cannot_fake_places_in_line(table):
    event = make(capacity=1)
    for person in ("ann", "bob", "cat", "dan"):
        services.sign_up(event.event_id, person, now=NOW)
    # Point a cursor just after Bob's place, the way a page boundary would, with a made-up count beside it.
    bob = services.list_signups(event.event_id, status="waitlisted", limit=1)
    forged = cursor.encode(
        f"signups:{event.event_id}:all",
        {"order": keys.waitlist_order(NOW, "bob"), "sk": "SIGNUP#bob", "waiting": 500},
    )
    assert bob.signups[0].person == "bob"
    page = services.list_signups(event.event_id, cursor=forged)
    assert [(s.person, s.position) for s in page.signups] == [("cat", 2), ("dan", 3)]
