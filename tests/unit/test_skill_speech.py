"""Unit tests for skills/whens.py and skills/speech.py: times as people say them, short lists, safe SSML."""
from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import errors
from core.values import Event, Signup, SignupOutcome
from skills import speech
from skills.whens import when

DENVER = ZoneInfo("America/Denver")
AUCKLAND = ZoneInfo("Pacific/Auckland")
# Wednesday, December 3rd 2025, 8 am in Denver.
NOW = datetime(2025, 12, 3, 15, 0, tzinfo=timezone.utc)


def said(local: datetime, now: datetime = NOW) -> str:
    return speech.when(when(local, now))


@pytest.mark.parametrize(
    ("starts_at", "expected"),
    [
        (datetime(2025, 12, 3, 10, 30, tzinfo=DENVER), "today at 10:30 am"),
        (datetime(2025, 12, 3, 19, 0, tzinfo=DENVER), "tonight at 7 pm"),
        (datetime(2025, 12, 4, 19, 0, tzinfo=DENVER), "tomorrow at 7 pm"),
        (datetime(2025, 12, 4, 12, 0, tzinfo=DENVER), "tomorrow at noon"),
        (datetime(2025, 12, 5, 7, 0, tzinfo=DENVER), "on Friday at 7 am"),
        (datetime(2025, 12, 9, 0, 0, tzinfo=DENVER), "on Tuesday at midnight"),
        (datetime(2025, 12, 10, 9, 5, tzinfo=DENVER), "on Wednesday, December 10th at 9:05 am"),
        (datetime(2025, 12, 13, 18, 0, tzinfo=DENVER), "on Saturday, December 13th at 6 pm"),
        (datetime(2026, 1, 1, 20, 0, tzinfo=DENVER), "on Thursday, January 1st at 8 pm"),
        (datetime(2026, 12, 5, 18, 0, tzinfo=DENVER), "on Saturday, December 5th, 2026 at 6 pm"),
        (datetime(2025, 12, 2, 19, 0, tzinfo=DENVER), "yesterday at 7 pm"),
    ],
)
def test_times_are_said_as_people_say_them(starts_at, expected):
    assert said(starts_at) == expected


def test_days_are_counted_on_the_events_calendar_not_utcs():
    # 10:30 pm in Denver is already tomorrow in UTC; 7 am next morning is still "tomorrow" in Denver.
    late_evening = datetime(2025, 12, 4, 5, 30, tzinfo=timezone.utc)
    assert said(datetime(2025, 12, 4, 7, 0, tzinfo=DENVER), late_evening) == "tomorrow at 7 am"
    # 9 am in Auckland is still the previous day in UTC; 7 pm in Auckland is tonight there.
    auckland_morning = datetime(2025, 12, 3, 20, 0, tzinfo=timezone.utc)
    assert said(datetime(2025, 12, 4, 19, 0, tzinfo=AUCKLAND), auckland_morning) == "tonight at 7 pm"


def test_the_start_is_said_on_the_events_own_clock_across_daylight_saving():
    # Denver springs forward on March 8th 2026: 7 pm that evening is still "7 pm".
    saturday = datetime(2026, 3, 7, 17, 0, tzinfo=timezone.utc)
    assert said(datetime(2026, 3, 8, 19, 0, tzinfo=DENVER), saturday) == "tomorrow at 7 pm"


@pytest.mark.parametrize(
    ("day", "expected"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"),
     (21, "21st"), (22, "22nd"), (23, "23rd"), (30, "30th"), (31, "31st")],
)
def test_ordinals(day, expected):
    assert speech.ordinal(day) == expected


def event(name: str = "Ski trip", **changes) -> Event:
    base = Event(
        event_id="ski", name=name, starts_at=datetime(2025, 12, 5, 7, 0, tzinfo=DENVER), ends_at=None,
        timezone="America/Denver", location="Eldora", description=None, capacity=None, going=0, waitlisted=0,
        spots_left=None, seats_taken=0, created_at=NOW,
    )
    return base._replace(**changes)


def signup(person: str, name: str | None = None, **changes) -> Signup:
    base = Signup(event_id="ski", person=person, name=name, guests=0, status="going", position=None,
                  source="alexa", signed_up_at=NOW, checked_in_at=None)
    return base._replace(**changes)


