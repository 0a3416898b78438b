"""The button Lambda under a thousand random and malformed messages, as the topic rule on iotbutton/+ delivers them.

For every event: no exception; the answer is None or a result with the fields iot/results.py documents; exactly
one result published per answered click, on the topic's own result topic, and none for an unanswered one; and
the same message delivered again (to a new invocation) is never answered twice.
"""
from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iotdata.models import iotdata_backends

from core import services, validation
from core.config import settings as config
from iot import clicks, handler

# make test sends 500; `make fuzz EXAMPLES=5000` sends more.
EXAMPLES = int(os.environ.get("TURNOUT_FUZZ_EXAMPLES") or 500)
BOUND_TO_EVENT = "G030JF055364XVRB"
BOUND_TO_NEXT = "G030PM0123456789"
UNKNOWN = "G030UNKNOWN00001"
SERIALS = (BOUND_TO_EVENT, BOUND_TO_NEXT, UNKNOWN)

ABOUT_AN_EVENT = {"signed_up", "waitlisted", "already_signed_up", "cancelled", "checked_in"}
BASE_FIELDS = {"serial", "click", "click_id", "outcome"}
EVENT_FIELDS = {"event_id", "event_name", "starts_at", "status", "position"}


def _published() -> list[tuple[str, bytes]]:
    return _iot_data().published_payloads


def _iot_data():
    return iotdata_backends[DEFAULT_ACCOUNT_ID][config.region]


@pytest.fixture
def buttons(table):
    """A button bound to an event open for check-in, one bound to none (so to the next event: the same one),
    and one never bound."""
    starts = datetime.now(timezone.utc) + timedelta(minutes=30)
    ends = starts + timedelta(hours=3)
    trip = services.create_event(name="Ski trip", starts_at=starts.isoformat(), ends_at=ends.isoformat(),
                                 timezone="Europe/Oslo", capacity=2)
    services.bind_device(BOUND_TO_EVENT, "melvin", trip.event_id)
    services.bind_device(BOUND_TO_NEXT, "mona", None)
    services.sign_up(trip.event_id, "someone-else")  # one place left: the first of melvin and mona gets it


# --- what a button, or something pretending to be one, may publish -------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
serial_like = st.one_of(
    st.sampled_from(SERIALS),
    st.from_regex(validation.SERIAL, fullmatch=True),
    st.text(max_size=70),
    json_values,
)
click_type = st.one_of(st.sampled_from(clicks.CLICK_TYPES), st.sampled_from(["single", "TRIPLE", "", " LONG"]),
                       json_values)
token_like = st.one_of(st.from_regex(clicks.TOKEN, fullmatch=True), st.text(max_size=80), json_values)


def _with_optional(required: dict, optional: dict) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(required, optional=optional)


classic = _with_optional(
    {"serialNumber": serial_like, "clickType": click_type},
    {"batteryVoltage": st.one_of(st.just("1705mV"), json_values), "clickId": token_like},
)
one_click = _with_optional(
    {"deviceInfo": st.one_of(_with_optional({"deviceId": serial_like},
                                            {"type": json_values, "remainingLife": json_values}), json_values),
     "deviceEvent": st.one_of(
         st.fixed_dictionaries({"buttonClicked": st.one_of(
             _with_optional({"clickType": click_type}, {"reportedTime": token_like}), json_values)}),
         json_values)},
    {"placementInfo": json_values, "clickId": token_like},
)
# A press as a real button sends it, so that a good share of events get as far as core and back. Its identity
# is drawn wide: the same clickId or reportedTime from the same button is a repeated click, answered once.
reported_time = st.integers(0, 10**12).map(
    lambda ms: (datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=ms))
    .isoformat(timespec="milliseconds").replace("+00:00", "Z"))
well_formed = st.one_of(
    _with_optional({"serialNumber": st.sampled_from(SERIALS), "clickType": st.sampled_from(clicks.CLICK_TYPES)},
                   {"batteryVoltage": st.just("1705mV"), "clickId": st.uuids().map(str)}),
    st.builds(lambda serial, kind, reported: {
        "deviceInfo": {"deviceId": serial, "type": "button"},
        "deviceEvent": {"buttonClicked": {"clickType": kind, "reportedTime": reported}}},
        st.sampled_from(SERIALS), st.sampled_from(clicks.CLICK_TYPES), reported_time),
)
# Anything else that is a JSON object: the rule cannot add its fields to anything but an object.
stranger = st.dictionaries(st.text(max_size=12), json_values, max_size=5)


