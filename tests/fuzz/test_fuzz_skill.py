"""The skill Lambda under a thousand random and malformed request bodies, on moto in-process.

What "well-formed" means here, body by body, with the skill id checked (as in AWS) or not (as the local stack
runs without TURNOUT_SKILL_ID), drawn for each body:

- An envelope as Alexa sends it (any fixture, with anything said in its slots, any user, locale, request id
  and session attributes) is always answered: a response envelope whose speech is SSML that parses, never
  the apology for an unexpected error, never speech in answer to SessionEndedRequest.
- Any other JSON object (an envelope with fields of the wrong type, missing or unknown, request types of
  other interfaces, no envelope at all) is answered in the same well-formed way, or refused by raising, which
  Lambda reports as a failed invocation: SerializationException, only when ask-sdk's own serializer cannot
  read the body or it holds no request or no context (the caller's mistake, never an apology); and, only when
  the skill id is checked, the SDK's skill id check failing - AskSdkException "Skill ID Verification failed"
  for a body addressed to another skill, or the AttributeError of its reading context.System.application from
  a body whose context has none. Nothing else escapes, and nothing readable for this skill is refused.

Bodies that are not JSON objects never reach the handler: Alexa sends objects, and the local gateway refuses
anything else with 400 before invoking it (as it refuses another skill's id with 403 when it checks one).
"""
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ElementTree
from collections import Counter
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import Request, RequestEnvelope
from ask_sdk_runtime.exceptions import AskSdkException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import services
from skills import handler, speech
from tests.fixtures.alexa import NAMES, SKILL_ID, USER_ID, envelope

# make test sends 500; `make fuzz EXAMPLES=5000` sends more.
EXAMPLES = int(os.environ.get("TURNOUT_FUZZ_EXAMPLES") or 500)
CONTEXT = SimpleNamespace(function_name="turnout-skill", aws_request_id="fuzz-invocation")
SDK = DefaultSerializer()
ANSWERABLE = [name for name in NAMES if name != "wrong_skill"]
OTHER_SKILL = "amzn1.ask.skill.0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a"
REQUEST_TYPES = sorted(Request.discriminator_value_class_map)
SSML_LIMIT = 8000  # what Alexa accepts in one outputSpeech


@pytest.fixture
def skill_with_events(table, monkeypatch):
    """Three events to match names against and Melvin's Alexa user linked; the test sets the skill id."""
    monkeypatch.setattr(handler.skill_builder, "skill_id", SKILL_ID)  # restored afterwards
    soon = datetime.now(timezone.utc) + timedelta(days=1)
    for name, capacity in [("Ski trip", 2), ("Ski lessons <&>", None), ('Jerry\'s "Big" Night 🎉', 1)]:
        event = services.create_event(name=name, starts_at=soon.isoformat(), timezone="America/Denver",
                                      capacity=capacity, location="Bar <&> Grill")
        services.sign_up(event.event_id, "a", name="A & B")
        soon += timedelta(hours=5)
    services.redeem_pairing_code(USER_ID, services.issue_pairing_code("melvin-moose").code)


# --- bodies -------------------------------------------------------------------------------------

json_leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | \
    st.text(max_size=30)
json_values = st.recursive(json_leaves, lambda inner: st.lists(inner, max_size=3) |
                           st.dictionaries(st.text(max_size=10), inner, max_size=3), max_leaves=10)
said = st.one_of(st.none(), st.text(max_size=300), st.sampled_from(["ski", "the ski trip", "jerry's big night",
                                                                    "lessons", "?", "482913", "oh four eight"]))
# Alexa's identifiers are long but plain; core keys its records by them.
alexa_id = st.from_regex(r"[A-Za-z0-9._-]{1,200}", fullmatch=True)


@st.composite
def as_alexa_sends(draw) -> dict:
    name = draw(st.sampled_from(ANSWERABLE))
    user = draw(st.one_of(st.just(USER_ID), alexa_id.map("amzn1.ask.account.".__add__)))
    body = envelope(name, user_id=user)
    request = body["request"]
    slots = request.get("intent", {}).get("slots")
    if slots is not None:
        body = envelope(name, user_id=user, slots={slot: draw(said) for slot in slots})
        request = body["request"]
    request["requestId"] = "amzn1.echo-api.request." + draw(alexa_id)
    request["locale"] = draw(st.sampled_from(["en-US", "en-GB", "en-CA", "de-DE"]))
    if draw(st.booleans()):
        body["session"]["new"] = draw(st.booleans())
        body["session"]["attributes"] = draw(st.dictionaries(st.text(max_size=10), json_values, max_size=3))
    return body


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    return found


@st.composite
def damaged(draw) -> dict:
    """An envelope with one to three things wrong: a value replaced, a key dropped, a key no model has."""
    body = draw(as_alexa_sends())
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(body)))
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        if not isinstance(parent, dict) or path[-1] not in parent:
            continue
        how = draw(st.sampled_from(["replace", "drop", "add"]))
        if how == "replace":
            parent[path[-1]] = draw(json_values)
        elif how == "drop":
            del parent[path[-1]]
        else:
            parent[draw(st.text(max_size=10))] = draw(json_values)
    return body