@pytest.mark.parametrize(
    ("spoken", "total", "expected"),
    [
        (["Melvin"], 1, "Melvin"),
        (["Melvin", "Ann"], 2, "Melvin and Ann"),
        (["Melvin", "Ann", "Bob"], 3, "Melvin, Ann and Bob"),
        (["Melvin", "Ann", "Bob"], 4, "Melvin, Ann, Bob and 1 other"),
        (["Melvin", "Ann", "Bob"], 9, "Melvin, Ann, Bob and 6 others"),
    ],
)
def test_lists_stop_after_a_few_names(spoken, total, expected):
    assert speech.names(spoken, total) == expected


def test_who_is_going_says_three_names_the_rest_as_a_count_and_the_waitlist():
    going = [signup("melvin-moose", "Melvin Moose"), signup("ann", "Ann"), signup("bob-smith"), signup("cy", "Cy")]
    text = speech.who_is_going(event(), going, going_total=7, waitlisted=2, seats_taken=7)
    assert text == "Melvin Moose, Ann, Bob Smith and 4 others are going to Ski trip. 2 more are on the waitlist."


@pytest.mark.parametrize(
    ("going", "waitlisted", "expected"),
    [
        (0, 0, "Nobody is going to Ski trip yet."),
        (1, 0, "Melvin is going to Ski trip."),
        (1, 1, "Melvin is going to Ski trip. 1 more is on the waitlist."),
    ],
)
def test_who_is_going_agrees_in_number(going, waitlisted, expected):
    people = [signup("melvin", "Melvin")][:going]
    assert speech.who_is_going(event(), people, going, waitlisted, going) == expected


def test_who_is_going_counts_the_guests_as_people_too():
    going = [signup("anna", "Anna Berg"), signup("melvin", "Melvin")]
    text = speech.who_is_going(event(), going, going_total=2, waitlisted=0, seats_taken=4)
    assert text == "Anna Berg and Melvin are going to Ski trip, with 2 guests: 4 people in all."
    assert (
        speech.who_is_going(event(), going[:1], 1, 0, 2)
        == "Anna Berg is going to Ski trip, with 1 guest: 2 people in all."
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "Nobody is going to Ski trip yet."),
        ({"going": 1, "seats_taken": 1}, "1 person is going to Ski trip."),
        ({"going": 12, "seats_taken": 12, "capacity": 15, "spots_left": 3},
         "12 people are going to Ski trip. 3 spots left."),
        ({"going": 14, "seats_taken": 14, "capacity": 15, "spots_left": 1},
         "14 people are going to Ski trip. 1 spot left."),
        ({"going": 15, "seats_taken": 15, "capacity": 15, "spots_left": 0, "waitlisted": 2},
         "15 people are going to Ski trip. It's full. 2 more are on the waitlist."),
        # Guests take seats: 2 signups with 2 guests are 4 people, and what is left is counted in seats.
        ({"going": 2, "seats_taken": 4, "capacity": 5, "spots_left": 1},
         "4 people are going to Ski trip: 2 signups and 2 guests. 1 spot left."),
        ({"going": 1, "seats_taken": 2}, "2 people are going to Ski trip: 1 signup and 1 guest."),
    ],
)
def test_how_many(changes, expected):
    assert speech.how_many(event(**changes)) == expected


def test_coming_up_says_three_events_and_that_there_are_more():
    upcoming = [(event(name), when(event(name).starts_at, NOW)) for name in ("Ski trip", "Book club", "Potluck")]
    assert speech.coming_up(upcoming, more=True) == (
        "Next up: Ski trip, on Friday at 7 am. Then Book club, on Friday at 7 am. "
        "Then Potluck, on Friday at 7 am. And more after that."
    )
    assert speech.coming_up([], more=False) == speech.NO_EVENTS


def test_when_is_says_started_once_the_event_has_begun():
    started = event(starts_at=datetime(2025, 12, 3, 7, 0, tzinfo=DENVER))
    assert speech.when_is(started, when(started.starts_at, NOW)) == "Ski trip started today at 7 am."
    assert speech.when_is(event(), when(event().starts_at, NOW)) == "Ski trip is on Friday at 7 am."


