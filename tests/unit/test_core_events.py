"""Core event services on moto in-process: creation rules, listing, paging, changes and removal."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core import errors, keys, services
from core.store import notices
from tests.support.clock import PINNED_AT

NOW = PINNED_AT


def make(name="Ski trip", days=3, **fields):
    fields.setdefault("timezone", "Europe/Oslo")
    starts = (NOW + timedelta(days=days)).isoformat()
    return services.create_event(name=name, starts_at=starts, now=NOW, **fields)


def test_create_event_reads_times_in_its_own_zone(table):
    event = services.create_event(name="Ski trip", starts_at="2026-12-04T07:00", timezone="Europe/Oslo", now=NOW)
    assert event.starts_at.isoformat() == "2026-12-04T07:00:00+01:00"
    assert event.going == 0 and event.waitlisted == 0 and event.capacity is None and event.spots_left is None
    assert services.get_event(event.event_id) == event


def test_offset_times_are_shown_in_the_event_zone(table):
    event = services.create_event(name="Ski trip", starts_at="2026-12-04T06:00:00Z", timezone="Europe/Oslo", now=NOW)
    assert event.starts_at.isoformat() == "2026-12-04T07:00:00+01:00"


@pytest.mark.parametrize("starts_at, zone, shown", [
    ("2026-12-04T19:00:00+01:00", "Etc/GMT-1", "2026-12-04T19:00:00+01:00"),
    ("2026-12-04T19:00:00-05:00", "Etc/GMT+5", "2026-12-04T19:00:00-05:00"),
    ("2026-12-04T19:00:00Z", "UTC", "2026-12-04T19:00:00+00:00"),
    ("2026-12-04T19:00", "UTC", "2026-12-04T19:00:00+00:00"),
])
def test_an_event_without_a_zone_keeps_the_offset_its_start_is_written_in(table, starts_at, zone, shown):
    event = services.create_event(name="Board games", starts_at=starts_at, ends_at=starts_at[:11] + "22:00", now=NOW)
    assert (event.timezone, event.starts_at.isoformat()) == (zone, shown)
    assert event.ends_at.utcoffset() == event.starts_at.utcoffset()  # a time without an offset is read in that zone
    assert services.get_event(event.event_id) == event


def test_an_offset_no_fixed_zone_names_asks_for_the_zone(table):
    with pytest.raises(errors.InvalidInput) as refused:
        services.create_event(name="Chai", starts_at="2026-12-04T19:00:00+05:30", now=NOW)
    assert refused.value.field == "timezone" and "+05:30" in str(refused.value)
    assert services.list_events(now=NOW).items == []  # nothing was stored
    event = services.create_event(name="Chai", starts_at="2026-12-04T19:00:00+05:30", timezone="Asia/Kolkata", now=NOW)
    assert event.starts_at.isoformat() == "2026-12-04T19:00:00+05:30"


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "bell\x07"}, "name"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../etc/passwd"}, "timezone"),
        ({"starts_at": "next friday"}, "starts_at"),
        ({"starts_at": "2026-12-04T07:00", "ends_at": "2026-12-04T06:00"}, "ends_at"),
        ({"starts_at": "2026-12-04T07:00", "ends_at": "2026-12-30T06:00"}, "ends_at"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"capacity": 100_001}, "capacity"),
        ({"starts_at": "2020-01-01T10:00:00Z"}, "starts_at"),
    ],
)
def test_create_event_refuses_bad_input(table, fields, field):
    base = {"name": "Ski trip", "starts_at": "2026-12-04T07:00", "timezone": "Europe/Oslo"}
    with pytest.raises(errors.InvalidInput) as caught:
        services.create_event(**{**base, **fields}, now=NOW)
    assert caught.value.field == field


def test_names_are_normalised(table):
    event = make(name="  Cafe\u0301 night ")
    assert event.name == "Caf\u00e9 night"


def test_get_unknown_event(table):
    with pytest.raises(errors.EventNotFound):
        services.get_event("nosuchevent")
    with pytest.raises(errors.InvalidInput):
        services.get_event("NOT AN ID")


def test_list_events_soonest_first_and_pages(table):
    made = [make(name=f"Event {days}", days=days) for days in (5, 1, 3, 2, 4)]
    first = services.list_events(limit=2, now=NOW)
    assert [e.name for e in first.items] == ["Event 1", "Event 2"]
    second = services.list_events(limit=2, cursor=first.next_cursor, now=NOW)
    assert [e.name for e in second.items] == ["Event 3", "Event 4"]
    third = services.list_events(limit=2, cursor=second.next_cursor, now=NOW)
    assert [e.name for e in third.items] == ["Event 5"] and third.next_cursor is None
    assert len(made) == 5


def test_list_events_leaves_out_events_that_are_over(table):
    make(name="Soon", days=1)
    later = NOW + timedelta(days=3)
    assert [e.name for e in services.list_events(now=later).items] == []
    assert services.next_event(now=NOW).name == "Soon"
    with pytest.raises(errors.NoUpcomingEvent):
        services.next_event(now=later)


def test_an_event_still_lists_while_it_runs(table):
    event = services.create_event(
        name="Lodge", starts_at="2026-12-01T09:00:00Z", ends_at="2026-12-01T17:00:00Z", now=NOW
    )
    during = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    assert services.next_event(now=during).event_id == event.event_id


@pytest.mark.parametrize("cursor", ["garbage", "", "eyJ2IjoxfQ", "x" * 600, "eyJ2IjoxLCJzY29wZSI6ImV2ZW50cyJ9"])
def test_garbled_cursor_is_invalid_input(table, cursor):
    with pytest.raises(errors.InvalidCursor):
        services.list_events(cursor=cursor, now=NOW)


def test_update_event_changes_fields_and_clears_optional_ones(table):
    event = make(location="Hemsedal", description="Bring skis")
    updated = services.update_event(event.event_id, {"name": "Ski weekend", "location": None, "capacity": 10}, now=NOW)
    assert (updated.name, updated.location, updated.description, updated.capacity) == (
        "Ski weekend",
        None,
        "Bring skis",
        10,
    )
    assert updated.spots_left == 10
    assert services.get_event(event.event_id) == updated


def test_update_event_refuses_unknown_fields_and_capacity_below_taken(table):
    event = make(capacity=3)
    for person in ("ann", "bob"):
        services.sign_up(event.event_id, person, now=NOW)
    with pytest.raises(errors.InvalidInput):
        services.update_event(event.event_id, {"going": 99}, now=NOW)
    with pytest.raises(errors.CapacityBelowTaken) as caught:
        services.update_event(event.event_id, {"capacity": 1}, now=NOW)
    assert caught.value.details["taken"] == 2
    assert services.update_event(event.event_id, {"capacity": 2}, now=NOW).spots_left == 0


def test_raising_capacity_promotes_the_waitlist_in_order(table):
    event = make(capacity=1)
    for person in ("ann", "bob", "cat", "dan"):
        services.sign_up(event.event_id, person, now=NOW)
    updated = services.update_event(event.event_id, {"capacity": 3}, now=NOW)
    assert (updated.going, updated.waitlisted, updated.spots_left) == (3, 1, 0)
    page = services.list_signups(event.event_id)
    assert [(s.person, s.status, s.position) for s in page.signups] == [
        ("ann", "going", None), ("bob", "going", None), ("cat", "going", None), ("dan", "waitlisted", 1),
    ]


def test_making_an_event_unlimited_frees_everyone(table):
    event = make(capacity=1)
    for person in ("ann", "bob"):
        services.sign_up(event.event_id, person, now=NOW)
    updated = services.update_event(event.event_id, {"capacity": None}, now=NOW)
    assert (updated.going, updated.waitlisted, updated.spots_left) == (2, 0, None)


def test_a_button_bound_to_a_deleted_event_means_the_next_event_and_its_press_signs_up_there(table):
    from core import presses
    gone, later = make("Ski trip", days=1), make("Breakfast", days=2)
    services.bind_device("BTN-GONE", "ann", gone.event_id)
    services.bind_device("BTN-OTHER", "bob", later.event_id)
    services.delete_event(gone.event_id)
    assert services.get_device("BTN-GONE").event_id is None
    assert services.get_device("BTN-OTHER").event_id == later.event_id
    press = presses.press_button("BTN-GONE", "SINGLE", request_id="iot:BTN-GONE:1", now=NOW)
    assert (press.outcome, press.error, press.event.event_id) == ("signed_up", None, later.event_id)
    assert services.get_signup(later.event_id, "ann").status == "going"


def test_an_event_deleted_while_a_button_is_bound_to_it_refuses_the_binding_and_leaves_nothing(table, monkeypatch):
    # The delete lands between the binding's read of the event and its write. Before, the binding was written after
    # the delete had looked for the event's buttons: the button kept pointing at an event that was gone.
    from core.store import events as event_store
    from core.table import TurnoutItem

    gone = make("Ski trip", days=1)
    read = event_store.get_event

    def read_then_deleted(event_id):
        found = read(event_id)
        services.delete_event(event_id, now=NOW)
        return found

    monkeypatch.setattr(event_store, "get_event", read_then_deleted)
    with pytest.raises(errors.EventNotFound):
        services.bind_device("BTN-RACE", "ann", gone.event_id)
    monkeypatch.undo()
    with pytest.raises(errors.DeviceNotFound):
        services.get_device("BTN-RACE")
    assert list(TurnoutItem.query(keys.event(gone.event_id)[0], consistent_read=True)) == []


def test_a_button_bound_elsewhere_since_keeps_its_event_when_the_old_one_is_deleted(table):
    first, second = make("Ski trip", days=1), make("Breakfast", days=2)
    services.bind_device("BTN-1", "ann", first.event_id)
    services.bind_device("BTN-1", "ann", second.event_id)
    services.delete_event(first.event_id)
    assert services.get_device("BTN-1").event_id == second.event_id


def test_delete_event_removes_it_and_its_signups(table):
    event = make()
    services.sign_up(event.event_id, "ann", now=NOW)
    services.delete_event(event.event_id)
    with pytest.raises(errors.EventNotFound):
        services.get_event(event.event_id)
    with pytest.raises(errors.NotSignedUp):
        services.get_signup(event.event_id, "ann")
    with pytest.raises(errors.EventNotFound):
        services.delete_event(event.event_id)


def test_a_new_time_zone_alone_keeps_the_wall_clock_times_and_tells_people_the_start_moved(table):
    event = services.create_event(name="Quiz", starts_at="2026-12-04T19:00", ends_at="2026-12-04T22:00",
                                  signups_close_at="2026-12-04T18:00", timezone="Europe/Oslo", now=NOW)
    services.sign_up(event.event_id, "ann", now=NOW)
    moved = services.update_event(event.event_id, {"timezone": "Europe/London"}, now=NOW)
    assert [moment.isoformat() for moment in (moved.starts_at, moved.ends_at, moved.signups_close_at)] == [
        "2026-12-04T19:00:00+00:00", "2026-12-04T22:00:00+00:00", "2026-12-04T18:00:00+00:00"]
    assert moved.starts_at - event.starts_at == timedelta(hours=1)  # the same 19:00, an hour later in time
    # The change item the stream tells everyone signed up from.
    changes = list(notices.ChangeItem.query(keys.change(event.event_id, "", "")[0]))
    assert [(change.what, change.starts_at) for change in changes] == [("moved", "2026-12-04T19:00:00.000000Z")]
    # Given with the zone, a start is read in the new zone as it was written.
    again = services.update_event(event.event_id, {"timezone": "Europe/Oslo", "starts_at": "2026-12-04T20:00"}, now=NOW)
    assert again.starts_at.isoformat() == "2026-12-04T20:00:00+01:00" and again.ends_at.hour == 22
