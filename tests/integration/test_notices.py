"""Notices end to end on `python -m local`: a waitlisted person, a cancellation that promotes them, and the promoted
person told once on every channel - their button over MQTT, SNS (moto's, read back through a subscribed queue),
the skill's next answer and the API's list."""
from __future__ import annotations

import json
import threading
import time
import uuid
import xml.etree.ElementTree as ElementTree

import boto3
import pytest

from iot import device
from tests.fixtures.alexa import envelope

pytestmark = pytest.mark.integration

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:turnout-notices"
SETTLE_SECONDS = 2.0  # how long a second, duplicate notice is given to show up before "exactly once" is believed


def moto(stack, service: str):
    return boto3.client(service, endpoint_url=f"http://127.0.0.1:{stack.dynamodb_port}", region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def say(stack, name: str, user_id: str, **kwargs) -> str:
    answer = stack.request("POST", "/alexa", envelope(name, user_id=user_id, **kwargs))
    assert answer.status == 200, answer.body
    return "".join(ElementTree.fromstring(answer.json()["response"]["outputSpeech"]["ssml"]).itertext())


def test_a_cancellation_that_promotes_someone_is_heard_by_them_once_on_every_channel(stack):
    person, serial, echo = f"waiter-{uuid.uuid4().hex[:6]}", f"BTN-{uuid.uuid4().hex[:8]}", \
        f"amzn1.ask.account.NOTICES{uuid.uuid4().hex.upper()}"
    bus = stack.new_event(name=f"Minibus {uuid.uuid4().hex[:4]}", capacity=1)
    event_id = bus["event_id"]
    assert stack.request("PUT", f"/people/{person}", {"name": "Wally Waiter", "email": f"{person}@example.com",
                                                      "phone": "+4712345678"}).status == 200
    assert stack.request("PUT", f"/devices/{serial}", {"person": person}).status == 200
    code = stack.request("POST", f"/people/{person}/alexa-code").json()["code"]
    assert say(stack, "link_account", echo, slots={"code": code}).startswith("Thanks, you're linked")

    # What SNS sends is read back from a queue subscribed to the notice topic, with this person's filter policy.
    sns, sqs = moto(stack, "sns"), moto(stack, "sqs")
    queue = sqs.create_queue(QueueName=f"sent-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=queue_arn,
                  Attributes={"FilterPolicy": json.dumps({"person": [person]})})

    assert stack.request("PUT", f"/events/{event_id}/signups/first-one").status == 201
    waiting = stack.request("PUT", f"/events/{event_id}/signups/{person}").json()
    assert (waiting["status"], waiting["position"], waiting["name"]) == ("waitlisted", 1, None)

    heard: list[tuple[float, dict]] = []
    target = device.Target("127.0.0.1", stack.mqtt_port, f"notices-test-{serial}")
    listener = threading.Thread(target=lambda: device.listen(
        target, serial, lambda notice: heard.append((time.monotonic(), notice)), count=2, timeout=8), daemon=True)
    listener.start()
    time.sleep(1.0)  # subscribed before the change is made

    cancelled = stack.request("DELETE", f"/events/{event_id}/signups/first-one")
    committed = time.monotonic()
    assert cancelled.status == 200 and cancelled.json()["promoted"]["person"] == person
    listener.join(10)

    # The button: exactly one notice, of this promotion.
    assert [(n["what"], n["event_id"], n["serial"]) for _, n in heard] == [("promoted", event_id, serial)]
    text = f"Good news: you got a seat on {bus['name']}."
    assert heard[0][1]["text"] == text
    print(f"\nchange committed -> notice on MQTT: {(heard[0][0] - committed) * 1000:.0f} ms")

    # SNS: one message, to this person's addresses.
    time.sleep(SETTLE_SECONDS)
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert len(messages) == 1
    sent = json.loads(messages[0]["Body"])
    assert sent["Message"] == text
    assert {k: v["Value"] for k, v in sent["MessageAttributes"].items()} == {
        "person": person, "email": f"{person}@example.com", "phone": "+4712345678"}

    # The API keeps it; the skill says it first at the person's next request, and only then.
    listed = stack.request("GET", f"/people/{person}/notices").json()["notices"]
    assert [(n["what"], n["text"], n["read"]) for n in listed] == [("promoted", text, False)]
    assert say(stack, "whats_coming_up", echo).startswith(text + " ")
    assert not say(stack, "whats_coming_up", echo).startswith("Good news")
    assert [n["read"] for n in stack.request("GET", f"/people/{person}/notices").json()["notices"]] == [True]
    assert "told " + person + " (promoted" in stack.log()


def test_a_button_or_voice_sign_up_carries_the_persons_name(stack):
    person, serial = f"named-{uuid.uuid4().hex[:6]}", f"BTN-{uuid.uuid4().hex[:8]}"
    trip = stack.new_event(name="Named trip")
    assert stack.request("PUT", f"/people/{person}", {"name": "Nora Named"}).status == 200
    assert stack.request("PUT", f"/devices/{serial}", {"person": person, "event_id": trip["event_id"]}).status == 200
    answer = device.press(device.Target.local(serial, port=stack.mqtt_port), serial, "SINGLE")
    assert answer["outcome"] == "signed_up"
    signup = stack.request("GET", f"/events/{trip['event_id']}/signups/{person}").json()
    assert (signup["name"], signup["source"]) == ("Nora Named", "iot")


def test_two_moves_a_second_apart_are_heard_as_one_notice_of_the_new_place(stack):
    person = f"mover-{uuid.uuid4().hex[:6]}"
    trip = stack.new_event(name=f"Moving trip {uuid.uuid4().hex[:4]}", location="Hemsedal")
    assert stack.request("PUT", f"/events/{trip['event_id']}/signups/{person}").status == 201
    assert stack.request("PATCH", f"/events/{trip['event_id']}", {"location": "Geilo"}).status == 200
    time.sleep(1.0)
    assert stack.request("PATCH", f"/events/{trip['event_id']}", {"location": "Trysil"}).status == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        moved = [n for n in stack.request("GET", f"/people/{person}/notices").json()["notices"] if n["what"] == "moved"]
        if moved:
            break
        time.sleep(0.2)
    time.sleep(SETTLE_SECONDS)  # a second notice, if the first move told one, has had time to come
    moved = [n["text"] for n in stack.request("GET", f"/people/{person}/notices").json()["notices"]
             if n["what"] == "moved"]
    assert len(moved) == 1 and "Trysil" in moved[0] and "Geilo" not in moved[0], moved
