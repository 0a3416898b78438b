"""The Raspberry Pi button (iot.button) on gpiozero's mock pins against real brokers: pressed once, twice and long on
`python -m local`, with the signup, the cancel and the check-in seen in the JSON API and each answer blinked on the
mock LED; a promotion's notice blinked; a click delivered twice answered once; a broker restart, a dropped link and
a broker that comes up after the button all survived, with a press made meanwhile answered "no connection" at once."""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from awscrt import mqtt

from core import services, topics
from iot.device import Target
from local.broker import BrokerComponent
from tests.support.mock_button import MockButton
from tests.support.ports import free_port
from tests.support.relay import Relay
from tests.support.stack import button_function

pytestmark = pytest.mark.integration

SETTLE_SECONDS = 1.5  # how long a second answer, were one sent, is given to show up before "once" is believed


def bound_button(stack, *, capacity: int | None = 10) -> tuple[str, str, dict]:
    """A fresh person and serial, bound through the API to a fresh event that starts within check-in's window."""
    person, serial = f"pi-{uuid.uuid4().hex[:8]}", f"PI-{uuid.uuid4().hex[:8]}"
    soon = (datetime.now(timezone.utc) + timedelta(minutes=60)).replace(microsecond=0).isoformat()
    event = stack.new_event(name=f"Ski trip {serial}", starts_at=soon, capacity=capacity)
    bound = stack.request("PUT", f"/devices/{serial}", {"person": person, "event_id": event["event_id"]})
    assert bound.status == 200, bound.body
    return person, serial, event


def signup(stack, event: dict, person: str) -> dict | None:
    found = stack.request("GET", f"/events/{event['event_id']}/signups/{person}")
    return found.json() if found.status == 200 else None


@pytest.fixture
def pi(stack):
    started: list[MockButton] = []

    def start(serial: str) -> MockButton:
        started.append(MockButton(Target.local(serial, port=stack.mqtt_port), serial).start())
        return started[-1]

    yield start
    for one in started:
        one.stop()


def test_pressed_once_twice_and_long_the_api_has_it_and_the_led_blinks_each_answer(stack, pi):
    person, serial, event = bound_button(stack)
    button = pi(serial)

    button.single()
    assert button.shown(1) == ["signed_up"]
    assert (signup(stack, event, person) or {}).get("status") == "going"
    assert signup(stack, event, person)["source"] == "iot"

    button.double()
    assert button.shown(2) == ["signed_up", "cancelled"]
    assert signup(stack, event, person) is None

    button.single()
    button.long()
    assert button.shown(4) == ["signed_up", "cancelled", "signed_up", "checked_in"]
    assert signup(stack, event, person)["checked_in_at"] is not None

    button.double()
    button.double()  # nothing left to cancel after the first: refused, and the LED says so
    assert button.shown(6)[4:] == ["cancelled", "refused"]


def test_a_waitlisted_press_then_the_promotion_notice_each_blink_their_pattern(stack, pi):
    person, serial, event = bound_button(stack, capacity=1)
    assert stack.request("PUT", f"/events/{event['event_id']}/signups/first-{serial.lower()}").status == 201
    button = pi(serial)

    button.single()
    assert button.shown(1) == ["waitlisted"]
    cancelled = stack.request("DELETE", f"/events/{event['event_id']}/signups/first-{serial.lower()}")
    assert cancelled.status == 200 and cancelled.json()["promoted"]["person"] == person

    assert button.shown(2) == ["waitlisted", "promoted"]
    assert signup(stack, event, person)["status"] == "going"


def test_a_click_delivered_twice_is_answered_and_shown_once(stack, pi):
    person, serial, event = bound_button(stack)
    button = pi(serial)
    link = button.runner.link

    answer = link.click("SINGLE", click_id="pressed-once")
    # The same click again, as a resent PUBLISH would bring it: same clickId, on the button's own connection.
    again = json.dumps({"serialNumber": serial, "clickType": "SINGLE", "clickId": "pressed-once"})
    link.connection.publish(topics.clicks(serial), again, mqtt.QoS.AT_LEAST_ONCE)[0].result(5)
    time.sleep(SETTLE_SECONDS)

    assert answer["outcome"] == "signed_up"
    assert button.shown(0) == []  # no second (late) answer reached the LED
    assert stack.request("GET", f"/events/{event['event_id']}").json()["going"] == 1


