"""Why a party waits, told in words (core.lines): a party bigger than the places left hears so - never "the event is
full" when it is not - through the API's message, the skill's sentence and the button's screen alike."""
from __future__ import annotations

from datetime import timedelta

from core import lines, presses, services
from core.values import InLine, SignupOutcome
from iot import device, results
from skills import speech
from skills.whens import when
from tests.support.api import call
from tests.support.clock import PINNED_AT

STARTS = PINNED_AT + timedelta(days=3)


def new_event(capacity: int) -> str:
    return services.create_event(name="Ski trip", starts_at=STARTS.isoformat(), timezone="Europe/Oslo",
                                 capacity=capacity, now=PINNED_AT).event_id


def test_the_api_says_a_party_too_big_for_the_places_left_waits_and_why(table, pinned_clock):
    event = new_event(3)
    assert call("PUT", f"/events/{event}/signups/anna").json["message"] == "You're going."
    bob = call("PUT", f"/events/{event}/signups/bob", {"guests": 2})
    assert (bob.status, bob.json["status"], bob.json["position"]) == (201, "waitlisted", 1)
    assert bob.json["message"] == "2 places are left; your party of 3 doesn't fit, so you're number 1 in line."
    # Meetup's rule: a single who fits is seated past the bigger party, which keeps its place.
    assert call("PUT", f"/events/{event}/signups/cat").json["status"] == "going"
    assert call("PUT", f"/events/{event}/signups/dan").json["status"] == "going"
    eve = call("PUT", f"/events/{event}/signups/eve").json
    assert eve["message"] == "The event is full, so you're number 2 in line."
    again = call("PUT", f"/events/{event}/signups/bob")
    assert (again.status, again.json["message"]) == (200, "You're already number 1 in line.")
    assert call("PUT", f"/events/{event}/signups/anna").json["message"] == "You were already going."


def test_the_skill_says_the_same_facts_in_its_own_words(table):
    event = services.get_event(new_event(3))
    services.sign_up(event.event_id, "anna", now=PINNED_AT)
    outcome = services.sign_up(event.event_id, "bob", guests=2, now=PINNED_AT)
    assert outcome.places_left == 2
    said = speech.signed_up(event, outcome, when(event.starts_at, PINNED_AT))
    assert said.startswith("Ski trip has 2 places left, and your party of 3 doesn't fit, so you're number 1 in line.")
    assert "full" not in said


def test_the_button_says_why_it_waits(table):
    event = new_event(1)
    services.sign_up(event, "anna", now=PINNED_AT)
    services.bind_device("BTN-9", "melvin", event)
    press = presses.press_button("BTN-9", "SINGLE", request_id="click-1", now=PINNED_AT)
    answer = results.of("BTN-9", "click-1", press)
    assert answer["in_line"] == {"reason": "full", "places_left": 0, "party": 1}
    words = device.words(answer)
    assert words.startswith("Ski trip (") and words.endswith("): it's full, so you're number 1 in line.")


def test_the_button_words_a_party_too_big_as_the_api_does():
    answer = {"outcome": "waitlisted", "event_name": "Ski trip", "starts_at": "2026-12-11T07:00:00+01:00",
              "status": "waitlisted", "position": 1, "in_line": {"reason": "too_big", "places_left": 2, "party": 3}}
    assert device.words(answer) == ("Ski trip (Fri 11 Dec 07:00): 2 places are left; your party of 3 doesn't fit, "
                                    "so you're number 1 in line.")


def test_a_replayed_or_older_answer_without_the_facts_still_says_the_place():
    answer = {"outcome": "waitlisted", "event_name": "Ski trip", "position": 4}
    assert device.words(answer) == "Ski trip: you're number 4 in line."
    assert SignupOutcome(None, True).places_left is None  # type: ignore[arg-type]


def test_a_hot_events_blocks_count_the_places_left_too(table):
    event = services.create_event(name="Ski trip", starts_at=STARTS.isoformat(), timezone="Europe/Oslo", capacity=4,
                                  seat_blocks=2, now=PINNED_AT).event_id
    services.sign_up(event, "anna", guests=1, now=PINNED_AT)
    outcome = services.sign_up(event, "bob", guests=2, now=PINNED_AT)
    assert (outcome.signup.status, outcome.places_left) == ("waitlisted", 2)
    assert lines.why_in_line(outcome) == InLine("too_big", 2, 3, 1)
