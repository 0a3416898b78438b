"""Core signup services on moto in-process: seats, the waitlist, promotion, check-in and replays."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core import errors, services
from core.moments import told
from tests.support.clock import PINNED_AT

NOW = PINNED_AT
STARTS = NOW + timedelta(days=3)


def make(capacity=None, **fields):
    return services.create_event(
        name="Ski trip", starts_at=STARTS.isoformat(), timezone="Europe/Oslo", capacity=capacity, now=NOW, **fields
    )


def people(event, page_size=100):
    page = services.list_signups(event.event_id, limit=page_size)
    return [(s.person, s.status, s.position) for s in page.signups]


def test_first_come_go_then_wait_in_line(table):
    event = make(capacity=2)
    statuses = [services.sign_up(event.event_id, p, now=NOW).signup for p in ("ann", "bob", "cat", "dan")]
    assert [(s.status, s.position) for s in statuses] == [
        ("going", None),
        ("going", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    fresh = services.get_event(event.event_id)
    assert (fresh.going, fresh.waitlisted, fresh.spots_left) == (2, 2, 0)
    assert people(event) == [
        ("ann", "going", None),
        ("bob", "going", None),
        ("cat", "waitlisted", 1),
        ("dan", "waitlisted", 2),
    ]


def test_signing_up_twice_changes_nothing(table):
    event = make(capacity=1)
    first = services.sign_up(event.event_id, "ann", name="Ann", now=NOW)
    again = services.sign_up(event.event_id, "ann", name="Someone else", now=NOW + timedelta(hours=1))
    assert first.created and not again.created
    assert again.signup == first.signup


def seats(event):
    fresh = services.get_event(event.event_id)
    return fresh.going, fresh.seats_taken, fresh.spots_left, fresh.waitlisted


def test_a_going_party_grows_into_free_seats(table):
    event = make(capacity=5)
    services.sign_up(event.event_id, "ann", now=NOW)
    again = services.sign_up(event.event_id, "ann", guests=2, now=NOW)
    assert (again.created, again.signup.guests, again.signup.status) == (False, 2, "going")
    assert seats(event) == (1, 3, 2, 0)
    assert services.get_signup(event.event_id, "ann").guests == 2


def test_a_party_that_would_not_fit_keeps_its_seats(table):
    event = make(capacity=4)
    services.sign_up(event.event_id, "ann", guests=1, now=NOW)
    services.sign_up(event.event_id, "bob", now=NOW)
    with pytest.raises(errors.NoRoomToGrow, match="only 1 more spot is free. ann keeps 1 guest."):
        services.sign_up(event.event_id, "ann", guests=3, now=NOW)
    with pytest.raises(errors.InvalidInput, match="a party of 5 cannot fit") as bigger:
        services.sign_up(event.event_id, "ann", guests=4, now=NOW)
    assert bigger.value.field == "guests"
    assert services.get_signup(event.event_id, "ann").guests == 1
    assert seats(event) == (2, 3, 1, 0)


def test_a_party_does_not_grow_past_people_waiting_for_seats(table):
    event = make(capacity=4)
    services.sign_up(event.event_id, "ann", guests=2, now=NOW)
    bob = services.sign_up(event.event_id, "bob", guests=2, now=NOW)  # 3 seats, 1 free: he waits
    assert bob.signup.status == "waitlisted"
    with pytest.raises(errors.NoRoomToGrow, match="1 person is waiting in line first"):
        services.sign_up(event.event_id, "ann", guests=3, now=NOW)
    assert seats(event) == (1, 3, 1, 1)


def test_a_smaller_party_gives_its_seats_back_and_the_line_moves_up(table):
    event = make(capacity=3)
    services.sign_up(event.event_id, "ann", guests=2, now=NOW)
    assert services.sign_up(event.event_id, "bob", now=NOW).signup.status == "waitlisted"
    smaller = services.sign_up(event.event_id, "ann", guests=0, now=NOW)
    assert (smaller.signup.guests, smaller.signup.status) == (0, "going")
    assert people(event) == [("ann", "going", None), ("bob", "going", None)]
    assert seats(event) == (2, 2, 1, 0)


def test_a_waiting_party_changes_in_place_and_is_promoted_once_it_fits(table):
    event = make(capacity=4)
    services.sign_up(event.event_id, "ann", guests=2, now=NOW)
    services.sign_up(event.event_id, "bob", guests=2, now=NOW)
    services.sign_up(event.event_id, "cat", guests=1, now=NOW)
    bigger = services.sign_up(event.event_id, "cat", guests=2, now=NOW)
    assert (bigger.signup.status, bigger.signup.position, bigger.signup.guests) == ("waitlisted", 2, 2)
    with pytest.raises(errors.InvalidInput, match="a party of 5 cannot fit"):
        services.sign_up(event.event_id, "cat", guests=4, now=NOW)
    smaller = services.sign_up(event.event_id, "cat", guests=0, now=NOW)  # fits the free seat; bob's 3 do not
    assert (smaller.signup.status, smaller.signup.guests) == ("going", 0)
    assert people(event) == [("ann", "going", None), ("cat", "going", None), ("bob", "waitlisted", 1)]
    assert seats(event) == (2, 4, 0, 1)


def test_free_seats_go_to_the_first_in_line_who_fits_and_a_bigger_party_keeps_its_place(table):
    event = make(capacity=3)
    services.sign_up(event.event_id, "ann", now=NOW)
    services.sign_up(event.event_id, "bob", guests=1, now=NOW)
    assert services.sign_up(event.event_id, "cat", guests=2, now=NOW).signup.status == "waitlisted"
    assert services.sign_up(event.event_id, "dan", now=NOW).signup.position == 2
    # One seat frees: cat's party of 3 does not fit it, dan behind her does.
    assert services.cancel_signup(event.event_id, "ann", now=NOW).promoted.person == "dan"
    assert people(event) == [("bob", "going", None), ("dan", "going", None), ("cat", "waitlisted", 1)]
    # A newcomer who fits free seats that nobody waiting fits goes straight in, past cat.
    services.cancel_signup(event.event_id, "dan", now=NOW)
    eve = services.sign_up(event.event_id, "eve", now=NOW)
    assert (eve.signup.status, seats(event)) == ("going", (2, 3, 0, 1))
    # Two seats free are still too few for cat's party of 3; three are enough.
    assert services.cancel_signup(event.event_id, "bob", now=NOW).promoted is None
    assert services.cancel_signup(event.event_id, "eve", now=NOW).promoted.person == "cat"
    services.sign_up(event.event_id, "fay", now=NOW)
    assert people(event) == [("cat", "going", None), ("fay", "waitlisted", 1)]
    assert seats(event) == (1, 3, 0, 1)


def test_a_repeat_on_the_waitlist_keeps_its_place(table):
    event = make(capacity=1)
    for person in ("ann", "bob", "cat"):
        services.sign_up(event.event_id, person, now=NOW)
    again = services.sign_up(event.event_id, "cat", now=NOW)
    assert (again.created, again.signup.status, again.signup.position) == (False, "waitlisted", 2)


def test_no_waitlist_wanted_on_a_full_event(table):
    event = make(capacity=1)
    services.sign_up(event.event_id, "ann", now=NOW)
    with pytest.raises(errors.EventFull):
        services.sign_up(event.event_id, "bob", waitlist=False, now=NOW)
    assert services.get_event(event.event_id).waitlisted == 0


def test_guests_take_seats(table):
    event = make(capacity=3)
    assert services.sign_up(event.event_id, "ann", guests=2, now=NOW).signup.status == "going"
    assert services.sign_up(event.event_id, "bob", guests=1, now=NOW).signup.status == "waitlisted"
    assert services.sign_up(event.event_id, "cat", now=NOW).signup.status == "waitlisted"
    assert services.get_event(event.event_id).spots_left == 0
    # Ann's three seats free up: Bob (two seats) and then Cat (one) fit, in line order.
    result = services.cancel_signup(event.event_id, "ann", now=NOW)
    assert result.promoted.person == "bob"
    assert people(event) == [("bob", "going", None), ("cat", "going", None)]
    assert services.get_event(event.event_id).spots_left == 0


def test_cancel_promotes_the_first_in_line(table):
    event = make(capacity=2)
    for person in ("ann", "bob", "cat", "dan"):
        services.sign_up(event.event_id, person, now=NOW)
    result = services.cancel_signup(event.event_id, "bob", now=NOW)
    assert result.cancelled.person == "bob" and result.cancelled.status == "going"
    assert result.promoted.person == "cat" and result.promoted.status == "going"
    fresh = services.get_event(event.event_id)
    assert (fresh.going, fresh.waitlisted) == (2, 1)
    assert services.get_signup(event.event_id, "dan").position == 1


def test_seats_left_after_the_head_is_promoted_go_on_down_the_line(table):
    event = make(capacity=3)
    services.sign_up(event.event_id, "ann", guests=1, now=NOW)  # two seats; one stays free
    services.sign_up(event.event_id, "bob", guests=1, now=NOW)  # needs two: waits
    services.sign_up(event.event_id, "cat", now=NOW)  # would fit, but waits behind bob
    result = services.cancel_signup(event.event_id, "ann", now=NOW)
    # Bob takes the two seats Ann gave back; the seat that was free all along is Cat's now.
    assert result.promoted.person == "bob"
    assert people(event) == [("bob", "going", None), ("cat", "going", None)]
    assert services.get_event(event.event_id).spots_left == 0


def test_cancel_from_the_waitlist_promotes_nobody(table):
    event = make(capacity=1)
    for person in ("ann", "bob", "cat"):
        services.sign_up(event.event_id, person, now=NOW)
    result = services.cancel_signup(event.event_id, "bob", now=NOW)
    assert result.promoted is None and result.cancelled.status == "waitlisted"
    assert people(event) == [("ann", "going", None), ("cat", "waitlisted", 1)]


def test_cancel_with_nobody_waiting_frees_the_seat(table):
    event = make(capacity=1)
    services.sign_up(event.event_id, "ann", now=NOW)
    assert services.cancel_signup(event.event_id, "ann", now=NOW).promoted is None
    assert services.get_event(event.event_id).spots_left == 1
    assert services.sign_up(event.event_id, "bob", now=NOW).signup.status == "going"


def test_cancel_unknown_signup(table):
    event = make()
    with pytest.raises(errors.NotSignedUp):
        services.cancel_signup(event.event_id, "ann", now=NOW)
    with pytest.raises(errors.EventNotFound):
        services.sign_up("nosuchevent", "ann", now=NOW)


def test_signups_close_when_the_event_is_over(table):
    event = make()
    with pytest.raises(errors.EventOver):
        services.sign_up(event.event_id, "ann", now=STARTS + timedelta(days=2))


@pytest.mark.parametrize("person", ["", "Ann", "ann smith", "-ann", "a" * 41, "ann_", None, 7])
def test_person_must_be_a_handle(table, person):
    event = make()
    with pytest.raises(errors.InvalidInput) as caught:
        services.sign_up(event.event_id, person, now=NOW)
    assert caught.value.field == "person"


def test_check_in_rules(table):
    event = make(capacity=1)
    services.sign_up(event.event_id, "ann", now=NOW)
    services.sign_up(event.event_id, "bob", now=NOW)
    with pytest.raises(errors.CheckInNotOpen):
        services.check_in(event.event_id, "ann", now=NOW)
    at_the_lodge = STARTS - timedelta(minutes=30)
    first = services.check_in(event.event_id, "ann", now=at_the_lodge)
    assert first.checked_in_at == at_the_lodge
    again = services.check_in(event.event_id, "ann", now=at_the_lodge + timedelta(minutes=5))
    assert again.checked_in_at == at_the_lodge
    with pytest.raises(errors.NotGoing):
        services.check_in(event.event_id, "bob", now=at_the_lodge)
    with pytest.raises(errors.NotSignedUp):
        services.check_in(event.event_id, "cat", now=at_the_lodge)
    with pytest.raises(errors.EventOver):
        services.check_in(event.event_id, "ann", now=STARTS + timedelta(days=2))


def test_a_repeated_request_has_no_second_effect(table):
    event = make(capacity=1)
    services.sign_up(event.event_id, "ann", now=NOW)
    first = services.sign_up(event.event_id, "bob", request_id="click-1", now=NOW)
    services.cancel_signup(event.event_id, "bob", now=NOW)
    replayed = services.sign_up(event.event_id, "bob", request_id="click-1", now=NOW)
    assert replayed.replayed and replayed.signup == first.signup
    assert services.get_event(event.event_id).waitlisted == 0


def test_a_repeated_cancel_returns_the_first_outcome(table):
    event = make(capacity=1)
    services.sign_up(event.event_id, "ann", now=NOW)
    services.sign_up(event.event_id, "bob", now=NOW)
    first = services.cancel_signup(event.event_id, "ann", request_id="click-2", now=NOW)
    services.sign_up(event.event_id, "ann", now=NOW)  # Ann signs up again, now behind Bob
    again = services.cancel_signup(event.event_id, "ann", request_id="click-2", now=NOW)
    assert again.replayed and again.cancelled == first.cancelled and again.promoted == first.promoted
    assert people(event) == [("bob", "going", None), ("ann", "waitlisted", 1)]


def test_a_request_id_is_bound_to_one_kind_of_action(table):
    event = make()
    services.sign_up(event.event_id, "ann", request_id="r", now=NOW)
    with pytest.raises(errors.InvalidInput):
        services.cancel_signup(event.event_id, "bob", request_id="r", now=NOW)


def test_a_request_id_answers_only_the_very_same_request(table):
    quiz, games = make(), make()
    services.sign_up(quiz.event_id, "melvin", request_id="r", now=NOW)
    services.cancel_signup(quiz.event_id, "melvin", now=NOW)
    with pytest.raises(errors.RequestIdReused) as refused:
        services.sign_up(games.event_id, "melvin", request_id="r", now=NOW)
    assert refused.value.field == "request_id" and isinstance(refused.value, errors.InvalidInput)
    with pytest.raises(errors.NotSignedUp):
        services.get_signup(games.event_id, "melvin")


@pytest.mark.parametrize("again", [dict(person="bob"), dict(guests=1), dict(name="Ann Lee")])
def test_a_request_id_with_other_arguments_is_refused_and_changes_nothing(table, again):
    event = make()
    services.sign_up(event.event_id, "ann", request_id="r", now=NOW)
    with pytest.raises(errors.RequestIdReused):
        services.sign_up(event.event_id, again.pop("person", "ann"), request_id="r", now=NOW, **again)
    assert people(event) == [("ann", "going", None)] and services.get_signup(event.event_id, "ann").guests == 0


def test_a_request_id_of_a_cancel_is_not_replayed_for_another_persons_cancel(table):
    event = make()
    for person in ("ann", "bob"):
        services.sign_up(event.event_id, person, now=NOW)
    services.cancel_signup(event.event_id, "ann", request_id="r", now=NOW)
    with pytest.raises(errors.RequestIdReused):
        services.cancel_signup(event.event_id, "bob", request_id="r", now=NOW)
    assert people(event) == [("bob", "going", None)]


def test_listing_pages_keep_order_and_positions(table):
    event = make(capacity=3)
    names = [f"p{n:02d}" for n in range(9)]
    for person in names:
        services.sign_up(event.event_id, person, now=NOW)
    seen, cursor = [], None
    while True:
        page = services.list_signups(event.event_id, limit=2, cursor=cursor)
        assert (page.going, page.waitlisted) == (3, 6)
        seen += [(s.person, s.position) for s in page.signups]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [(p, None) for p in names[:3]] + [(p, n + 1) for n, p in enumerate(names[3:])]
    waiting = services.list_signups(event.event_id, status="waitlisted", limit=4)
    assert [s.position for s in waiting.signups] == [1, 2, 3, 4]
    more = services.list_signups(event.event_id, status="waitlisted", limit=4, cursor=waiting.next_cursor)
    assert [s.position for s in more.signups] == [5, 6] and more.next_cursor is None


def test_a_cursor_cannot_cross_to_another_list(table):
    one, two = make(capacity=1), make(capacity=1)
    for event in (one, two):
        for person in ("ann", "bob", "cat"):
            services.sign_up(event.event_id, person, now=NOW)
    page = services.list_signups(one.event_id, limit=1)
    with pytest.raises(errors.InvalidCursor):
        services.list_signups(two.event_id, limit=1, cursor=page.next_cursor)
    with pytest.raises(errors.InvalidCursor):
        services.list_signups(one.event_id, status="going", limit=1, cursor=page.next_cursor)
    with pytest.raises(errors.InvalidInput):
        services.list_signups(one.event_id, status="maybe")


def test_devices_bind_to_a_person_and_an_event(table):
    event = make()
    device = services.bind_device("G030JF0000000001", "melvin", event.event_id, now=NOW)
    assert services.get_device("G030JF0000000001") == device
    with pytest.raises(errors.EventNotFound):
        services.bind_device("G030JF0000000002", "melvin", "nosuchevent", now=NOW)
    services.unbind_device("G030JF0000000001")
    with pytest.raises(errors.DeviceNotFound):
        services.get_device("G030JF0000000001")
    with pytest.raises(errors.InvalidInput):
        services.bind_device("bad serial!", "melvin")


def test_a_party_larger_than_the_event_is_refused(table):
    event = make(capacity=2)
    with pytest.raises(errors.InvalidInput) as caught:
        services.sign_up(event.event_id, "ann", guests=2, now=NOW)
    assert caught.value.field == "guests"
    assert services.get_event(event.event_id).waitlisted == 0


def test_the_line_keeps_arrival_order_not_name_order(table):
    event = make(capacity=1)
    for n, person in enumerate(("mia", "zed", "amy", "kim")):
        services.sign_up(event.event_id, person, now=NOW + timedelta(seconds=n))
    assert people(event) == [
        ("mia", "going", None),
        ("zed", "waitlisted", 1),
        ("amy", "waitlisted", 2),
        ("kim", "waitlisted", 3),
    ]
    assert services.cancel_signup(event.event_id, "mia", now=NOW + timedelta(minutes=1)).promoted.person == "zed"


def test_without_takeover_a_button_bound_to_someone_else_stays_theirs(table):
    services.bind_device("BTN-1", "ann")
    assert services.bind_device("BTN-1", "ann", takeover=False).person == "ann"  # her own: fine
    with pytest.raises(errors.Forbidden):
        services.bind_device("BTN-1", "bob", takeover=False)
    assert services.get_device("BTN-1").person == "ann"
    assert services.bind_device("BTN-2", "bob", takeover=False).person == "bob"  # a free one
    assert services.bind_device("BTN-1", "bob").person == "bob"  # an organizer's takeover


# --- when sign-ups close ------------------------------------------------------------------------


def test_sign_ups_close_at_the_start_yet_the_event_is_listed_and_checked_in_until_it_ends(table):
    event = make(capacity=10, ends_at=(STARTS + timedelta(hours=8)).isoformat())
    services.sign_up(event.event_id, "ann", now=STARTS - timedelta(minutes=1))
    with pytest.raises(errors.SignupsClosed, match=re.escape(f"closed {told(event.starts_at)}.")):
        services.sign_up(event.event_id, "bob", now=STARTS)
    with pytest.raises(errors.SignupsClosed):
        services.sign_up(event.event_id, "bob", now=STARTS + timedelta(hours=1))
    during = STARTS + timedelta(hours=1)
    assert [e.event_id for e in services.list_events(now=during).items] == [event.event_id]
    assert services.check_in(event.event_id, "ann", now=during).checked_in_at == during
    assert services.list_events(now=STARTS + timedelta(hours=8)).items == []


def test_an_organizer_may_keep_sign_ups_open_past_the_start_or_close_them_early(table):
    late = make(ends_at=(STARTS + timedelta(hours=8)).isoformat(),
                signups_close_at=(STARTS + timedelta(hours=2)).isoformat())
    assert late.signups_until == STARTS + timedelta(hours=2)
    assert services.sign_up(late.event_id, "ann", now=STARTS + timedelta(hours=1)).created
    with pytest.raises(errors.SignupsClosed):
        services.sign_up(late.event_id, "bob", now=STARTS + timedelta(hours=2))
    early = make(signups_close_at=(STARTS - timedelta(days=1)).isoformat())
    with pytest.raises(errors.SignupsClosed):
        services.sign_up(early.event_id, "ann", now=STARTS - timedelta(hours=23))


def test_after_sign_ups_close_a_party_may_shrink_but_not_grow(table):
    event = make(capacity=10, ends_at=(STARTS + timedelta(hours=8)).isoformat())
    services.sign_up(event.event_id, "ann", guests=2, now=NOW)
    services.sign_up(event.event_id, "bob", now=NOW)
    during = STARTS + timedelta(hours=1)
    with pytest.raises(errors.SignupsClosed):
        services.sign_up(event.event_id, "bob", guests=3, now=during)
    assert services.get_signup(event.event_id, "bob").guests == 0
    smaller = services.sign_up(event.event_id, "ann", guests=1, now=during)
    assert (smaller.created, smaller.signup.guests) == (False, 1)
    assert seats(event) == (2, 3, 7, 0)


def test_sign_ups_cannot_close_after_the_event_ends(table):
    with pytest.raises(errors.InvalidInput, match="signups_close_at") as refused:
        make(
            ends_at=(STARTS + timedelta(hours=2)).isoformat(),
            signups_close_at=(STARTS + timedelta(hours=3)).isoformat(),
        )
    assert refused.value.field == "signups_close_at"


def test_changing_when_sign_ups_close(table):
    event = make()
    later = services.update_event(
        event.event_id, {"signups_close_at": (STARTS + timedelta(hours=1)).isoformat()}, now=NOW
    )
    assert later.signups_until == STARTS + timedelta(hours=1)
    moved = services.update_event(event.event_id, {"starts_at": (STARTS + timedelta(hours=2)).isoformat()}, now=NOW)
    assert moved.signups_close_at == STARTS + timedelta(hours=1)  # the organizer's time stays as set
    cleared = services.update_event(event.event_id, {"signups_close_at": None}, now=NOW)
    assert (cleared.signups_close_at, cleared.signups_until) == (None, STARTS + timedelta(hours=2))
    assert services.get_event(event.event_id).signups_until == STARTS + timedelta(hours=2)


@pytest.mark.parametrize("blocks", [None, 2], ids=["one-item", "seat-blocks"])
def test_a_resize_whose_signup_is_cancelled_meanwhile_signs_up_afresh(table, monkeypatch, blocks):
    # The race tests/integration/test_races.py replays: the PUT finds the signup, a cancel deletes it, then the
    # resize's transaction finds nothing. The PUT still means "sign me up with this party": 201, never a 404.
    from core.store import signups as store

    event = make(capacity=3, **({"seat_blocks": blocks} if blocks else {}))
    services.sign_up(event.event_id, "sa", guests=2, now=NOW)
    resize = store.change_party

    def cancelled_first(*args, **kwargs):
        monkeypatch.setattr(store, "change_party", resize)  # the cancel happens once
        services.cancel_signup(event.event_id, "sa", now=NOW)
        return resize(*args, **kwargs)

    monkeypatch.setattr(store, "change_party", cancelled_first)
    again = services.sign_up(event.event_id, "sa", guests=0, now=NOW)
    assert (again.created, again.signup.guests, again.signup.status) == (True, 0, "going")
    assert seats(event)[:3] == (1, 1, 2)


# --- an organizer moves someone up by hand ------------------------------------------------------


def test_an_organizer_moves_a_waiting_party_up_and_the_capacity_grows_by_the_places_it_lacks(table):
    from core.services import waitlist
    event = make(capacity=2)
    services.sign_up(event.event_id, "ann", guests=1, now=NOW)
    services.sign_up(event.event_id, "bob", now=NOW)
    services.sign_up(event.event_id, "cat", guests=1, now=NOW)
    moved = waitlist.move_up(event.event_id, "cat", now=NOW)
    assert (moved.signup.status, moved.places_added) == ("going", 2)
    fresh = services.get_event(event.event_id)
    assert (fresh.capacity, fresh.going, fresh.waitlisted, fresh.spots_left) == (4, 2, 1, 0)
    assert people(event) == [("ann", "going", None), ("cat", "going", None), ("bob", "waitlisted", 1)]
    again = waitlist.move_up(event.event_id, "cat", now=NOW)
    assert (again.signup.status, again.places_added) == ("going", 0)
    assert services.get_event(event.event_id).capacity == 4
    with pytest.raises(errors.NotSignedUp):
        waitlist.move_up(event.event_id, "dan", now=NOW)
