"""A hot event's seat blocks (seat_blocks on create): the same rules as any event, with its seats over several
items - never over capacity, first come first served, one signup per person, counts that add up."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from core import errors, keys, presses, services
from tests.support.clock import PINNED_AT
from tests.support.dynamodb_calls import hooked

NOW = PINNED_AT


def hot(capacity=5, blocks=2, **fields):
    return services.create_event(name="Gig", starts_at=(NOW + timedelta(days=2)).isoformat(), capacity=capacity,
                                 seat_blocks=blocks, now=NOW, **fields)


def test_a_hot_event_says_so_in_its_id_and_counts_over_its_blocks(table):
    event = hot(5, 2)
    assert keys.seat_blocks(event.event_id) == 2 and event.seat_blocks == 2
    assert keys.seat_blocks(services.create_event(name="Plain", starts_at=(NOW + timedelta(days=2)).isoformat(),
                                                  now=NOW).event_id) is None
    outcomes = [
        services.sign_up(event.event_id, person, now=NOW).signup for person in "ann bob cat dan eve fay gus".split()
    ]
    assert [s.status for s in outcomes] == ["going"] * 5 + ["waitlisted"] * 2
    assert [s.position for s in outcomes[5:]] == [1, 2]
    counted = services.get_event(event.event_id)
    assert (counted.going, counted.waitlisted, counted.spots_left, counted.seats_taken) == (5, 2, 0, 5)


def test_a_cancel_promotes_the_head_of_the_line_and_a_waiting_cancel_moves_it_up(table):
    event = hot(2, 2)
    for person in ("ann", "bob", "cat", "dan", "eve"):
        services.sign_up(event.event_id, person, now=NOW)
    cancelled = services.cancel_signup(event.event_id, "ann", now=NOW)
    assert (cancelled.cancelled.status, cancelled.promoted.person) == ("going", "cat")
    waiting = services.cancel_signup(event.event_id, "dan", now=NOW)
    assert (waiting.cancelled.status, waiting.promoted) == ("waitlisted", None)
    page = services.list_signups(event.event_id)
    assert [(s.person, s.status, s.position) for s in page.signups] == [
        ("bob", "going", None), ("cat", "going", None), ("eve", "waitlisted", 1)]
    assert (page.going, page.waitlisted, page.seats_taken) == (2, 1, 2)
    with pytest.raises(errors.NotSignedUp):
        services.cancel_signup(event.event_id, "zed", now=NOW)


def test_seats_a_cancelled_party_leaves_after_the_head_is_promoted_go_on_down_the_line(table):
    # The case the state machine found: the whole event's party goes, two people wait, both now fit.
    event = hot(3, 2)
    services.sign_up(event.event_id, "fay", guests=2, now=NOW)
    services.sign_up(event.event_id, "ann", now=NOW)
    services.sign_up(event.event_id, "bob", now=NOW)
    assert services.cancel_signup(event.event_id, "fay", now=NOW).promoted.person == "ann"
    page = services.list_signups(event.event_id)
    assert [(s.person, s.status) for s in page.signups] == [("ann", "going"), ("bob", "going")]
    assert (page.going, page.waitlisted, page.seats_taken) == (2, 0, 2)


def test_a_party_takes_seats_split_over_blocks_rather_than_wait_for_them(table):
    event = hot(4, 2)  # 2 + 2
    services.sign_up(event.event_id, "ann", now=NOW)
    party = services.sign_up(event.event_id, "bob", guests=2, now=NOW).signup
    assert party.status == "going"
    counted = services.get_event(event.event_id)
    assert (counted.going, counted.spots_left, counted.seats_taken) == (2, 0, 4)
    assert services.sign_up(event.event_id, "cat", now=NOW).signup.status == "waitlisted"
    # bob's three seats go back, and cat (first in line) takes one of them.
    assert services.cancel_signup(event.event_id, "bob", now=NOW).promoted.person == "cat"
    counted = services.get_event(event.event_id)
    assert (counted.going, counted.waitlisted, counted.spots_left) == (2, 0, 2)


def test_a_party_resizes_on_a_hot_event_and_the_line_moves_up(table):
    event = hot(3, 3)  # a seat a block
    services.sign_up(event.event_id, "ann", guests=1, now=NOW)
    services.sign_up(event.event_id, "bob", now=NOW)
    assert services.sign_up(event.event_id, "cat", now=NOW).signup.status == "waitlisted"
    smaller = services.sign_up(event.event_id, "ann", guests=0, now=NOW)
    assert (smaller.created, smaller.signup.guests) == (False, 0)
    assert services.get_signup(event.event_id, "cat").status == "going"
    with pytest.raises(errors.NoRoomToGrow):
        services.sign_up(event.event_id, "bob", guests=2, now=NOW)


def test_a_hot_event_keeps_its_capacity_but_its_times_and_name_change_on_every_block(table):
    event = hot(4, 2)
    with pytest.raises(errors.NotWithSeatBlocks):
        services.update_event(event.event_id, {"capacity": 8}, now=NOW)
    changed = services.update_event(
        event.event_id, {"signups_close_at": (NOW + timedelta(hours=1)).isoformat()}, now=NOW
    )
    assert changed.seat_blocks == 2 and changed.spots_left == 4
    with pytest.raises(errors.SignupsClosed):
        services.sign_up(event.event_id, "ann", now=NOW + timedelta(hours=2))
    assert services.sign_up(event.event_id, "ann", now=NOW).signup.status == "going"


def test_after_sign_ups_close_a_party_on_a_hot_event_may_shrink_but_not_grow(table):
    event = hot(6, 2)
    services.update_event(event.event_id, {"signups_close_at": (NOW + timedelta(hours=1)).isoformat()}, now=NOW)
    services.sign_up(event.event_id, "ann", guests=1, now=NOW)
    later = NOW + timedelta(hours=2)
    with pytest.raises(errors.SignupsClosed):
        services.sign_up(event.event_id, "ann", guests=2, now=later)
    assert services.sign_up(event.event_id, "ann", guests=0, now=later).signup.guests == 0
    assert services.get_event(event.event_id).spots_left == 5


def test_a_button_bound_to_a_hot_event_is_told_when_the_event_changed(table):
    event = hot(4, 2)
    services.bind_device("G030JF055364XVRB", "melvin", event.event_id, now=NOW)
    services.update_event(event.event_id, {"name": "Gig moved"}, now=NOW)
    press = presses.press_button("G030JF055364XVRB", "SINGLE", request_id="iot:1", now=NOW, invocation="l-1")
    assert (press.outcome, press.event.name) == ("signed_up", "Gig moved")
    assert presses.press_button("G030JF055364XVRB", "SINGLE", request_id="iot:1", now=NOW,
                                 invocation="l-2").answer is False


def test_an_unlimited_hot_event_never_waits(table):
    event = hot(None, 4)
    for n in range(12):
        assert services.sign_up(event.event_id, f"p{n}", now=NOW).signup.status == "going"
    counted = services.get_event(event.event_id)
    assert (counted.going, counted.seats_taken, counted.spots_left, counted.capacity) == (12, 12, None, None)


def test_listing_counts_a_hot_event_in_the_same_batch_read(table):
    event = hot(5, 2)
    services.sign_up(event.event_id, "ann", now=NOW)
    seen: Counter[str] = Counter()
    with hooked(before=lambda operation, params: seen.update([operation])):
        (listed,) = services.list_events(now=NOW).items
    assert (listed.going, listed.spots_left, listed.seat_blocks) == (1, 4, 2)
    assert seen == Counter({"Query": 1, "BatchGetItem": 1})


def test_a_sign_up_with_a_free_seat_on_its_block_is_one_transaction(table):
    event = hot(10, 2)
    seen: Counter[str] = Counter()
    with hooked(before=lambda operation, params: seen.update([operation])):
        services.sign_up(event.event_id, "melvin", now=NOW)
        services.cancel_signup(event.event_id, "melvin", now=NOW)
    assert seen == Counter({"TransactWriteItems": 2})


def test_deleting_a_hot_event_removes_its_blocks(table):
    event = hot(4, 2)
    services.sign_up(event.event_id, "ann", now=NOW)
    services.delete_event(event.event_id)
    with pytest.raises(errors.EventNotFound):
        services.get_event(event.event_id)
    with pytest.raises(errors.EventNotFound):
        services.sign_up(event.event_id, "bob", now=NOW)


@pytest.mark.parametrize("blocks, capacity", [(1, 5), (17, 50), (3, 2), ("2", 5), (True, 5)])
def test_seat_blocks_out_of_range_are_refused(table, blocks, capacity):
    with pytest.raises(errors.InvalidInput):
        hot(capacity, blocks)


def test_the_api_creates_a_hot_event_and_refuses_a_bad_block_count_or_a_capacity_change(table, pinned_clock):
    from tests.support.api import call

    starts = (NOW + timedelta(days=2)).isoformat()
    made = call("POST", "/events", {"name": "Gig", "starts_at": starts, "capacity": 4, "seat_blocks": 2})
    assert (made.status, made.json.get("seat_blocks"), made.json.get("spots_left")) == (201, 2, 4), made.json
    event_id = made.json["event_id"]
    assert call("PUT", f"/events/{event_id}/signups/ann").json["status"] == "going"
    assert call("GET", f"/events/{event_id}").json["going"] == 1
    for bad in (1, 17, "4", 0):
        refused = call("POST", "/events", {"name": "Gig", "starts_at": starts, "capacity": 4, "seat_blocks": bad})
        assert (refused.status, refused.error["code"]) == (400, "InvalidInput")
    too_many = call("POST", "/events", {"name": "Gig", "starts_at": starts, "capacity": 2, "seat_blocks": 3})
    assert too_many.status == 400
    changed = call("PATCH", f"/events/{event_id}", {"capacity": 8})
    assert (changed.status, changed.error["code"]) == (409, "NotWithSeatBlocks")
    assert call("PATCH", f"/events/{event_id}", {"seat_blocks": 4}).status == 400
