"""core.rules without a table: seats, the line, promotion, check-in's window, the pairing lock-out, requests."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core import errors, keys, rules
from core.values import Event

STARTS = datetime(2026, 12, 4, 18, 0, tzinfo=timezone.utc)


def event(ends_at: datetime | None = None) -> Event:
    return Event(event_id="ski", name="Ski trip", starts_at=STARTS, ends_at=ends_at, timezone="UTC", location=None,
                 description=None, capacity=4, going=0, waitlisted=0, spots_left=4, seats_taken=0, created_at=STARTS)


def test_a_party_is_the_person_and_their_guests_and_unlimited_has_room_for_any():
    assert rules.seats(0) == 1 and rules.seats(3) == 4
    assert rules.room(4) == 4 and rules.room(None) == keys.UNLIMITED_SEATS


@pytest.mark.parametrize("seats_left, waiting, party, waits", [
    (2, 0, 2, False), (1, 0, 2, True), (5, 1, 1, True), (0, 0, 1, True),
])
def test_a_party_waits_when_its_seats_are_not_free_or_anyone_waits_already(seats_left, waiting, party, waits):
    assert rules.joins_the_line(seats_left, waiting, party) is waits


def test_a_party_in_line_is_seated_only_when_its_whole_party_fits():
    assert rules.fits(guests=1, free=2)
    assert not rules.fits(guests=2, free=2)


def test_a_party_larger_than_the_event_is_refused_and_unlimited_takes_any():
    rules.check_party_fits(4, 4)
    rules.check_party_fits(None, 1000)
    with pytest.raises(errors.InvalidInput) as refused:
        rules.check_party_fits(4, 5)
    assert refused.value.field == "guests"


def test_check_in_opens_before_the_start_and_closes_with_the_list():
    opens_before = timedelta(hours=2)
    rules.check_in_open(event(), STARTS - opens_before, opens_before)
    with pytest.raises(errors.CheckInNotOpen):
        rules.check_in_open(event(), STARTS - opens_before - timedelta(seconds=1), opens_before)
    with pytest.raises(errors.EventOver):
        rules.check_in_open(event(ends_at=STARTS + timedelta(hours=3)), STARTS + timedelta(hours=3), opens_before)


def test_requests_are_the_same_only_when_everything_they_ask_for_is():
    first = rules.request("sign_up", "ski", "melvin", guests=0, name=None)
    assert first == rules.request("sign_up", "ski", "melvin", name=None, guests=0)
    assert first != rules.request("sign_up", "quiz", "melvin", guests=0, name=None)
    assert first != rules.request("sign_up", "ski", "melvin", guests=1, name=None)
    assert first != rules.request("cancel", "ski", "melvin")