@st.composite
def elsewhere(draw) -> dict:
    """An envelope of another interface's request type, or addressed to another skill or to none."""
    body = draw(as_alexa_sends())
    if draw(st.booleans()):
        body["request"]["type"] = draw(st.one_of(st.sampled_from(REQUEST_TYPES), st.text(max_size=20)))
    else:
        application = draw(st.one_of(st.just(OTHER_SKILL), st.text(max_size=40), json_values))
        body["context"]["System"]["application"]["applicationId"] = application
        body["session"]["application"]["applicationId"] = application
    return body


bodies = st.one_of(
    as_alexa_sends().map(lambda body: ("as Alexa sends", body)),
    damaged().map(lambda body: ("damaged", body)),
    elsewhere().map(lambda body: ("elsewhere", body)),
    st.dictionaries(st.text(max_size=10), json_values, max_size=5).map(lambda body: ("not an envelope", body)),
)


# --- answers ------------------------------------------------------------------------------------

def _sdk_reads(body: dict) -> RequestEnvelope | None:
    try:
        return SDK.deserialize(json.dumps(body), RequestEnvelope)
    except Exception:
        return None


def _application_of(envelope_: RequestEnvelope) -> object:
    system = getattr(getattr(envelope_, "context", None), "system", None)
    return getattr(getattr(system, "application", None), "application_id", None)


def _spoken(output_speech: dict) -> str:
    assert output_speech["type"] == "SSML", output_speech
    ssml = output_speech["ssml"]
    assert len(ssml) <= SSML_LIMIT
    root = ElementTree.fromstring(ssml)
    assert root.tag == "speak"
    text = "".join(root.itertext())
    assert text.strip(), "empty speech"
    return text


def _check_answer(answer: object, read: RequestEnvelope) -> list[str]:
    """The answer is a response envelope Alexa accepts; returns what it says."""
    json.dumps(answer, allow_nan=False)  # what Lambda hands back must be JSON
    assert isinstance(answer, dict) and answer["version"] == "1.0", answer
    response = answer["response"]
    assert isinstance(response, dict)
    assert set(response) <= {"outputSpeech", "reprompt", "card", "directives", "shouldEndSession"}, response
    said_now = [_spoken(response["outputSpeech"])] if "outputSpeech" in response else []
    if "reprompt" in response:
        said_now.append(_spoken(response["reprompt"]["outputSpeech"]))
        assert response.get("shouldEndSession") is not True, "a reprompt on a session that ends"
    if "shouldEndSession" in response:
        assert isinstance(response["shouldEndSession"], bool)
    if "card" in response:
        assert response["card"]["type"] == "Simple"
        assert isinstance(response["card"]["title"], str) and isinstance(response["card"]["content"], str)
    for directive in response.get("directives", []):
        assert isinstance(directive["type"], str)
    if getattr(read.request, "object_type", None) == "SessionEndedRequest":
        assert "outputSpeech" not in response, "Alexa accepts no speech in answer to SessionEndedRequest"
    return said_now


def test_every_body_is_answered_well_formed_or_refused_as_the_sdk_refuses(skill_with_events):
    seen: Counter[str] = Counter()

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(drawn=bodies, skill_id=st.sampled_from([SKILL_ID, None]))
    def ask(drawn, skill_id):
        kind, body = drawn
        # As in AWS, or as the local stack runs without TURNOUT_SKILL_ID: any skill's requests answered.
        handler.skill_builder.skill_id = skill_id
        read = _sdk_reads(body)
        try:
            answer = handler.lambda_handler(body, CONTEXT)
        except SerializationException:
            assert read is None or read.request is None or read.context is None, \
                "refused as unreadable, yet it is an envelope ask-sdk reads"
            missing = "unreadable" if read is None else "no request" if read.request is None else "no context"
            seen[f"{kind}: {missing}"] += 1
            return
        except AskSdkException as refusal:
            assert str(refusal) == "Skill ID Verification failed!!"
            assert skill_id is not None and read is not None and _application_of(read) != skill_id
            seen[f"{kind}: another skill"] += 1
            return
        except AttributeError:
            # CustomSkill.invoke reads the skill id from where Alexa always puts it.
            assert skill_id is not None and read is not None and _application_of(read) is None
            seen[f"{kind}: no skill named"] += 1
            return
        assert read is not None, "answered a body ask-sdk's own serializer cannot read"
        assert skill_id is None or _application_of(read) == skill_id, "answered another skill's request"
        spoken = _check_answer(answer, read)
        apologised = any(speech.APOLOGY in text for text in spoken)
        if kind == "as Alexa sends":
            assert not apologised, "an unexpected error answering an envelope as Alexa sends it"
        seen[f"{kind}: {'apology' if apologised else 'answered'}"] += 1

    ask()

    assert sum(seen.values()) >= EXAMPLES
    assert seen["as Alexa sends: answered"] > 0 and seen["damaged: answered"] > 0, seen
    assert seen["damaged: unreadable"] > 0 and seen["elsewhere: another skill"] > 0, seen
    assert seen["not an envelope: no request"] > 0 and seen["not an envelope: no skill named"] > 0, seen
