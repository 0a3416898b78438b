"""core.items reads and writes the same items as core.table's models: whatever one writes, the other reads back."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from core import items, keys, repository
from core.table import DeviceItem, EventItem, SignupItem, TurnoutItem
from core.values import Event, Signup

NOW = datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=timezone.utc)
OSLO = ZoneInfo("Europe/Oslo")


@pytest.mark.parametrize("capacity, ends, where", [(10, None, None), (None, timedelta(hours=3), "Hemsedal")])
def test_an_event_saved_by_its_model_reads_back_as_the_same_event(capacity, ends, where):
    starts = (NOW + timedelta(days=2)).astimezone(OSLO)
    event = Event(event_id="abcdefghij", name="Ski trip", starts_at=starts, ends_at=starts + ends if ends else None,
                  timezone="Europe/Oslo", location=where, description=None, capacity=capacity, going=0,
                  waitlisted=0, spots_left=capacity, created_at=NOW.astimezone(OSLO))

    assert items.event(repository._event_item(event).serialize()) == event


@pytest.mark.parametrize("name, status", [("Melvin Moose", "going"), (None, "waitlisted")])
def test_a_signup_written_here_is_the_item_the_model_would_save(name, status):
    signup = Signup(event_id="abcdefghij", person="melvin", name=name, guests=2, status=status, position=None,
                    source="iot", signed_up_at=NOW, checked_in_at=None)
    order = keys.going_order(NOW, "melvin")
    model = SignupItem(*keys.signup("abcdefghij", "melvin"), event_id="abcdefghij", person="melvin", name=name,
                       guests=2, status=status, source="iot", signed_up_at=keys.utc(NOW), status_order=order)

    raw = items.signup_item(signup, order)

    assert raw == model.serialize()
    assert isinstance(TurnoutItem.from_raw_data(raw), SignupItem)
    assert items.signup(raw) == signup


def test_a_checked_in_signup_reads_its_check_in_time():
    model = SignupItem(*keys.signup("abcdefghij", "ann"), event_id="abcdefghij", person="ann", guests=0,
                       status="going", source="api", signed_up_at=keys.utc(NOW), status_order="B#x",
                       checked_in_at=keys.utc(NOW + timedelta(days=2)))

    assert items.signup(model.serialize()).checked_in_at == NOW + timedelta(days=2)


def test_a_device_remembers_its_event_in_the_events_own_zone():
    starts = (NOW + timedelta(days=2)).astimezone(OSLO)
    model = DeviceItem(*keys.device("G030JF055364XVRB"), serial="G030JF055364XVRB", person="melvin",
                       event_id="abcdefghij", bound_at=keys.utc(NOW), event_name="Ski trip",
                       event_starts_at=keys.utc(starts), event_timezone="Europe/Oslo")

    device = items.device(model.serialize())

    assert (device.event_name, device.event_starts_at, device.event_starts_at.tzinfo) == ("Ski trip", starts, OSLO)
    assert device.bound_at == NOW


def test_kinds_are_the_models_discriminators():
    for model, kind in ((EventItem, items.EVENT), (SignupItem, items.SIGNUP), (DeviceItem, items.DEVICE)):
        assert model(pk="p", sk="s").serialize(null_check=False)["kind"] == {"S": kind}
