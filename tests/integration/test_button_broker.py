"""The broker component over real MQTT, in-process on moto: the awsiotsdk device client presses, the rule invokes
the real handler, the answer comes back; plus a broker that is briefly down, retries, garbage and duplicates."""
from __future__ import annotations

import json
import socket
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from awscrt import mqtt

from core import services
from core.store import devices as device_store
from iot import device
from local.broker import BrokerComponent
from tests.support.ports import free_port
from tests.support.relay import Relay
from tests.support.stack import button_function

pytestmark = pytest.mark.integration

SERIAL = "G030JF055364XVRB"


@pytest.fixture
def ski_trip(table):
    event = services.create_event(
        name="Ski trip", starts_at=(datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    )
    services.bind_device(SERIAL, "melvin", event.event_id)
    return event


@pytest.fixture
def broker(table, local_results):
    component = BrokerComponent(host="127.0.0.1", port=0, function=button_function(), retry_delays=(0.05, 0.1))
    component.start()
    # moto in-process is not thread-safe: a conditional write racing another one may both succeed, which
    # DynamoDB never allows. One invocation at a time here, as the stack's moto server serializes requests;
    # concurrent deliveries are tested against the stack (test_button_stack.py).
    lock, invoke = threading.Lock(), component.rule.function.load()

    def one_at_a_time(event, context):
        with lock:
            return invoke(event, context)

    component.rule.function._handler = one_at_a_time
    yield component
    component.stop()


class Listener:
    """A second MQTT client on a button's result topic, to count what the broker sends."""

    def __init__(self, port: int, serial: str, client_id: str = "listener", clean: bool = True):
        self.messages: list[dict] = []
        self.connection = device.connect(device.Target("127.0.0.1", port, client_id))
        self.connection.clean_session = clean
        self.connection.on_message(self._on)
        self.connection.connect().result(5)
        subscribed, _ = self.connection.subscribe(f"iotbutton/{serial}/result", mqtt.QoS.AT_LEAST_ONCE)
        subscribed.result(5)

    def _on(self, topic, payload, **kwargs):
        self.messages.append(json.loads(payload))

    def publish(self, topic: str, payload: bytes | str) -> None:
        published, _ = self.connection.publish(topic, payload, mqtt.QoS.AT_LEAST_ONCE)
        published.result(5)

    def wait_for(self, count: int, seconds: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages

    def close(self) -> None:
        self.connection.disconnect().result(5)


def test_a_press_signs_up_and_the_device_hears_back(ski_trip, broker):
    assert broker.ready()

    answer = device.press(device.Target.local(SERIAL, port=broker.port), SERIAL, "SINGLE", timeout=10)

    assert (answer["outcome"], answer["event_name"]) == ("signed_up", "Ski trip")
    assert device.words(answer).startswith("You're going to Ski trip")
    assert services.get_signup(ski_trip.event_id, "melvin").source == "iot"


def test_a_press_made_while_the_broker_is_down_is_delivered_when_it_returns(ski_trip, local_results):
    port = free_port()
    answers: list[dict] = []
    pressing = threading.Thread(target=lambda: answers.append(
        device.press(device.Target.local(SERIAL, port=port), SERIAL, "SINGLE", timeout=15,
                     wait_for_broker=True)))
    pressing.start()
    time.sleep(1.0)  # the device is trying to connect to nothing
    component = BrokerComponent(host="127.0.0.1", port=port, function=button_function())
    component.start()
    try:
        pressing.join(15)
    finally:
        component.stop()

    assert [answer["outcome"] for answer in answers] == ["signed_up"]
    assert services.get_signup(ski_trip.event_id, "melvin").status == "going"


def test_a_click_sent_while_the_link_is_down_is_delivered_and_answered_when_it_is_back(ski_trip, broker):
    relay = Relay(broker.port)
    answers: list[dict] = []
    connection = device.connect(device.Target.local(SERIAL, port=relay.port))
    connection.on_message(lambda topic, payload, **kwargs: answers.append(json.loads(payload)))
    connection.connect().result(5)
    connection.subscribe(f"iotbutton/{SERIAL}/result", mqtt.QoS.AT_LEAST_ONCE)[0].result(5)
    relay.cut()  # the network goes; the broker keeps the device's session and its subscription, as IoT Core does
    deadline = time.monotonic() + 10
    while not relay.refused and time.monotonic() < deadline:
        time.sleep(0.02)  # the device has noticed, and is trying to reconnect

    click = json.dumps({"serialNumber": SERIAL, "clickType": "SINGLE", "clickId": "pressed-offline"})
    delivered, _ = connection.publish(f"iotbutton/{SERIAL}", click, mqtt.QoS.AT_LEAST_ONCE)
    relay.restore()
    try:
        delivered.result(15)  # the client's offline queue sent it after reconnecting
        deadline = time.monotonic() + 10
        while not answers and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        connection.disconnect().result(5)
        relay.close()

    assert relay.refused >= 1
    assert [answer["click_id"] for answer in answers] == ["pressed-offline"]
    assert services.get_signup(ski_trip.event_id, "melvin").status == "going"


def test_a_click_sent_while_the_broker_restarts_is_delivered_when_it_is_back(ski_trip, local_results):
    """A restarted local broker has forgotten every session. The device's queued click goes out the moment it
    reconnects, before it can subscribe again, so that one answer may be published to nobody (IoT Core keeps a
    session for an hour, so in AWS this is the link-down case above); the click itself is not lost."""
    port = free_port()
    first = BrokerComponent(host="127.0.0.1", port=port, function=button_function())
    first.start()
    connection = device.connect(device.Target.local(SERIAL, port=port))
    connection.connect().result(5)
    connection.subscribe(f"iotbutton/{SERIAL}/result", mqtt.QoS.AT_LEAST_ONCE)[0].result(5)
    first.stop()

    click = json.dumps({"serialNumber": SERIAL, "clickType": "SINGLE", "clickId": "pressed-offline"})
    delivered, _ = connection.publish(f"iotbutton/{SERIAL}", click, mqtt.QoS.AT_LEAST_ONCE)
    second = BrokerComponent(host="127.0.0.1", port=port, function=button_function())
    second.start()
    try:
        delivered.result(15)
        deadline = time.monotonic() + 10
        while not second.rule.delivered and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        connection.disconnect().result(5)
        second.stop()

    assert second.rule.delivered == 1
    assert services.get_signup(ski_trip.event_id, "melvin").status == "going"


def test_an_answer_sent_while_the_device_was_away_waits_in_its_persistent_session(ski_trip, broker):
    away = Listener(broker.port, SERIAL, client_id=f"turnout-button-{SERIAL}", clean=False)
    away.close()
    presser = Listener(broker.port, "someone-else")
    presser.publish(f"iotbutton/{SERIAL}", json.dumps({"serialNumber": SERIAL, "clickType": "SINGLE", "clickId": "k1"}))
    deadline = time.monotonic() + 5
    while not broker.rule.delivered and time.monotonic() < deadline:
        time.sleep(0.02)

    back = Listener(broker.port, SERIAL, client_id=f"turnout-button-{SERIAL}", clean=False)

    assert [message["click_id"] for message in back.wait_for(1)] == ["k1"]
    back.close()
    presser.close()


def test_the_same_click_delivered_three_times_is_one_signup_and_one_answer(ski_trip, broker):
    listener = Listener(broker.port, SERIAL)
    click = json.dumps({"serialNumber": SERIAL, "clickType": "SINGLE", "clickId": "same-click"})
    for _ in range(3):
        listener.publish(f"iotbutton/{SERIAL}", click)
    deadline = time.monotonic() + 5
    while broker.rule.delivered < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)  # a second answer, if one were sent, would arrive by now

    assert [message["outcome"] for message in listener.messages] == ["signed_up"]
    assert services.get_event(ski_trip.event_id).going == 1
    listener.close()


def test_a_failed_invocation_is_retried_like_lambda_and_answered_once(ski_trip, broker, monkeypatch):
    real = device_store.get_device
    attempts = []

    def flaky(serial):
        attempts.append(serial)
        if len(attempts) == 1:
            raise ConnectionError("DynamoDB endpoint went away for a moment")
        return real(serial)

    monkeypatch.setattr(device_store, "get_device", flaky)

    answer = device.press(device.Target.local(SERIAL, port=broker.port), SERIAL, "SINGLE", timeout=10)

    assert answer["outcome"] == "signed_up" and len(attempts) == 2
    assert broker.rule.failed == 0


def test_garbage_never_takes_the_broker_down(ski_trip, broker):
    calls = []

    def always_failing(event, context):
        calls.append(context.aws_request_id)
        raise RuntimeError("handler bug")

    listener = Listener(broker.port, SERIAL)
    # Not MQTT at all.
    with socket.create_connection(("127.0.0.1", broker.port)) as raw:
        raw.sendall(b"\x10\xff\xff\xff\xff\x7fGET / HTTP/1.1\r\n\r\n")
    # MQTT, but payloads the rule cannot use.
    for payload in (b"\x00\xff not json", b"[1, 2]", b'"SINGLE"', b"{"):
        listener.publish(f"iotbutton/{SERIAL}", payload)
    # A message whose every invocation fails: two retries with the same request id, then dropped.
    real, broker.rule.function._handler = broker.rule.function._handler, always_failing
    try:
        listener.publish(f"iotbutton/{SERIAL}", json.dumps({"serialNumber": SERIAL, "clickType": "SINGLE"}))
        deadline = time.monotonic() + 5
        while not broker.rule.failed and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        broker.rule.function._handler = real
    assert len(calls) == 3 and len(set(calls)) == 1
    listener.close()

    assert broker.ready()
    answer = device.press(device.Target.local(SERIAL, port=broker.port), SERIAL, "SINGLE", timeout=10)
    assert answer["outcome"] == "signed_up"


def test_the_device_says_at_once_that_nothing_listens_and_when_told_to_wait_gives_up_at_the_deadline():
    nowhere = device.Target.local(SERIAL, port=free_port())
    with pytest.raises(device.Unreachable, match="connection refused"):
        device.press(nowhere, SERIAL, "SINGLE", timeout=30)
    with pytest.raises(device.NoAnswer, match="could not reach the broker"):
        device.press(nowhere, SERIAL, "SINGLE", timeout=1, wait_for_broker=True)


def test_a_taken_port_fails_start_loudly_and_stop_still_cleans_up(local_results):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        component = BrokerComponent(host="127.0.0.1", port=taken.getsockname()[1], function=button_function())
        with pytest.raises(Exception, match="can't be started"):
            component.start()
        component.stop()
    assert not component.ready()
