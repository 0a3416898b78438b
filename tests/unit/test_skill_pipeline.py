"""Unit tests for skills/pipeline.py: envelopes read and written exactly as ask_sdk_core's own serializer does,
and the handler's module tree free of ask_sdk_model.services."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import Intent, IntentConfirmationStatus, RequestEnvelope, ResponseEnvelope, Slot, SlotConfirmationStatus
from ask_sdk_model.dialog import ElicitSlotDirective
from ask_sdk_model.ui import SimpleCard, SsmlOutputSpeech

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