@st.composite
def rule_events(draw) -> dict:
    """The event the topic rule hands the function: the message plus `topic(2) AS topicSerial` and a new uuid."""
    message = draw(st.one_of(well_formed, classic, one_click, stranger))
    device_info = message.get("deviceInfo")
    claimed = message.get("serialNumber", device_info.get("deviceId") if isinstance(device_info, dict) else None)
    # Mostly the topic the device published on is its own; a topic level is any text without '/', '+', '#'.
    topic = draw(st.one_of(
        st.just(claimed) if isinstance(claimed, str) and claimed else st.sampled_from(SERIALS),
        st.sampled_from(SERIALS),
        st.text(st.characters(exclude_characters="/+#\x00", exclude_categories=["Cs"]), min_size=1, max_size=70),
    ))
    return {**message, "topicSerial": topic, "deliveryId": str(uuid.uuid4())}


@st.composite
def deliveries(draw) -> object:
    """Three in four as the rule delivers them; the rest in shapes it never would (no topic fields, not an
    object at all), which the handler must not trip on either."""
    if draw(st.integers(0, 3)):
        return draw(rule_events())
    return draw(st.one_of(json_values, classic, one_click, stranger))


def _check_result(result: dict, event: object) -> None:
    outcome = result["outcome"]
    expected = BASE_FIELDS | (EVENT_FIELDS if outcome in ABOUT_AN_EVENT else {"error"})
    # Why a party waits (core.lines), on the answer that put it in line or found it there.
    optional = {"in_line"} if result.get("status") == "waitlisted" else set()
    assert expected <= set(result) <= expected | optional, result
    assert outcome in ABOUT_AN_EVENT | {"error"}
    assert validation.SERIAL.fullmatch(result["serial"])
    if isinstance(event, dict) and "topicSerial" in event:
        assert result["serial"] == event["topicSerial"], "answered on another button's topic"
    assert result["click"] in (*clicks.CLICK_TYPES, None)
    assert result["click_id"] is None or clicks.TOKEN.fullmatch(result["click_id"])
    if outcome == "error":
        assert set(result["error"]) == {"code", "message"}
        assert isinstance(result["error"]["code"], str) and isinstance(result["error"]["message"], str)
    else:
        assert result["click"] in clicks.CLICK_TYPES
        assert result["status"] in ("going", "waitlisted")
        assert result["position"] is None or (isinstance(result["position"], int) and result["position"] >= 1)
        datetime.fromisoformat(result["starts_at"])


def _identified(event: object) -> bool:
    try:
        return clicks.parse(event).request_id is not None
    except clicks.BadClick as bad:
        return bad.request_id is not None


def _deliver(event: object, context: SimpleNamespace) -> tuple[dict | None, list[tuple[str, bytes]]]:
    _published().clear()
    result = handler.lambda_handler(event, context)
    return result, list(_published())


def test_every_message_is_answered_once_or_not_at_all_and_never_raises(buttons):
    seen: Counter[str] = Counter()

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(event=deliveries())
    def deliver(event):
        context = SimpleNamespace(aws_request_id=str(uuid.uuid4()), function_name="ButtonFunction")

        result, published = _deliver(event, context)

        if result is None:
            assert published == []
        else:
            _check_result(result, event)
            assert [(topic, json.loads(payload)) for topic, payload in published] == \
                [(f"iotbutton/{result['serial']}/result", result)]
        # IoT delivering the same message again, to a new invocation: the click is answered already, or never
        # will be. (A message carrying no identity at all - no clickId, reportedTime or the rule's deliveryId -
        # is told apart only by Lambda's request id, so a new invocation of it is a new click.)
        if _identified(event):
            again, published_again = _deliver(event, SimpleNamespace(aws_request_id=str(uuid.uuid4()),
                                                                     function_name="ButtonFunction"))
            assert (again, published_again) == (None, [])
        seen["unanswered" if result is None else result["outcome"]] += 1

    deliver()

    assert sum(seen.values()) >= EXAMPLES
    # Every way a click can end was reached, not just the refusals of junk.
    assert set(seen) == {"unanswered", "error"} | ABOUT_AN_EVENT, seen