SERIAL = "G030JF055364XVRB"


def test_a_broker_restart_is_survived_and_a_press_while_it_is_down_says_no_connection(table, local_results):
    """The broker in-process on moto, as test_button_broker restarts it, behind a relay at the address the button
    knows: the relay drops the link the moment the broker goes (a loaded machine may take its time to close its
    sockets), and the new broker, which has forgotten the button's session, is where the relay leads."""
    event = services.create_event(name="Ski trip",
                                  starts_at=(datetime.now(timezone.utc) + timedelta(days=2)).isoformat())
    services.bind_device(SERIAL, "melvin", event.event_id)
    first = BrokerComponent(host="127.0.0.1", port=0, function=button_function())
    first.start()
    relay = Relay(first.port)
    button = MockButton(Target.local(SERIAL, port=relay.port), SERIAL).start()
    second = None
    try:
        button.single()
        assert button.shown(1) == ["signed_up"]

        relay.cut()
        first.stop()
        assert went_down(button), "the button did not notice the broker was gone"
        button.double()
        assert button.shown(2) == ["signed_up", "no_connection"]
        assert services.get_signup(event.event_id, "melvin").status == "going"  # nothing was sent, or kept to send

        second = BrokerComponent(host="127.0.0.1", port=0, function=button_function())
        second.start()
        relay.upstream_port = second.port
        relay.restore()
        assert button.runner.link.wait_up(20), "the button did not reconnect"
        button.double()
        assert button.shown(3) == ["signed_up", "no_connection", "cancelled"]
    finally:
        button.stop()
        relay.close()
        (second or first).stop()
    assert services.get_event(event.event_id).going == 0


def went_down(button: MockButton, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while button.runner.link.up and time.monotonic() < deadline:
        time.sleep(0.02)
    return not button.runner.link.up


def test_a_button_that_starts_before_its_broker_says_no_connection_then_connects_when_it_comes(table, local_results):
    """A Pi boots faster than its Wi-Fi: the first connection is retried until the broker answers."""
    event = services.create_event(name="Ski trip",
                                  starts_at=(datetime.now(timezone.utc) + timedelta(days=2)).isoformat())
    services.bind_device(SERIAL, "melvin", event.event_id)
    port = free_port()
    button = MockButton(Target.local(SERIAL, port=port), SERIAL).start(connected=False)
    broker = BrokerComponent(host="127.0.0.1", port=port, function=button_function())
    try:
        button.single()
        assert button.shown(1) == ["no_connection"]
        broker.start()
        assert button.runner.link.wait_up(20), "the button did not connect once the broker was up"
        button.single()
        assert button.shown(2) == ["no_connection", "signed_up"]
    finally:
        button.stop()
        broker.stop()
    assert services.get_signup(event.event_id, "melvin").status == "going"


def test_a_wifi_drop_is_answered_no_connection_and_the_button_is_back_when_the_link_is(table, local_results):
    """The link drops while the broker (and the button's session) stays: a relay in between is cut, then restored."""
    event = services.create_event(name="Ski trip",
                                  starts_at=(datetime.now(timezone.utc) + timedelta(days=2)).isoformat())
    services.bind_device(SERIAL, "melvin", event.event_id)
    broker = BrokerComponent(host="127.0.0.1", port=0, function=button_function())
    broker.start()
    relay = Relay(broker.port)
    button = MockButton(Target.local(SERIAL, port=relay.port), SERIAL).start()
    try:
        relay.cut()
        assert went_down(button), "the button did not notice the link was gone"
        button.single()
        assert button.shown(1) == ["no_connection"]

        relay.restore()
        assert button.runner.link.wait_up(20), "the button did not reconnect"
        button.single()
        assert button.shown(2) == ["no_connection", "signed_up"]
    finally:
        button.stop()
        relay.close()
        broker.stop()
    assert services.get_event(event.event_id).going == 1