def test_sign_up_outcomes():
    moment = when(event().starts_at, NOW)
    going = signup("melvin")
    waiting = signup("melvin", status="waitlisted", position=3)
    assert speech.signed_up(event(), SignupOutcome(going, True), moment) == \
        "You're going to Ski trip, on Friday at 7 am. See you there!"
    assert speech.signed_up(event(), SignupOutcome(going, False), moment) == \
        "You're already going to Ski trip, on Friday at 7 am."
    assert speech.signed_up(event(), SignupOutcome(waiting, True, places_left=0), moment).startswith(
        "Ski trip is full, so you're number 3 in line.")
    party_of_3 = waiting._replace(guests=2, position=1)
    assert speech.signed_up(event(), SignupOutcome(party_of_3, True, places_left=2), moment).startswith(
        "Ski trip has 2 places left, and your party of 3 doesn't fit, so you're number 1 in line.")
    assert speech.signed_up(event(), SignupOutcome(party_of_3, True, places_left=1), moment).startswith(
        "Ski trip has 1 place left, and your party of 3")
    assert speech.signed_up(event(), SignupOutcome(waiting, False), moment) == \
        "You're already on the waitlist for Ski trip, number 3."


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (errors.NoUpcomingEvent(), speech.NO_EVENTS),
        (errors.EventNotFound("ski"), speech.EVENT_GONE),
        (errors.NotSignedUp("ski", "melvin"), speech.NO_SIGNUP),
        (errors.EventOver("ski"), speech.LIST_CLOSED),
        (errors.EventFull("ski"), speech.EVENT_FULL),
        (errors.SignupsClosed("ski", datetime.fromisoformat("2026-12-04T07:00:00+01:00")), speech.SIGNUPS_CLOSED),
        (errors.PairingCodeInvalid(), speech.CODE_INVALID),
        (errors.PairingLocked(30), "Too many wrong codes. Please try again in a minute."),
        (errors.PairingLocked(900), "Too many wrong codes. Please try again in 15 minutes."),
        (errors.PairingLocked(61), "Too many wrong codes. Please try again in 2 minutes."),
        (errors.Busy(), speech.BUSY),
        (errors.InvalidInput("nope"), speech.NOT_DONE),
    ],
)
def test_each_domain_error_has_its_sentence(error, expected):
    assert speech.for_error(error) == expected


# --- SSML safety ---------------------------------------------------------------------------

def parse(ssml_body: str) -> str:
    """Parses the text as Alexa would (it is XML) and returns what would be read."""
    return "".join(ElementTree.fromstring(f"<speak>{ssml_body}</speak>").itertext())


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("Tom & Jerry", "Tom & Jerry"),
        ("<break time='10s'/>Ski", "<break time='10s'/>Ski"),
        ('Ann "The Axe" Lee', 'Ann "The Axe" Lee'),
        ("Bob O'Hara", "Bob O'Hara"),
        ("🎿 Ski trip 🎉", "Ski trip"),
        ("Zoë & Chloé", "Zoë & Chloé"),
        ("Family 👨\u200d👩\u200d👧 day", "Family day"),
        ("tab\there\nnewline", "tab here newline"),
        ("]]><speak>", "]]><speak>"),
    ],
)
def test_typed_text_is_read_as_typed_and_never_breaks_the_ssml(typed, read):
    text = speech.who_is_going(event(typed), [signup("x", typed)], 1, 0, 1)
    assert parse(text) == f"{read} is going to {read}."


def test_text_that_is_only_emoji_falls_back_to_something_sayable():
    assert speech.who_is_going(event("🎉🎉"), [signup("melvin-moose", "🎿")], 1, 0, 1) == \
        "Melvin Moose is going to that event."


@settings(max_examples=500, deadline=None)
@given(typed=st.text(max_size=60))
def test_any_text_at_all_stays_well_formed_ssml(typed):
    for text in (speech.escape(typed), speech.where_is(event(typed, location=typed)), speech.no_such_event(typed)):
        parse(text)


def escape_char_by_char(text: str) -> str:
    """escape() as first written, one character at a time: what its shortcut for plain ASCII must agree with."""
    kept = speech._VARIATION_SELECTORS.sub("", unicodedata.normalize("NFC", text))
    kept = "".join(" " if ch.isspace() else ch for ch in kept
                   if ch.isspace() or unicodedata.category(ch) not in speech._UNSPOKEN_CATEGORIES)
    entities = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
    return "".join(entities.get(ch, ch) for ch in " ".join(kept.split()))


@pytest.mark.parametrize("typed", ["Ski trip", "  Ski   trip ", "Tom & Jerry <3", "a^b`c", "tab\there", "bell\x07",
                                   "del\x7f", "\x1c\x1f", "Zoë", "🎉", "", "O'Hara \"Big\""])
def test_escape_reads_plain_ascii_as_the_character_by_character_rule_does(typed):
    assert speech.escape(typed) == escape_char_by_char(typed)


@settings(max_examples=1000, deadline=None)
@given(typed=st.text(alphabet=st.one_of(st.characters(max_codepoint=127), st.characters()), max_size=40))
def test_escape_agrees_with_the_character_by_character_rule_on_any_text(typed):
    assert speech.escape(typed) == escape_char_by_char(typed)
