"""How many DynamoDB calls each user action costs: the table design's promise, kept by a test."""
from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest

from core import errors, presses, services
from tests.support.clock import PINNED_AT
from tests.support.dynamodb_calls import hooked

NOW = PINNED_AT


@pytest.fixture
def calls(table):
    seen: Counter[str] = Counter()

    def count(operation, params):
        seen[operation] += 1

    with hooked(before=count):
        yield seen


def event_with(capacity, *persons):
    event = services.create_event(
        name="Ski trip", starts_at=(NOW + timedelta(days=2)).isoformat(), capacity=capacity, now=NOW
    )
    for person in persons:
        services.sign_up(event.event_id, person, now=NOW)
    return event


def test_sign_up_with_a_free_seat_is_one_transaction(calls):
    event = event_with(10)
    calls.clear()
    services.sign_up(event.event_id, "melvin", now=NOW)
    assert calls == Counter({"TransactWriteItems": 1})


def test_signing_up_again_is_one_call(calls):
    event = event_with(10, "melvin")
    calls.clear()
    assert not services.sign_up(event.event_id, "melvin", now=NOW).created
    assert calls == Counter({"TransactWriteItems": 1})


def test_counts_and_the_first_page_are_one_query_when_the_page_reaches_the_event_item(calls):
    event = event_with(2, "ann", "bob", "cat")
    calls.clear()
    page = services.list_signups(event.event_id)
    assert (page.going, page.waitlisted, [s.person for s in page.signups]) == (2, 1, ["ann", "bob", "cat"])
    assert calls == Counter({"Query": 1})


@pytest.mark.parametrize("status", [None, "going"])
def test_a_page_that_stops_before_the_event_item_reads_the_event_for_its_counts(calls, status):
    # A page reads two items past its own (to see whether more follow, and the event item if it is next).
    event = event_with(4, "ann", "bob", "cat", "dan", "eve")
    calls.clear()
    page = services.list_signups(event.event_id, status=status, limit=2)
    assert (page.going, page.waitlisted, [s.person for s in page.signups]) == (4, 1, ["ann", "bob"])
    assert page.next_cursor is not None
    assert calls == Counter({"Query": 1, "GetItem": 1})


def test_the_waitlist_page_starts_at_the_event_item_so_it_is_one_query(calls):
    event = event_with(1, "ann", "bob", "cat")
    calls.clear()
    page = services.list_signups(event.event_id, status="waitlisted", limit=1)
    assert (page.going, page.waitlisted, [(s.person, s.position) for s in page.signups]) == (1, 2, [("bob", 1)])
    assert calls == Counter({"Query": 1})
    rest = services.list_signups(event.event_id, status="waitlisted", limit=1, cursor=page.next_cursor)
    assert [(s.person, s.position) for s in rest.signups] == [("cat", 2)] and rest.next_cursor is None


def test_listing_an_event_that_does_not_exist_is_refused(calls):
    with pytest.raises(errors.EventNotFound):
        services.list_signups("nosuchevent")


def test_one_event_with_its_counts_is_one_read(calls):
    event = event_with(2, "ann")
    calls.clear()
    assert services.get_event(event.event_id).going == 1
    assert calls == Counter({"GetItem": 1})


def test_a_page_for_an_event_already_read_is_one_query(calls):
    event = event_with(2, "ann", "bob", "cat")
    known = services.get_event(event.event_id)
    calls.clear()
    page = services.list_signups(event.event_id, status="going", event=known)
    assert [s.person for s in page.signups] == ["ann", "bob"]
    assert (page.going, page.waitlisted) == (2, 1)
    assert calls == Counter({"Query": 1})


def test_an_event_given_for_another_id_is_refused(table):
    first, second = event_with(2), event_with(2)
    with pytest.raises(errors.InvalidInput):
        services.list_signups(first.event_id, event=services.get_event(second.event_id))


