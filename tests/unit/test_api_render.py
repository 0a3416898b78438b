"""API edge, render: every answer's JSON is what the json module would write, times as isoformat() writes them."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, available_timezones

import pytest

from api import render
from core import errors
from core.values import Signup


def _json_module(payload: object) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n"


@pytest.mark.parametrize("microsecond", [0, 1, 543452])
def test_times_in_every_zone_read_as_isoformat_writes_them(microsecond):
    # Events start in their own zone, on both sides of a daylight-saving change.
    for name in sorted(available_timezones()):
        zone = ZoneInfo(name)
        for month in (1, 7):
            moment = datetime(2026, month, 15, 18, 30, 5, microsecond, tzinfo=zone)
            assert render.body({"at": moment}) == _json_module({"at": moment.isoformat()}), name


def test_text_stays_as_written_and_quotes_and_controls_are_escaped():
    payload = {"name": "Åse Ødegård 🎿", "note": 'say "hi"\\\n\t\x01', "n": [0, -3, 10**15], "none": None, "yes": True}
    assert render.body(payload) == _json_module(payload)


def test_a_signup_answer_is_the_json_module_s_with_its_times_as_isoformat():
    signed = datetime(2026, 11, 29, 13, 0, 3, 543452, tzinfo=timezone.utc)
    signup = Signup("ski", "melvin", "Melvin Moose", 1, "waitlisted", 2, "api", signed, None)
    answer = render.respond(201, render.signup(signup))
    assert json.loads(answer["body"]) == {
        "event_id": "ski", "person": "melvin", "name": "Melvin Moose", "guests": 1, "status": "waitlisted",
        "position": 2, "source": "api", "signed_up_at": "2026-11-29T13:00:03.543452+00:00", "checked_in_at": None,
    }
    assert answer["headers"]["content-type"] == render.JSON_TYPE


def test_a_reused_request_id_is_a_client_error():
    assert render.status_of(errors.RequestIdReused) == 400


def test_every_json_answer_ends_with_a_newline_so_a_terminal_prompt_starts_on_its_own_line():
    for answer in (render.respond(200, {"going": 2}), render.error(errors.EventNotFound("nope"), 404),
                   render.internal_error()):
        assert answer["body"].endswith("}\n") and answer["body"].count("\n") == 1
        assert json.loads(answer["body"])
