"""Unit tests for skills/pipeline.py: envelopes read and written exactly as ask_sdk_core's own serializer does
(odd ones and Alexa's timestamps included), and the handler's module tree free of ask_sdk_model.services."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import Intent, IntentConfirmationStatus, RequestEnvelope, ResponseEnvelope, Slot, SlotConfirmationStatus
from ask_sdk_model.dialog import ElicitSlotDirective
from ask_sdk_model.ui import SimpleCard, SsmlOutputSpeech
from dateutil.parser import parse as parse_with_dateutil
from hypothesis import given, settings
from hypothesis import strategies as st

from skills import pipeline
from skills.pipeline import Serializer
from tests.fixtures.alexa import NAMES, envelope

ROOT = Path(__file__).resolve().parents[2]
SDK = DefaultSerializer()
OURS = Serializer()


@pytest.mark.parametrize("name", NAMES)
def test_every_fixture_reads_into_the_same_models_as_the_sdks_serializer(name):
    body = envelope(name)
    theirs = SDK.deserialize(json.dumps(body), RequestEnvelope)
    mine = OURS.deserialize(body, RequestEnvelope)
    assert mine == theirs
    assert type(mine.request) is type(theirs.request)
    assert OURS.serialize(mine) == SDK.serialize(theirs)


def test_a_response_with_a_card_and_a_directive_is_written_as_the_sdk_writes_it():
    intent = Intent(name="WhoIsGoing", confirmation_status=IntentConfirmationStatus.NONE,
                    slots={"event": Slot(name="event", confirmation_status=SlotConfirmationStatus.NONE)})
    response = ResponseEnvelope(version="1.0", session_attributes={"n": 1}, user_agent="ua", response={
        "output_speech": SsmlOutputSpeech(ssml="<speak>Which one?</speak>"),
        "card": SimpleCard(title="Turnout", content="Link me"),
        "directives": [ElicitSlotDirective(updated_intent=intent, slot_to_elicit="event")],
        "should_end_session": False,
    })
    assert OURS.serialize(response) == SDK.serialize(response)


@pytest.mark.parametrize("body", [
    {"version": "1.0", "request": {"type": "NoSuchRequestType"}},
    {"version": "1.0", "request": {"type": "IntentRequest", "timestamp": "not a time"}},
])
def test_what_the_sdk_refuses_is_refused_the_same_way(body):
    with pytest.raises(SerializationException):
        SDK.deserialize(json.dumps(body), RequestEnvelope)
    with pytest.raises(SerializationException):
        OURS.deserialize(body, RequestEnvelope)


def test_the_skill_never_imports_the_alexa_service_clients():
    # ask_sdk_model.services imports every Alexa service client: a tenth of the cold start, for nothing here.
    code = "import sys, skills.handler; print('ask_sdk_model.services' in sys.modules)"
    env = {**os.environ, "TURNOUT_SKILL_ID": "amzn1.ask.skill.test"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


# --- Bodies Alexa would not send, read (or refused) exactly as ask-sdk's serializer reads them ----------------

def _changed(name: str, path: tuple[str, ...], value: object) -> dict:
    body = envelope(name)
    parent = body
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return body


ODD_BODIES = {
    "unknown key on the envelope": ("who_is_going", ("someNewField",), {"a": 1}),
    "unknown key deep inside": ("who_is_going", ("context", "System", "device", "screen"), "round"),
    "attribute name beside its JSON key": ("who_is_going", ("request", "request_id"), "raw"),
    "attribute_map as a key": ("who_is_going", ("session", "attribute_map"), {}),
    "empty string for a model": ("who_is_going", ("context",), ""),
    "empty list for a model": ("who_is_going", ("session",), []),
    "string for a model": ("who_is_going", ("context",), "System"),
    "list naming a key for a model": ("who_is_going", ("session",), ["new"]),
    "number for a model": ("who_is_going", ("session", "user"), 7),
    "string for a bool": ("who_is_going", ("session", "new"), "no"),
    "unknown enum value": ("who_is_going", ("request", "dialogState"), "MAYBE"),
    "None for an enum": ("who_is_going", ("request", "dialogState"), None),
    "list for slots": ("who_is_going", ("request", "intent", "slots"), []),
    "string for slots": ("who_is_going", ("request", "intent", "slots"), "event"),
    "number for a timestamp": ("who_is_going", ("request", "timestamp"), 5),
    "30th of February": ("who_is_going", ("request", "timestamp"), "2026-02-30T08:00:31Z"),
    "timestamp with milliseconds": ("who_is_going", ("request", "timestamp"), "2026-11-29T08:00:31.123Z"),
    "timestamp with an offset": ("who_is_going", ("request", "timestamp"), "2026-11-29T08:00:31+01:00"),
    "timestamp as a week date": ("who_is_going", ("request", "timestamp"), "2026-W48-7T08:00:31Z"),
    "timestamp with a space": ("who_is_going", ("request", "timestamp"), "2026-11-29 08:00:31Z"),
    "unknown request type": ("who_is_going", ("request", "type"), "NoSuchRequest"),
    "no request type": ("session_ended", ("request", "type"), None),
    "error of a session ended": ("session_ended", ("request", "error"), {"type": "INVALID_RESPONSE", "message": "x"}),
}


@pytest.mark.parametrize("case", ODD_BODIES)
def test_odd_bodies_are_read_or_refused_as_the_sdks_serializer_does(case):
    body = _changed(*ODD_BODIES[case])
    try:
        theirs = SDK.deserialize(json.dumps(body), RequestEnvelope)
    except SerializationException:
        with pytest.raises(SerializationException):
            OURS.deserialize(body, RequestEnvelope)
        return
    mine = OURS.deserialize(body, RequestEnvelope)
    assert mine == theirs
    assert type(mine.request) is type(theirs.request)
    assert type(getattr(mine.request, "timestamp", None)) is type(getattr(theirs.request, "timestamp", None))
    assert OURS.serialize(mine) == SDK.serialize(SDK.deserialize(json.dumps(body), RequestEnvelope))


@pytest.mark.parametrize("kind", ["ask_sdk_model.no_such_module.Thing", "ask_sdk_model.request_envelope.no_such_class",
                                  "ask_sdk_model.request_envelope.RequestEnvelope.__init__", len])
def test_a_declared_type_that_is_not_a_model_class_is_refused_as_the_sdks_serializer_refuses_it(kind):
    with pytest.raises(SerializationException):
        SDK.deserialize(json.dumps({"a": 1}), kind)
    with pytest.raises(SerializationException):
        OURS.deserialize({"a": 1}, kind)


# --- Timestamps --------------------------------------------------------------------------------------------

@settings(max_examples=500, deadline=None)
@given(moment=st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)))
def test_an_alexa_timestamp_is_read_as_dateutil_reads_it(moment):
    text = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    mine, theirs = pipeline._timestamp(text), parse_with_dateutil(text)
    assert mine == theirs
    assert (mine.tzinfo, type(mine.tzinfo)) == (theirs.tzinfo, type(theirs.tzinfo))
    assert mine.replace(tzinfo=None) == theirs.replace(tzinfo=None)


@pytest.mark.filterwarnings("ignore:tzname")  # dateutil's, on letters it takes for a zone name
@settings(max_examples=2000, deadline=None)
@given(slips=st.lists(st.tuples(st.integers(0, 19), st.sampled_from("0123456789-T:Z +.W٣²x")), max_size=3))
def test_a_timestamp_nearly_alexas_is_read_or_refused_as_dateutil_does(slips):
    text = list("2026-11-29T08:00:31Z")
    for at, character in slips:
        text[at] = character
    text = "".join(text)
    try:
        theirs = parse_with_dateutil(text)
    except (ValueError, OverflowError):
        with pytest.raises(SerializationException):
            pipeline._timestamp(text)
        return
    mine = pipeline._timestamp(text)
    assert (mine, type(mine.tzinfo)) == (theirs, type(theirs.tzinfo))
    assert mine.replace(tzinfo=None) == theirs.replace(tzinfo=None)


def test_only_alexas_own_shape_is_read_without_dateutil(monkeypatch):
    asked = []
    monkeypatch.setattr(pipeline, "_moment", lambda payload, kind: asked.append(payload))
    pipeline._timestamp("2026-11-29T08:00:31Z")
    assert asked == []
    for other in ("2026-11-29T08:00:31.5Z", "2026-11-29 08:00:31Z", "2026-W48-7T08:00:31Z", "2026-02-30T08:00:31Z"):
        pipeline._timestamp(other)
    assert len(asked) == 4


def test_where_the_machines_zone_keeps_daylight_saving_every_timestamp_goes_to_dateutil(monkeypatch):
    monkeypatch.setattr(pipeline, "_ZULU", [])
    monkeypatch.setattr(time, "daylight", 1)
    asked = []
    monkeypatch.setattr(pipeline, "_moment", lambda payload, kind: asked.append(payload))
    pipeline._timestamp("2026-11-29T08:00:31Z")
    assert asked == ["2026-11-29T08:00:31Z"]
