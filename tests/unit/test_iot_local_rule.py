"""The local stand-in for the IoT Core topic rule: which messages reach the handler, and as what event."""
from __future__ import annotations

import json
import uuid

import pytest

from local.broker import RULE_SQL, select


def test_a_button_message_becomes_its_payload_plus_what_the_rule_selects():
    event = select(
        "iotbutton/G030JF055364XVRB",
        json.dumps({"serialNumber": "G030JF055364XVRB", "clickType": "SINGLE", "batteryVoltage": "1705mV"}).encode(),
    )

    assert {name: event[name] for name in ("serialNumber", "clickType", "batteryVoltage", "topicSerial")} == {
        "serialNumber": "G030JF055364XVRB", "clickType": "SINGLE", "batteryVoltage": "1705mV",
        "topicSerial": "G030JF055364XVRB"}
    assert uuid.UUID(event["deliveryId"])
    assert "topic(2) AS topicSerial" in RULE_SQL and "newuuid() AS deliveryId" in RULE_SQL


def test_every_message_gets_its_own_delivery_id_even_when_the_payload_repeats():
    payload = b'{"clickType": "SINGLE"}'
    assert select("iotbutton/A", payload)["deliveryId"] != select("iotbutton/A", payload)["deliveryId"]


def test_a_payload_cannot_claim_another_topic_serial():
    assert select("iotbutton/A", b'{"topicSerial": "B"}')["topicSerial"] == "A"


@pytest.mark.parametrize("topic", ["iotbutton/A/result", "iotbutton", "iotbutton/", "other/A", "iotbuttons/A"])
def test_the_rule_fires_only_for_iotbutton_plus(topic):
    assert select(topic, b'{"clickType": "SINGLE"}') is None


@pytest.mark.parametrize("payload", [b"", b"\xff\xfe", b"not json", b"[1]", b'"SINGLE"', b"null", b"{"])
def test_a_payload_that_is_not_a_json_object_never_reaches_the_function(payload):
    assert select("iotbutton/A", payload) is None
