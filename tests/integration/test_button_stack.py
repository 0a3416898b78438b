"""The button end to end on `python -m local`: bind it over HTTP, press it with the awsiotsdk device client (the
same command a person types), see the signup in the JSON API, and hear the result on the button."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid

import pytest
from awscrt import mqtt

from iot import device

pytestmark = pytest.mark.integration


def press(stack, serial: str, click: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "iot.device", "press", serial, click, "--port", str(stack.mqtt_port), *args],
        capture_output=True, text=True, timeout=30,
    )


@pytest.fixture
def button(stack):
    """A fresh serial bound to melvin and a fresh event, through the JSON API as the README shows."""
    event = stack.new_event(name="Ski trip")
    serial = f"BTN-{uuid.uuid4().hex[:8]}"
    bound = stack.request("PUT", f"/devices/{serial}", {"person": "melvin", "event_id": event["event_id"]})
    assert bound.status == 200, bound.body
    return serial, event


def going(stack, event_id: str) -> list[tuple[str, str, str]]:
    page = stack.request("GET", f"/events/{event_id}/signups").json()
    return [(signup["person"], signup["status"], signup["source"]) for signup in page["signups"]]


def test_press_single_and_see_yourself_going(stack, button):
    serial, event = button

    pressed = press(stack, serial, "single")

    assert pressed.returncode == 0, pressed.stderr
    assert pressed.stdout.startswith("You're going to Ski trip")
    assert going(stack, event["event_id"]) == [("melvin", "going", "iot")]

    again = press(stack, serial, "single", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["outcome"] == "already_signed_up"
    assert going(stack, event["event_id"]) == [("melvin", "going", "iot")]

    cancelled = press(stack, serial, "double")
    assert cancelled.returncode == 0 and cancelled.stdout.startswith("Cancelled")
    assert going(stack, event["event_id"]) == []


def test_a_click_delivered_twice_changes_nothing_the_second_time(stack, button):
    serial, event = button
    answers: list[dict] = []
    connection = device.connect(device.Target.local(f"tester-{serial}", port=stack.mqtt_port))
    connection.on_message(lambda topic, payload, **kwargs: answers.append(json.loads(payload)))
    connection.connect().result(5)
    connection.subscribe(f"iotbutton/{serial}/result", mqtt.QoS.AT_LEAST_ONCE)[0].result(5)
    click = json.dumps({"serialNumber": serial, "clickType": "SINGLE", "clickId": uuid.uuid4().hex})
    try:
        for _ in range(2):
            connection.publish(f"iotbutton/{serial}", click, mqtt.QoS.AT_LEAST_ONCE)[0].result(5)
        deadline = time.monotonic() + 10
        while not answers and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # room for a second answer, were one sent
    finally:
        connection.disconnect().result(5)

    assert [answer["outcome"] for answer in answers] == ["signed_up"]
    assert stack.request("GET", f"/events/{event['event_id']}").json()["going"] == 1


def test_an_unknown_button_is_told_so_and_nothing_changes(stack):
    event = stack.new_event(name="Nobody's trip")

    pressed = press(stack, f"UNBOUND-{uuid.uuid4().hex[:8]}", "single")

    assert pressed.returncode == 1
    assert "Nothing changed" in pressed.stdout and "bound" in pressed.stdout
    assert going(stack, event["event_id"]) == []


def test_garbage_on_the_button_topics_leaves_the_stack_healthy(stack, button):
    serial, event = button
    connection = device.connect(device.Target.local(f"garbage-{serial}", port=stack.mqtt_port))
    connection.connect().result(5)
    for payload in (b"\xff\xfe not json", b"[]", b'{"clickType": 3}', json.dumps({"serialNumber": "x/y"}).encode()):
        connection.publish(f"iotbutton/{serial}", payload, mqtt.QoS.AT_LEAST_ONCE)[0].result(5)
    connection.disconnect().result(5)

    assert stack.request("GET", "/health").status == 200
    assert press(stack, serial, "single").returncode == 0
    assert going(stack, event["event_id"]) == [("melvin", "going", "iot")]


def test_the_device_exits_3_when_no_answer_comes():
    # Something listens but never speaks MQTT back: the connection is made, no answer ever comes.
    with socket.create_server(("127.0.0.1", 0)) as silent_broker:
        silent = subprocess.run(
            [sys.executable, "-m", "iot.device", "press", "BTN-1", "single",
             "--port", str(silent_broker.getsockname()[1]), "--timeout", "1"],
            capture_output=True, text=True, timeout=30,
        )
    assert silent.returncode == device.EXIT_NO_ANSWER == 3
    assert "No answer" in silent.stderr