def test_a_sign_up_press_of_a_button_bound_to_an_event_is_a_read_and_one_transaction(calls):
    # The binding carries the person's name (issue 17), so the press reads no profile.
    event = event_with(10, "ann")
    services.bind_device("G030JF055364XVRB", "melvin", event.event_id)
    services.set_person("melvin", name="Melvin Moose")
    calls.clear()
    press = presses.press_button("G030JF055364XVRB", "SINGLE", request_id="iot:G030JF055364XVRB:click:1", now=NOW,
                                  invocation="lambda-1")
    assert (press.outcome, press.answer, press.event.name) == ("signed_up", True, "Ski trip")
    assert calls == Counter({"GetItem": 1, "TransactWriteItems": 1})
    assert services.get_signup(event.event_id, "melvin").name == "Melvin Moose"


def test_a_button_carries_the_name_its_person_sets_later_but_not_after_it_is_taken_over(calls):
    event = event_with(10)
    services.set_person("melvin", name="Melvin")
    services.bind_device("G030JF055364XVRB", "melvin", event.event_id)
    assert services.get_device("G030JF055364XVRB").person_name == "Melvin"
    calls.clear()
    services.set_person("melvin", name="Melvin Moose")
    # The profile, the query of the buttons it remembers, one conditional update each: no read of the bindings.
    assert calls == Counter({"PutItem": 1, "Query": 1, "UpdateItem": 1})
    assert services.get_device("G030JF055364XVRB").person_name == "Melvin Moose"
    services.bind_device("G030JF055364XVRB", "anna", event.event_id)
    services.set_person("melvin", name="Melvin M.")
    assert services.get_device("G030JF055364XVRB").person_name is None
    services.set_person("melvin")
    services.bind_device("G030JF055364XVRC", "melvin", event.event_id)
    assert services.get_device("G030JF055364XVRC").person_name is None


def test_a_self_cancel_and_an_organizers_cost_the_same_the_word_to_the_person_inside_the_transaction(calls):
    event = event_with(10, "ann", "bob")
    calls.clear()
    services.cancel_signup(event.event_id, "ann", now=NOW)
    assert calls == Counter({"Query": 1, "TransactWriteItems": 1})
    calls.clear()
    services.cancel_signup_for(event.event_id, "bob", now=NOW)
    assert calls == Counter({"Query": 1, "TransactWriteItems": 1})  # the word to bob is in the transaction


def test_joining_the_line_hands_back_the_event_with_the_refusal_so_it_reads_nothing_more(calls):
    event = event_with(1, "ann")
    calls.clear()
    outcome = services.sign_up(event.event_id, "melvin", now=NOW)
    assert (outcome.signup.status, outcome.signup.position) == ("waitlisted", 1)
    # The seat path refused (its event comes back with the refusal), the line path taken, the place counted.
    assert calls == Counter({"TransactWriteItems": 2, "Query": 1})


def test_a_cancel_promotes_in_a_query_and_one_transaction(calls):
    event = event_with(1, "ann", "bob")
    calls.clear()
    cancellation = services.cancel_signup(event.event_id, "ann", now=NOW)
    assert (cancellation.cancelled.person, cancellation.cancelled.status, cancellation.promoted.person) == (
        "ann", "going", "bob")
    assert calls == Counter({"Query": 1, "TransactWriteItems": 1})


