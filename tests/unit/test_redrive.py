"""A poisoned click and a poisoned stream record: the local stack's rule and stream reader hand what fails every retry
to a failure queue (moto's SQS here) as Lambda's on-failure destinations do, and deploy/redrive.py hands them back to
their function once the fault is fixed - after which the click has signed its person up and the notice has gone out."""
from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iotdata.models import iotdata_backends

from core import clock, errors, services
from core.store import devices
from deploy import redrive
from iot import handler as button
from local import streams as local_streams
from local.broker import ButtonRule
from local.runtime import LambdaFunction
from notify import channels
from notify import handler as notifier
from tests.support import stream

CONTEXT = SimpleNamespace(function_name="turnout-redrive-test", aws_request_id="redrive-invocation")


@pytest.fixture(autouse=True)
def nothing_published_yet():
    iotdata_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].published_payloads.clear()


@pytest.fixture
def queue():
    """A failure queue on moto: what it holds, and how to send to it."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="failures")["QueueUrl"]

    def held() -> list[dict]:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        count = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
        found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        assert len(found) == count
        return [json.loads(message["Body"]) for message in found]

    yield SimpleNamespace(sqs=sqs, url=url, held=held,
                          send=lambda record: sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record)))
    sqs.delete_queue(QueueUrl=url)


def _trip(capacity: int | None = None) -> str:
    starts = (clock.now() + timedelta(days=3)).replace(microsecond=0, tzinfo=None).isoformat()
    return services.create_event(name="Ski trip", starts_at=starts, timezone="UTC", capacity=capacity).event_id


def _going(event_id: str) -> list[str]:
    return [each.person for each in services.list_signups(event_id).signups if each.status == "going"]


def test_a_poisoned_click_lands_in_the_queue_and_is_redriven_once_the_table_answers(table, queue, monkeypatch):
    trip = _trip()
    services.bind_device("BTN-POISON", "pat", trip)

    def busy(*args, **kwargs):
        raise errors.Busy()

    monkeypatch.setattr(devices, "get_device", busy)  # the fault: the table refuses the button's binding read
    rule = ButtonRule(LambdaFunction.from_template("ButtonFunction", "iot.handler.lambda_handler"),
                      retry_delays=(0.0, 0.0), on_failure=queue.send)
    rule.submit("iotbutton/BTN-POISON", json.dumps({"serialNumber": "BTN-POISON", "clickType": "SINGLE",
                                                      "clickId": "poisoned-1"}).encode()).result()
    rule.close()
    (kept,) = queue.held()
    assert kept["requestContext"]["condition"] == "RetriesExhausted"
    assert kept["requestContext"]["approximateInvokeCount"] == 3
    assert kept["requestPayload"]["clickId"] == "poisoned-1"
    assert kept["requestPayload"]["topicSerial"] == "BTN-POISON"
    assert _going(trip) == []

    still = redrive.redrive(redrive.sqs_messages(queue.sqs, queue.url),
                            redrive.replay_clicks(lambda event: button.lambda_handler(event, CONTEXT)))
    assert still == (0, 1)  # not fixed yet: the message stays
    assert len(queue.held()) == 1

    monkeypatch.undo()  # the fault fixed
    done = redrive.redrive(redrive.sqs_messages(queue.sqs, queue.url),
                           redrive.replay_clicks(lambda event: button.lambda_handler(event, CONTEXT)))
    assert done == (1, 0)
    assert queue.held() == []
    assert _going(trip) == ["pat"]
    published = iotdata_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].published_payloads
    assert [topic for topic, _ in published][-1] == "iotbutton/BTN-POISON/result"


def test_a_poisoned_stream_record_lands_in_the_queue_and_is_redriven_once_buttons_can_be_told(table, queue, monkeypatch,
                                                                                               tmp_path):
    trip = _trip(capacity=1)
    services.sign_up(trip, "ann")
    services.sign_up(trip, "pat")  # waits
    services.bind_device("BTN-PAT", "pat", trip)

    def unreachable(*args, **kwargs):
        raise ConnectionError("IoT data plane unreachable")

    monkeypatch.setattr(channels.buttons, "publish", unreachable)  # the fault: the notice cannot reach pat's button
    monkeypatch.setattr(local_streams.time, "sleep", lambda seconds: None)
    services.cancel_signup(trip, "ann")  # pat is promoted: the record that must tell her
    records = stream.delivered()
    assert [each["eventName"] for each in records] == ["MODIFY"]
    arn, shard = stream.arn_and_shard()
    poller = local_streams.StreamPoller(endpoint="", region="us-east-1", table_name="", data_dir=tmp_path,
                                        function=LambdaFunction.from_template("NotifyFunction",
                                                                              "notify.handler.lambda_handler"))
    poller.stream_arn, poller.shard_id, poller.on_failure = arn, shard, queue.send
    poller.deliver(records)
    (kept,) = queue.held()
    assert kept["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert kept["DDBStreamBatchInfo"]["startSequenceNumber"] == records[0]["dynamodb"]["SequenceNumber"]
    told = [topic for topic, _ in iotdata_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].published_payloads
            if topic == "iotbutton/BTN-PAT/notice"]
    assert told == []

    monkeypatch.undo()  # the fault fixed
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    done = redrive.redrive(redrive.sqs_messages(queue.sqs, queue.url),
                           redrive.replay_notices(lambda event: notifier.lambda_handler(event, CONTEXT), streams))
    assert done == (1, 0)
    assert queue.held() == []
    told = [topic for topic, _ in iotdata_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].published_payloads
            if topic == "iotbutton/BTN-PAT/notice"]
    assert told == ["iotbutton/BTN-PAT/notice"]
    assert [n.what for n in services.list_notices("pat")] == ["promoted"]


def test_a_click_the_rule_could_not_hand_over_is_rebuilt_from_its_topic_and_payload():
    import base64

    record = {"ruleName": "ButtonClickRule", "topic": "iotbutton/BTN-7", "clientId": "BTN-7",
              "base64OriginalPayload": base64.b64encode(b'{"clickType": "DOUBLE", "clickId": "c-9"}').decode(),
              "failures": [{"failedAction": "LambdaAction", "errorMessage": "throttled"}]}
    event = redrive.click_event(record)
    assert {key: event[key] for key in ("clickType", "clickId", "topicSerial")} == {
        "clickType": "DOUBLE", "clickId": "c-9", "topicSerial": "BTN-7"}
    assert event["deliveryId"]
    with pytest.raises(ValueError):
        redrive.click_event({"something": "else"})


def test_the_local_stack_keeps_failures_as_lines_only_its_owner_reads(tmp_path):
    from local.failures import JsonLines

    kept = JsonLines(tmp_path / "button-failures.jsonl")
    kept({"requestPayload": {"clickId": "a"}})
    kept({"requestPayload": {"clickId": "b"}})
    assert (kept.path.stat().st_mode & 0o777) == 0o600
    assert [each["requestPayload"]["clickId"] for each in kept.read()] == ["a", "b"]
    kept.replace(kept.read()[1:])
    assert [each["requestPayload"]["clickId"] for each in kept.read()] == ["b"]
