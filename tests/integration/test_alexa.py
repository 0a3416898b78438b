"""The Alexa skill end to end: envelopes posted to the local stack's POST /alexa after setup through the JSON API."""
from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.fixtures.alexa import SKILL_ID, envelope
from tests.support.stack import LocalStack, running_stack

pytestmark = pytest.mark.integration

DENVER = ZoneInfo("America/Denver")
MELVINS_ECHO = "amzn1.ask.account.AMAQ4TURNOUTINTEGRATIONMELVIN00000000000000000000"


def tomorrow_at(hour: int) -> str:
    day = datetime.now(DENVER).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=DENVER).isoformat()


def create(stack: LocalStack, **fields) -> dict:
    created = stack.request("POST", "/events", fields)
    assert created.status == 201, created.body
    return created.json()


def ask(stack: LocalStack, name: str, **kwargs) -> str:
    """What Alexa would say, as plain text, after checking the answer is well-formed SSML."""
    answer = stack.request("POST", "/alexa", envelope(name, **kwargs))
    assert answer.status == 200, answer.body
    ssml = answer.json()["response"]["outputSpeech"]["ssml"]
    return "".join(ElementTree.fromstring(ssml).itertext())


def test_who_is_going_to_the_ski_trip_names_the_people_going(stack):
    trip = create(stack, name="Ski trip", starts_at=tomorrow_at(7), timezone="America/Denver",
                  location="Eldora & Co", capacity=3)
    for person, name in [("melvin-moose", "Melvin Moose"), ("ann-lee", "Ann <Annie> Lee"), ("bob", "Bob 🎿"),
                         ("cy", "Cy")]:
        assert stack.request("PUT", f"/events/{trip['event_id']}/signups/{person}", {"name": name}).status == 201

    assert ask(stack, "who_is_going") == \
        "Melvin Moose, Ann <Annie> Lee and Bob are going to Ski trip. 1 more is on the waitlist."
    assert ask(stack, "how_many_going", slots={"event": "skiing"}) == \
        "3 people are going to Ski trip. It's full. 1 more is on the waitlist."
    assert ask(stack, "when_is_event") == "Ski trip is tomorrow at 7 am."
    assert ask(stack, "where_is_event") == "Ski trip is at Eldora & Co."


def test_a_linked_voice_user_signs_up_and_cancels(stack):
    night = create(stack, name="Board game night", starts_at=tomorrow_at(19), timezone="America/Denver")
    said_event = {"event": "board games"}

    assert ask(stack, "sign_up", slots=said_event, user_id=MELVINS_ECHO).startswith("I don't know who you are yet.")

    issued = stack.request("POST", "/people/melvin-moose/alexa-code")
    assert issued.status == 201, issued.body
    code = issued.json()["code"]
    assert ask(stack, "link_account", slots={"code": code}, user_id=MELVINS_ECHO) == \
        "Thanks, you're linked as Melvin Moose. Now you can say: sign me up."

    assert ask(stack, "sign_up", slots=said_event, user_id=MELVINS_ECHO) == \
        "You're going to Board game night, tomorrow at 7 pm. See you there!"
    signup = stack.request("GET", f"/events/{night['event_id']}/signups/melvin-moose")
    assert signup.status == 200
    assert (signup.json()["status"], signup.json()["source"]) == ("going", "alexa")

    assert ask(stack, "cancel_signup", slots=said_event, user_id=MELVINS_ECHO) == \
        "Cancel your signup for Board game night tomorrow at 7 pm?"
    assert stack.request("GET", f"/events/{night['event_id']}/signups/melvin-moose").status == 200
    assert ask(stack, "cancel_signup_confirmed", slots={"event": "Board game night"}, user_id=MELVINS_ECHO) == \
        "Done. You're off the list for Board game night."
    assert stack.request("GET", f"/events/{night['event_id']}/signups/melvin-moose").status == 404


def test_a_used_code_does_not_link_a_second_echo(stack):
    code = stack.request("POST", "/people/ann-lee/alexa-code").json()["code"]
    assert ask(stack, "link_account", slots={"code": code}).startswith("Thanks, you're linked as Ann Lee.")
    assert ask(stack, "link_account", slots={"code": code}, user_id=MELVINS_ECHO).startswith("That code didn't work.")


def test_parallel_wrong_codes_from_one_alexa_user_get_no_more_checks_than_the_limit(stack):
    # The stack's default limit (TURNOUT_PAIRING_MAX_MISSES) is 5: every try is counted before its code is read.
    guesser = "amzn1.ask.account.AMAQ4TURNOUTINTEGRATIONPARALLELGUESSER000000000000000"
    live = stack.request("POST", "/people/ann-lee/alexa-code").json()["code"]  # a live code to guess at
    guesses = [f"{n:06d}" for n in range(41) if f"{n:06d}" != live][:40]
    with ThreadPoolExecutor(20) as pool:
        said = list(pool.map(lambda code: ask(stack, "link_account", slots={"code": code}, user_id=guesser), guesses))
    checked = [answer for answer in said if answer.startswith("That code didn't work.")]
    locked = [answer for answer in said if answer.startswith("Too many wrong codes.")]
    assert (len(checked), len(locked)) == (5, 35), said


@pytest.fixture(scope="module")
def verified_stack(tmp_path_factory):
    """The stack with a skill id configured, as a deployment would have."""
    yield from running_stack(tmp_path_factory, "verified-stack", TURNOUT_SKILL_ID=SKILL_ID)


def test_with_a_skill_id_configured_the_stack_answers_that_skill(verified_stack):
    answer = verified_stack.request("POST", "/alexa", envelope("launch"))
    assert answer.status == 200
    assert answer.json()["response"]["outputSpeech"]["ssml"].startswith("<speak>Welcome to Turnout.")


def test_with_a_skill_id_configured_the_stack_refuses_another_skill(verified_stack):
    refused = verified_stack.request("POST", "/alexa", envelope("wrong_skill"))
    assert refused.status == 403


def test_a_body_that_is_no_alexa_envelope_is_refused_as_the_callers_mistake(stack):
    logged_before = stack.log_path.stat().st_size
    refused = stack.request("POST", "/alexa", {"hello": 1})
    assert refused.status == 400, refused.body
    assert refused.json()["error"]["code"] == "InvalidInput"
    logged = stack.log_path.read_bytes()[logged_before:].decode(errors="replace")
    warnings = [line for line in logged.splitlines() if " WARNING " in line]
    assert len(warnings) == 1 and "local.gateway: Refused a POST /alexa body" in warnings[0], logged
    assert "Traceback" not in logged and " ERROR " not in logged, logged


@pytest.mark.parametrize("which", ["stack", "verified_stack"])
def test_an_envelope_with_a_session_but_no_context_is_refused_as_the_callers_mistake(request, which):
    body = envelope("who_is_going")
    del body["context"]  # its session still names the skill, as the stack's skill id check reads it
    refused = request.getfixturevalue(which).request("POST", "/alexa", body)
    assert (refused.status, refused.json()["error"]["code"]) == (400, "InvalidInput"), refused.body


def test_the_alexa_endpoint_answers_other_methods_405(stack):
    answer = stack.request("GET", "/alexa")
    assert answer.status == 405
    assert answer.headers["allow"] == "POST"