@pytest.mark.parametrize("who, guests", [("ann", 2), ("bob", 0), ("cat", 0)])
def test_a_cancel_that_is_not_the_usual_case_goes_on_from_the_signup_it_was_handed(calls, who, guests):
    # ann is going with two guests; bob is first in line, cat behind him.
    event = services.create_event(name="Ski trip", starts_at=(NOW + timedelta(days=2)).isoformat(), capacity=3, now=NOW)
    services.sign_up(event.event_id, "ann", guests=2, now=NOW)
    for person in ("bob", "cat"):
        services.sign_up(event.event_id, person, now=NOW)
    calls.clear()

    cancellation = services.cancel_signup(event.event_id, who, now=NOW)
    made = Counter(calls)

    assert (cancellation.cancelled.person, cancellation.cancelled.guests) == (who, guests)
    assert cancellation.cancelled.status == ("going" if who == "ann" else "waitlisted")
    after = services.get_event(event.event_id)
    if who == "ann":
        # Three seats freed: bob, then cat, promoted (the second by the refill after the cancel).
        assert (after.going, after.waitlisted, after.spots_left) == (2, 0, 1)
        assert made["GetItem"] == 0  # neither the signup nor, for the refill, the event: the line's query reads it
    elif who == "bob":
        assert (after.going, after.waitlisted) == (1, 1)
        assert made == Counter({"Query": 1, "TransactWriteItems": 1})  # first in line: the line's query read him
    else:
        assert (after.going, after.waitlisted) == (1, 1)
        assert made == Counter({"Query": 2, "TransactWriteItems": 2})  # the refused guess handed her back


def test_cancelling_nobody_reads_nothing_but_the_line(calls):
    event = event_with(1, "ann")
    calls.clear()
    with pytest.raises(errors.NotSignedUp):
        services.cancel_signup(event.event_id, "zed", now=NOW)
    assert calls == Counter({"Query": 1, "TransactWriteItems": 1})


def test_a_bigger_party_is_the_refused_sign_up_then_one_transaction(calls):
    event = event_with(10, "melvin")
    calls.clear()
    assert services.sign_up(event.event_id, "melvin", guests=2, now=NOW).signup.guests == 2
    assert calls == Counter({"TransactWriteItems": 2})


def test_listing_events_with_their_counts_is_a_query_and_one_batch_read(calls):
    first, second = event_with(2, "ann", "bob", "cat"), event_with(None, "dan")
    calls.clear()
    listed = services.list_events(now=NOW).items
    assert {(e.event_id, e.going, e.waitlisted, e.seats_taken, e.spots_left) for e in listed} == {
        (first.event_id, 2, 1, 2, 0), (second.event_id, 1, 0, 1, None)}
    assert all(e.counted for e in listed)
    assert calls == Counter({"Query": 1, "BatchGetItem": 1})


def test_listing_events_without_counts_is_one_query_and_says_it_did_not_count(calls):
    event_with(2, "ann")
    calls.clear()
    (listed,) = services.list_events(now=NOW, counts=False).items
    assert (listed.name, listed.counted, listed.going) == ("Ski trip", False, 0)
    assert calls == Counter({"Query": 1})


def test_no_sign_up_cancel_or_promotion_changes_an_attribute_the_listing_index_holds(table):
    # A global index is written only when a write changes an attribute it projects (or its keys), so this keeps
    # every sign-up off by_start's one partition.
    from core.table import LISTED, TurnoutItem

    held = set(LISTED) | {TurnoutItem.start_partition.attr_name, TurnoutItem.start_order.attr_name}
    touched: set[str] = set()

    def record(operation, params):
        if operation == "TransactWriteItems":
            for part in params["TransactItems"]:
                for kind, write in part.items():
                    if kind == "Update" and write["Key"]["sk"]["S"] == "EVENT":
                        names = write["ExpressionAttributeNames"]
                        touched.update(names[token] for token in re.findall(r"#\d+", write["UpdateExpression"]))

    event = event_with(2)
    with hooked(before=record):
        for person in ("ann", "bob", "cat", "dan"):
            services.sign_up(event.event_id, person, now=NOW)
        services.sign_up(event.event_id, "ann", guests=0, now=NOW)
        services.cancel_signup(event.event_id, "ann", now=NOW)
        services.cancel_signup(event.event_id, "dan", now=NOW)
    assert {"going", "waitlisted", "seats_left"} <= touched
    assert not touched & held
