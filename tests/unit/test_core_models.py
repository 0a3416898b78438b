"""core.table's models carry each domain value to its item and back: what one writes, the other reads the same."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from core import keys
from core.table import DeviceItem, EventItem, SignupItem, TurnoutItem
from core.values import Device, Event, Signup

NOW = datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=timezone.utc)
OSLO = ZoneInfo("Europe/Oslo")


def stored(item: TurnoutItem) -> TurnoutItem:
    """The item as a read hands it back: its wire form decoded by the base model's discriminator."""
    return TurnoutItem.from_raw_data(item.serialize())


@pytest.mark.parametrize("capacity, ends, where", [(10, None, None), (None, timedelta(hours=3), "Hemsedal")])
def test_an_event_reads_back_as_the_same_event_in_its_own_zone(capacity, ends, where):
    starts = (NOW + timedelta(days=2)).astimezone(OSLO)
    event = Event(event_id="abcdefghij", name="Ski trip", starts_at=starts, ends_at=starts + ends if ends else None,
                  timezone="Europe/Oslo", location=where, description=None, capacity=capacity, going=0,
                  waitlisted=0, spots_left=capacity, seats_taken=0, created_at=NOW.astimezone(OSLO))

    back = stored(EventItem.of(event))

    assert isinstance(back, EventItem) and back.value() == event
    assert back.value().starts_at.tzinfo == OSLO


@pytest.mark.parametrize("name, status, position", [("Melvin Moose", "going", None), (None, "waitlisted", 3)])
def test_a_signup_reads_back_as_the_same_signup_with_its_place_only_while_waiting(name, status, position):
    signup = Signup(event_id="abcdefghij", person="melvin", name=name, guests=2, status=status, position=position,
                    source="iot", signed_up_at=NOW, checked_in_at=None)

    back = stored(SignupItem.of(signup, keys.going_order(NOW, "melvin")))

    assert isinstance(back, SignupItem) and back.value(3) == signup
    assert back.status_order == keys.going_order(NOW, "melvin")


def test_a_checked_in_signup_reads_its_check_in_time():
    item = SignupItem(*keys.signup("abcdefghij", "ann"), event_id="abcdefghij", person="ann", guests=0,
                      status="going", source="api", signed_up_at=keys.utc(NOW), status_order="B#x",
                      checked_in_at=keys.utc(NOW + timedelta(days=2)))

    assert stored(item).value().checked_in_at == NOW + timedelta(days=2)


def test_a_device_remembers_its_event_in_the_events_own_zone():
    starts = (NOW + timedelta(days=2)).astimezone(OSLO)
    device = Device(serial="G030JF055364XVRB", person="melvin", event_id="abcdefghij", bound_at=NOW,
                    event_name="Ski trip", event_starts_at=starts)

    back = stored(DeviceItem.of(device)).value()

    assert back == device and back.event_starts_at.tzinfo == OSLO
