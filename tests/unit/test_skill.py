"""Unit tests for skills/handler.py: Alexa envelopes through the real ask-sdk pipeline, on moto in-process."""
from __future__ import annotations

import logging
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from ask_sdk_core.exceptions import SerializationException
from ask_sdk_runtime.exceptions import AskSdkException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import errors, services
from core.config import settings as config
from skills import handler, speech
from tests.fixtures.alexa import NAMES, SKILL_ID, USER_ID, envelope
from tests.fixtures.alexa import speech as spoken

ROOT = Path(__file__).resolve().parents[2]
DENVER = ZoneInfo("America/Denver")
CONTEXT = SimpleNamespace(function_name="turnout-skill", aws_request_id="test-invocation")
STRANGER = "amzn1.ask.account.AMAQ4TURNOUTTESTUSERSTRANGER0000000000000000000000"


@pytest.fixture(autouse=True)
def verified_skill(monkeypatch):
    """Every test runs with the skill id checked, as in AWS."""
    monkeypatch.setattr(handler.skill_builder, "skill_id", SKILL_ID)


@pytest.fixture
def now():
    """The moment of the test's requests, which the event times are set from."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def ask(name: str, **kwargs) -> dict:
    return handler.lambda_handler(envelope(name, **kwargs), CONTEXT)


def said(name: str, **kwargs) -> str:
    ssml = spoken(ask(name, **kwargs))
    ElementTree.fromstring(ssml)  # every answer must be well-formed SSML
    return ssml.removeprefix("<speak>").removesuffix("</speak>")


def local_time(now: datetime, days: int, hour: int, minute: int = 0) -> str:
    """ISO text for `hour:minute`, `days` after the request's date, on Denver's clock."""
    day = now.astimezone(DENVER).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute).isoformat()


def ski_trip(now, **fields):
    return services.create_event(name="Ski trip", starts_at=local_time(now, 1, 19), timezone="America/Denver",
                                 location="Eldora Mountain", **fields)


def link(person: str, user_id: str = USER_ID) -> None:
    code = services.issue_pairing_code(person).code
    assert said("link_account", slots={"code": code}, user_id=user_id) == speech.linked(person)


# --- Launch, built-ins, session end ---------------------------------------------------------

def test_launch_welcomes_and_listens(table):
    response = ask("launch")["response"]
    assert spoken({"response": response}) == f"<speak>{speech.LAUNCH}</speak>"
    assert response["reprompt"]["outputSpeech"]["ssml"] == f"<speak>{speech.LAUNCH_REPROMPT}</speak>"
    assert response["shouldEndSession"] is False


@pytest.mark.parametrize(("name", "text", "ends"), [
    ("help", speech.HELP, False),
    ("fallback", speech.FALLBACK, False),
    ("stop", speech.GOODBYE, True),
    ("cancel", speech.GOODBYE, True),
])
def test_built_in_intents(table, name, text, ends):
    response = ask(name)["response"]
    assert response["outputSpeech"]["ssml"] == f"<speak>{text}</speak>"
    assert response["shouldEndSession"] is ends


def test_navigate_home_leaves_quietly(table):
    assert ask("navigate_home")["response"] == {"shouldEndSession": True}


def test_session_ended_gets_an_empty_response(table):
    answer = ask("session_ended")
    assert answer["version"] == "1.0"
    assert answer["response"] == {}


# --- Who is going, how many, what's on, when and where ---------------------------------------

def test_who_is_going_to_the_ski_trip(table, now):
    trip = ski_trip(now, capacity=5)
    services.create_event(name="Book club", starts_at=local_time(now, 0, 23, 30), timezone="America/Denver")
    for person, name in [("melvin-moose", "Melvin Moose"), ("ann", "Ann Lee"), ("bob", "Bob"), ("cy", None),
                         ("dee", "Dee"), ("eve", "Eve"), ("fay", "Fay")]:
        services.sign_up(trip.event_id, person, name=name)
    assert said("who_is_going") == (
        "Melvin Moose, Ann Lee, Bob and 2 others are going to Ski trip. 2 more are on the waitlist.")


def test_who_is_going_with_no_event_named_means_the_next_one(table, now):
    trip = ski_trip(now)
    services.create_event(name="Book club", starts_at=local_time(now, 3, 19), timezone="America/Denver")
    services.sign_up(trip.event_id, "melvin-moose")
    assert said("who_is_going_no_event") == "Melvin Moose is going to Ski trip."


def test_who_is_going_when_nobody_is(table, now):
    ski_trip(now)
    assert said("who_is_going") == "Nobody is going to Ski trip yet."


def test_how_many_going(table, now):
    trip = ski_trip(now, capacity=3)
    for person in ("a", "b", "c", "d"):
        services.sign_up(trip.event_id, person)
    expected = "3 people are going to Ski trip. It's full. 1 more is on the waitlist."
    assert said("how_many_going") == expected
    assert said("how_many_going_no_event") == expected


def test_whats_coming_up_says_three_and_that_there_are_more(table, now):
    for days, name in enumerate(["Ski trip", "Book club", "Potluck", "Pub quiz"], start=1):
        services.create_event(name=name, starts_at=local_time(now, days, 19), timezone="America/Denver")
    text = said("whats_coming_up")
    assert text.startswith("Next up: Ski trip, tomorrow at 7 pm. Then Book club, on ")
    assert "Then Potluck" in text and "Pub quiz" not in text
    assert text.endswith("And more after that.")


def test_whats_coming_up_with_nothing_planned(table, now):
    assert said("whats_coming_up") == speech.NO_EVENTS


def test_when_is_the_ski_trip_is_said_in_the_events_own_zone(table, now):
    ski_trip(now)
    assert said("when_is_event") == "Ski trip is tomorrow at 7 pm."
    assert said("when_is_event_no_event") == "Ski trip is tomorrow at 7 pm."


def test_where_is_the_ski_trip(table, now):
    ski_trip(now)
    services.create_event(name="Book club", starts_at=local_time(now, 0, 23, 45), timezone="America/Denver")
    assert said("where_is_event") == "Ski trip is at Eldora Mountain."  # "skiing"
    assert said("where_is_event_no_event") == "Book club has no place set yet."


def test_two_events_that_fit_make_the_skill_ask_which_then_answer(table, now):
    ski_trip(now)
    lessons = services.create_event(name="Ski lessons", starts_at=local_time(now, 2, 9),
                                    timezone="America/Denver")
    services.sign_up(lessons.event_id, "ann", name="Ann Lee")
    answer = ask("who_is_going", slots={"event": "ski"})["response"]
    assert answer["outputSpeech"]["ssml"].startswith(
        "<speak>Which one: Ski trip, tomorrow at 7 pm, or Ski lessons, on ")
    assert answer["shouldEndSession"] is False
    (directive,) = answer["directives"]
    assert directive["type"] == "Dialog.ElicitSlot"
    assert directive["slotToElicit"] == "event"
    assert directive["updatedIntent"]["name"] == "WhoIsGoing"
    # Alexa sends the bare answer back to the same intent.
    assert said("who_is_going", slots={"event": "ski lessons"}) == "Ann Lee is going to Ski lessons."


def test_an_event_that_fits_nothing_is_said_back(table, now):
    ski_trip(now)
    assert said("who_is_going", slots={"event": "pottery & wine"}) == \
        "I couldn't find an event called pottery &amp; wine. You can ask what's coming up."


@pytest.mark.parametrize("name", ["who_is_going", "who_is_going_no_event", "how_many_going", "when_is_event",
                                  "where_is_event_no_event"])
def test_no_events_at_all(table, name):
    assert said(name) == speech.NO_EVENTS


# --- Linking, signing up, cancelling ---------------------------------------------------------

@pytest.mark.parametrize("name", ["sign_up", "sign_up_no_event", "cancel_signup", "cancel_signup_no_event"])
def test_an_unlinked_user_is_told_how_to_link(table, now, name):
    ski_trip(now)
    response = ask(name)["response"]
    assert response["outputSpeech"]["ssml"] == f"<speak>{speech.NOT_LINKED}</speak>"
    assert "/people/{your-handle}/alexa-code" in response["card"]["content"]


def test_a_linked_user_signs_up_and_cancels_by_voice(table, now):
    trip = ski_trip(now)
    link("melvin-moose")
    assert said("sign_up") == "You're going to Ski trip, tomorrow at 7 pm. See you there!"
    signup = services.get_signup(trip.event_id, "melvin-moose")
    assert (signup.status, signup.source) == ("going", "alexa")
    assert said("sign_up") == "You're already going to Ski trip, tomorrow at 7 pm."
    assert said("who_is_going") == "Melvin Moose is going to Ski trip."
    assert said("cancel_signup") == "Cancel your signup for Ski trip tomorrow at 7 pm?"
    assert services.get_signup(trip.event_id, "melvin-moose").status == "going"
    assert said("cancel_signup_confirmed") == "Done. You're off the list for Ski trip."
    with pytest.raises(errors.NotSignedUp):
        services.get_signup(trip.event_id, "melvin-moose")
    assert said("cancel_signup_no_event") == speech.NO_SIGNUP


def test_cancelling_by_voice_asks_with_alexas_confirmation_and_a_no_keeps_the_signup(table, now):
    trip = ski_trip(now)
    link("melvin-moose")
    said("sign_up")
    response = ask("cancel_signup")["response"]
    (directive,) = response["directives"]
    assert directive["type"] == "Dialog.ConfirmIntent"
    assert directive["updatedIntent"]["slots"]["event"]["value"] == "Ski trip"
    assert response["shouldEndSession"] is False
    assert said("cancel_signup_denied") == "Okay, you're still on the list for Ski trip."
    assert services.get_signup(trip.event_id, "melvin-moose").status == "going"


def test_no_event_named_or_only_the_means_the_next_event_you_are_signed_up_for_and_a_check_in_is_named(table, now):
    soonest = services.create_event(name="Pub quiz", starts_at=(now + timedelta(hours=1)).isoformat(),
                                    timezone="America/Denver")
    breakfast = services.create_event(name="Breakfast", starts_at=(now + timedelta(minutes=90)).isoformat(),
                                      timezone="America/Denver")
    link("melvin-moose")
    services.sign_up(breakfast.event_id, "melvin-moose")
    services.check_in(breakfast.event_id, "melvin-moose")
    for slots in ({"event": "the"}, {"event": None}):
        question = said("cancel_signup", slots=slots)
        assert question.startswith("You're checked in there, and cancelling undoes that. "
                                   "Cancel your signup for Breakfast")
    with pytest.raises(errors.NotSignedUp):
        services.get_signup(soonest.event_id, "melvin-moose")
    assert services.get_signup(breakfast.event_id, "melvin-moose").checked_in_at is not None
    assert said("cancel_signup", slots={"event": "pub quiz"}) == speech.NO_SIGNUP


def test_a_reused_request_id_is_refused_rather_than_answered_with_another_requests_outcome(table, now):
    quiz = services.create_event(name="Pub quiz", starts_at=local_time(now, 1, 19), timezone="America/Denver")
    games = services.create_event(name="Board game night", starts_at=local_time(now, 2, 19), timezone="America/Denver")
    link("melvin-moose")
    first = envelope("sign_up", slots={"event": "pub quiz"})
    assert spoken(handler.lambda_handler(first, CONTEXT)).startswith("<speak>You're going to Pub quiz")
    said("cancel_signup_confirmed", slots={"event": "pub quiz"})
    again = envelope("sign_up", slots={"event": "board game night"})
    again["request"]["requestId"] = first["request"]["requestId"]

    assert spoken(handler.lambda_handler(again, CONTEXT)) == f"<speak>{speech.REQUEST_REUSED}</speak>"
    for event in (quiz, games):
        with pytest.raises(errors.NotSignedUp):
            services.get_signup(event.event_id, "melvin-moose")


def test_signing_up_for_a_full_event_joins_the_waitlist(table, now):
    trip = ski_trip(now, capacity=1)
    services.sign_up(trip.event_id, "ann")
    link("melvin-moose")
    assert said("sign_up_no_event").startswith("Ski trip is full, so you're number 1 in line.")
    assert services.get_signup(trip.event_id, "melvin-moose").status == "waitlisted"


def test_cancelling_promotes_the_first_on_the_waitlist(table, now):
    trip = ski_trip(now, capacity=1)
    link("melvin-moose")
    said("sign_up")
    services.sign_up(trip.event_id, "ann", name="Ann Lee")
    said("cancel_signup_confirmed")
    assert said("who_is_going") == "Ann Lee is going to Ski trip."


def test_link_account_without_a_code_asks_for_it(table):
    response = ask("link_account_no_code")["response"]
    assert response["outputSpeech"]["ssml"] == f"<speak>{speech.ASK_CODE}</speak>"
    (directive,) = response["directives"]
    assert (directive["type"], directive["slotToElicit"]) == ("Dialog.ElicitSlot", "code")
    assert response["shouldEndSession"] is False


def test_a_code_works_once(table):
    code = services.issue_pairing_code("melvin-moose").code
    assert said("link_account", slots={"code": code}) == speech.linked("melvin-moose")
    assert said("link_account", slots={"code": code}, user_id=STRANGER) == speech.CODE_INVALID
    with pytest.raises(errors.NotLinked):
        services.linked_person(STRANGER)


def test_a_code_said_with_a_leading_zero_still_links(table):
    # AMAZON.NUMBER hears "oh four eight two one three" as 48213.
    for _ in range(300):
        code = services.issue_pairing_code("melvin-moose").code
        if code.startswith("0"):
            break
    else:
        pytest.fail("no code with a leading zero in 300 tries")
    assert said("link_account", slots={"code": str(int(code))}) == speech.linked("melvin-moose")
    assert services.linked_person(USER_ID) == "melvin-moose"


def test_repeated_wrong_codes_lock_linking_even_with_the_right_code(table, now):
    ski_trip(now)
    code = services.issue_pairing_code("melvin-moose").code
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(config.pairing_max_misses):
        assert said("link_account", slots={"code": wrong}) == speech.CODE_INVALID
    locked = said("link_account", slots={"code": code})
    assert locked == speech.code_locked(config.pairing_lock_minutes * 60)
    assert said("sign_up") == speech.NOT_LINKED


# --- Skill id, errors, well-formedness -------------------------------------------------------

def test_a_request_for_another_skill_is_refused(table):
    with pytest.raises(AskSdkException, match="Skill ID Verification failed"):
        ask("wrong_skill")


def test_without_a_configured_skill_id_the_local_stack_answers_any(table, monkeypatch):
    monkeypatch.setattr(handler.skill_builder, "skill_id", None)
    assert said("wrong_skill") == speech.NO_EVENTS


def test_an_unexpected_error_is_a_spoken_apology(table, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the table fell over")
    monkeypatch.setattr(services, "list_events", broken)
    response = ask("who_is_going")["response"]
    assert response["outputSpeech"]["ssml"] == f"<speak>{speech.APOLOGY}</speak>"
    assert response["shouldEndSession"] is True


def test_a_busy_table_is_said_as_busy(table, monkeypatch):
    def busy(**kwargs):
        raise errors.Busy()
    monkeypatch.setattr(services, "list_events", busy)
    assert said("how_many_going") == speech.BUSY


def test_a_handler_reading_an_undeclared_slot_fails_loudly(table, monkeypatch):
    monkeypatch.setitem(handler.INTENT_SLOTS, "WhoIsGoing", ())
    assert said("who_is_going") == speech.APOLOGY


def test_an_intent_the_skill_does_not_know_still_gets_an_answer(table):
    body = envelope("help")
    body["request"]["intent"]["name"] = "SomeoneElsesIntent"
    assert handler.lambda_handler(body, CONTEXT)["response"]["outputSpeech"]["ssml"] == \
        f"<speak>{speech.APOLOGY}</speak>"


def test_names_and_titles_with_markup_and_emoji_reach_alexa_as_plain_text(table, now):
    trip = services.create_event(name='Ski trip & <Friends> "Night" 🎉', starts_at=local_time(now, 1, 19),
                                 timezone="America/Denver")
    for person, display in [("a", "A & B"), ("b", "<C>"), ("c", "D \"E\" 'F' 🎿")]:
        services.sign_up(trip.event_id, person, name=display)
    ssml = spoken(ask("who_is_going"))
    assert "".join(ElementTree.fromstring(ssml).itertext()) == \
        'A & B, <C> and D "E" \'F\' are going to Ski trip & <Friends> "Night".'


@pytest.mark.parametrize("name", [name for name in NAMES if name != "wrong_skill"])
def test_every_fixture_is_answered_in_well_formed_ssml_never_an_apology(table, now, name):
    trip = services.create_event(name='Ski trip & Jerry\'s <Big> "Night" 🎉', starts_at=local_time(now, 1, 19),
                                 timezone="America/Denver", location="Bar <&> Grill", capacity=2)
    for person, display in [("a", "A & B"), ("b", "<C>"), ("c", "D \"E\" 'F' 🎿")]:
        services.sign_up(trip.event_id, person, name=display)
    link("melvin-moose")
    response = ask(name)["response"]
    for speech_field in (response.get("outputSpeech"), (response.get("reprompt") or {}).get("outputSpeech")):
        if speech_field:
            ElementTree.fromstring(speech_field["ssml"])
            assert speech.APOLOGY not in speech_field["ssml"]


# Alexa always sends context.System (the skill and the user); without it a body is no envelope at all (below).
SYSTEM = {"System": {"application": {"applicationId": SKILL_ID}, "user": {"userId": USER_ID}}}


@pytest.mark.parametrize("body", [
    {"version": "1.0", "context": SYSTEM, "request": {"type": "IntentRequest", "requestId": "r", "locale": "en-US"}},
    {"version": "1.0", "context": SYSTEM, "request": {"type": "Alexa.Presentation.APL.UserEvent", "requestId": "r"}},
])
def test_an_envelope_that_deserializes_is_answered_even_when_it_makes_no_sense(table, monkeypatch, body):
    monkeypatch.setattr(handler.skill_builder, "skill_id", None)
    assert handler.lambda_handler(body, CONTEXT)["response"]["outputSpeech"]["ssml"] == \
        f"<speak>{speech.APOLOGY}</speak>"


def test_a_body_the_sdk_cannot_read_is_raised_for_the_caller_to_refuse(table):
    with pytest.raises(SerializationException):
        handler.lambda_handler({"version": "1.0", "request": {"type": "NoSuchRequestType"}}, CONTEXT)


@pytest.mark.parametrize("body", [{}, {"hello": 1}, {"version": "1.0"}, {"version": "1.0", "request": None}])
def test_an_envelope_without_a_request_is_raised_for_the_caller_to_refuse_not_apologised_for(
        table, monkeypatch, caplog, body):
    monkeypatch.setattr(handler.skill_builder, "skill_id", None)
    with pytest.raises(SerializationException, match="no request"):
        handler.lambda_handler(body, CONTEXT)
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []


SLOTTED = sorted((intent, slot) for intent, slots in handler.INTENT_SLOTS.items() for slot in slots)
FIXTURE_FOR = {"WhoIsGoing": "who_is_going", "HowManyGoing": "how_many_going", "WhenIsEvent": "when_is_event",
               "WhereIsEvent": "where_is_event", "SignUp": "sign_up", "CancelSignup": "cancel_signup",
               "LinkAccount": "link_account"}


# 50 here; tests/fuzz/test_fuzz_skill.py sends a thousand random bodies through the same pipeline.
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(SLOTTED), value=st.one_of(st.none(), st.text(max_size=50)))
def test_whatever_is_said_in_a_slot_the_answer_is_well_formed(table, now, target, value):
    if not services.list_events(now=now).items:
        ski_trip(now)
        services.create_event(name="Ski lessons <&>", starts_at=local_time(now, 2, 9), timezone="America/Denver")
        link("melvin-moose")  # so sign-up and cancel go past "who are you"
    intent, slot = target
    response = ask(FIXTURE_FOR[intent], slots={slot: value})["response"]
    ElementTree.fromstring(response["outputSpeech"]["ssml"])
    assert speech.APOLOGY not in response["outputSpeech"]["ssml"]


@pytest.mark.parametrize("skill_id", [SKILL_ID, None], ids=["skill-id-checked", "any-skill"])
def test_an_envelope_with_a_session_but_no_context_is_raised_for_the_caller_to_refuse(table, monkeypatch, skill_id):
    body = envelope("who_is_going")
    del body["context"]  # the session still names the user and the skill
    monkeypatch.setattr(handler.skill_builder, "skill_id", skill_id)
    with pytest.raises(SerializationException, match="no context"):
        handler.lambda_handler(body, CONTEXT)


def test_a_huge_slot_is_read_only_so_far(table, now):
    ski_trip(now)
    answer = said("who_is_going", slots={"event": "pottery " * 112_500})  # 900,000 characters
    assert answer.startswith("I couldn't find an event called pottery pottery") and len(answer) < 400
