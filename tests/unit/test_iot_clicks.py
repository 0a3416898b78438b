"""Reading a button message: both payload shapes, what the topic rule adds, and which identity a click gets."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from iot.clicks import BadClick, Click, parse

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "iot"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_the_classic_button_payload():
    click = parse(fixture("classic_single.json"), "lambda-1")
    assert click == Click("G030JF055364XVRB", "SINGLE", None, "iot:G030JF055364XVRB:lambda:lambda-1")


def test_the_one_click_payload_is_identified_by_its_reported_time():
    click = parse(fixture("one_click_long.json"), "lambda-1")
    assert (click.serial, click.click_type) == ("G030PM0123456789", "LONG")
    assert click.click_id == "2026-12-04T07:02:40.113Z"
    assert click.request_id == "iot:G030PM0123456789:reported:2026-12-04T07:02:40.113Z"


def test_a_click_id_beats_every_other_identity():
    event = {**fixture("rule_classic_double.json"), "clickId": "abc-123"}
    click = parse(event, "lambda-1")
    assert (click.click_id, click.request_id) == ("abc-123", "iot:G030JF055364XVRB:click:abc-123")


def test_the_rules_delivery_id_beats_lambdas_request_id():
    click = parse(fixture("rule_classic_double.json"), "lambda-1")
    assert click.request_id == "iot:G030JF055364XVRB:delivery:0b3a4d8e-2f61-4c4f-9e1a-7a3c5b2d9f10"
    assert click.click_id is None


def test_the_same_click_id_on_two_buttons_is_two_requests():
    one = parse({"serialNumber": "AAA", "clickType": "SINGLE", "clickId": "1"})
    other = parse({"serialNumber": "BBB", "clickType": "SINGLE", "clickId": "1"})
    assert one.request_id != other.request_id


def test_with_nothing_to_identify_it_a_click_has_no_request_id():
    assert parse({"serialNumber": "AAA", "clickType": "DOUBLE"}).request_id is None


def test_the_topic_names_the_button_when_the_payload_does_not():
    click = parse({"clickType": "SINGLE", "topicSerial": "ESP32-kitchen", "deliveryId": "d-9"})
    assert click.serial == "ESP32-kitchen"


def test_a_payload_claiming_another_buttons_serial_is_answered_to_nobody():
    with pytest.raises(BadClick) as bad:
        parse({**fixture("classic_single.json"), "topicSerial": "G030SOMEONEELSE0"})
    assert bad.value.serial is None
    assert "G030SOMEONEELSE0" in bad.value.message


def test_a_bad_click_type_keeps_what_is_needed_to_answer_it():
    with pytest.raises(BadClick) as bad:
        parse({"serialNumber": "AAA", "clickType": "single", "clickId": "k1"})
    assert (bad.value.serial, bad.value.click_type, bad.value.click_id) == ("AAA", None, "k1")
    assert bad.value.request_id == "iot:AAA:click:k1"
    assert "SINGLE, DOUBLE, LONG" in bad.value.message


def test_one_click_errors_name_the_one_click_field():
    event = fixture("one_click_single.json")
    event["deviceEvent"]["buttonClicked"]["clickType"] = "HOLD"
    with pytest.raises(BadClick, match="deviceEvent.buttonClicked.clickType"):
        parse(event)


@pytest.mark.parametrize("serial", ["", "a/b", "iotbutton/+", "#", "x" * 65, 12345, None])
def test_a_serial_that_could_not_be_a_topic_level_is_refused_silently(serial):
    with pytest.raises(BadClick) as bad:
        parse({"serialNumber": serial, "clickType": "SINGLE"})
    assert bad.value.serial is None
