"""The notify function on stream fixtures shaped as Lambda delivers them: who is told what, once, on which channel."""
from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iotdata.models import iotdata_backends

from core import buttons, keys, services
from core.member_values import Notice
from core.store import events
from core.table import EventItem
from core.values import Event
from notify import channels
from notify.handler import lambda_handler
from tests.support.stream import stream_batches

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dynamodb"
OSLO = ZoneInfo("Europe/Oslo")


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


class Context:
    function_name = "turnout-notify"
    aws_request_id = "2b9f0d7e-6a43-4c1e-8f5b-3e2d1c0b9a87"


@pytest.fixture
def ski_trip(table, pinned_clock):
    """The fixtures' event: skitrip26, Saturday 5 December 2026 at 07:00 in Oslo."""
    starts = datetime(2026, 12, 5, 7, 0, tzinfo=OSLO)
    events.put_event(Event("skitrip26", "Ski trip", starts, None, "Europe/Oslo", "Hemsedal", None, 2, 0, 0, 2, 0,
                           datetime(2026, 11, 29, 9, 0, tzinfo=OSLO)))
    return "skitrip26"


@pytest.fixture
def topic(monkeypatch):
    """The notice topic on moto, with a queue subscribed to it, where what SNS sent can be read back."""
    sns, sqs = boto3.client("sns", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
    arn = sns.create_topic(Name="turnout-notices")["TopicArn"]
    queue = sqs.create_queue(QueueName="notices-sent")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    monkeypatch.setattr(channels, "settings", channels.settings._replace(notice_topic_arn=arn))

    def sent() -> list[dict]:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]

    yield sent
    sqs.delete_queue(QueueUrl=queue)
    sns.delete_topic(TopicArn=arn)


def button_messages() -> list[tuple[str, dict]]:
    backend = iotdata_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return [(topic, json.loads(payload)) for topic, payload in backend.published_payloads]


@pytest.fixture(autouse=True)
def no_button_messages_yet():
    iotdata_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].published_payloads.clear()


def melvin_with_everything(ski_trip):
    services.set_person("melvin", name="Melvin Moose", email="melvin@example.com", phone="+4712345678")
    services.bind_device("BTN-MELVIN", "melvin", ski_trip)


def test_a_promotion_is_told_on_every_channel_once(ski_trip, topic):
    melvin_with_everything(ski_trip)
    assert lambda_handler(fixture("stream_promotion"), Context()) == {"batchItemFailures": []}
    (notice,) = services.list_notices("melvin")
    assert (notice.what, notice.text) == ("promoted", "Good news: you got a seat on Ski trip.")
    (sns,) = topic()
    assert sns["Message"] == notice.text
    assert {name: value["Value"] for name, value in sns["MessageAttributes"].items()} == {
        "person": "melvin", "email": "melvin@example.com", "phone": "+4712345678"}
    ((where, heard),) = button_messages()
    assert where == "iotbutton/BTN-MELVIN/notice"
    assert (heard["what"], heard["event_id"], heard["text"]) == ("promoted", ski_trip, notice.text)


def test_a_repeated_record_tells_nobody_twice(ski_trip, topic):
    melvin_with_everything(ski_trip)
    batch = fixture("stream_promotion")
    lambda_handler(batch, Context())
    # Lambda delivers at least once: the same record again, alone and inside a batch.
    lambda_handler(batch, Context())
    lambda_handler({"Records": batch["Records"] * 2}, Context())
    assert len(services.list_notices("melvin")) == 1
    assert len(topic()) == 1
    assert len(button_messages()) == 1


def test_a_person_with_no_profile_still_gets_the_notice_the_skill_and_api_read(ski_trip, topic):
    assert lambda_handler(fixture("stream_promotion"), Context()) == {"batchItemFailures": []}
    assert [n.what for n in services.list_notices("melvin")] == ["promoted"]
    assert topic() == [] and button_messages() == []


def test_a_moved_event_tells_everyone_signed_up_its_new_time_and_place(ski_trip, topic):
    # The event as the fixture's change left it: the notice tells the event as it is when it is sent.
    EventItem(*keys.event(ski_trip)).update(actions=[EventItem.location.set("Hemsedal, the lodge")])
    for person in ("melvin", "ann", "bob"):  # capacity 2: bob waits, and is told too
        services.sign_up(ski_trip, person)
    lambda_handler(fixture("stream_event_moved"), Context())
    told = {person: services.list_notices(person) for person in ("melvin", "ann", "bob")}
    assert {person: [n.what for n in found] for person, found in told.items()} == {
        "melvin": ["moved"], "ann": ["moved"], "bob": ["moved"]}
    assert told["ann"][0].text == "Ski trip has changed: it now starts Sat 05 Dec 07:00, at Hemsedal, the lodge."


def test_a_deleted_event_tells_who_was_signed_up(table, topic, pinned_clock):
    # The event and its signups are gone by the time the record is read: the change item names them.
    lambda_handler(fixture("stream_event_deleted"), Context())
    assert [n.text for n in services.list_notices("melvin")] == ["Ski trip is called off."]
    assert [n.what for n in services.list_notices("ann")] == ["deleted"]


def test_an_organizers_cancel_tells_the_person(table, topic, pinned_clock):
    lambda_handler(fixture("stream_organizer_cancel"), Context())
    assert [n.text for n in services.list_notices("melvin")] == ["An organizer cancelled your signup for Ski trip."]


def test_a_record_that_tells_nothing_is_passed_over(ski_trip, topic):
    record = copy.deepcopy(fixture("stream_promotion")["Records"][0])
    record["dynamodb"]["OldImage"]["status"] = {"S": "going"}  # a change of party, not a promotion
    assert lambda_handler({"Records": [record]}, Context()) == {"batchItemFailures": []}
    assert services.list_notices("melvin") == []


def test_a_promotion_in_an_event_since_deleted_tells_nothing(table, topic, pinned_clock):
    assert lambda_handler(fixture("stream_promotion"), Context()) == {"batchItemFailures": []}
    assert services.list_notices("melvin") == []


def test_one_bad_record_is_reported_alone_and_its_retry_sends_only_what_is_missing(ski_trip, topic, monkeypatch):
    melvin_with_everything(ski_trip)
    services.bind_device("BTN-ANN", "ann", ski_trip)
    promotion, cancel = fixture("stream_promotion")["Records"][0], fixture("stream_organizer_cancel")["Records"][0]
    moved = fixture("stream_event_moved")["Records"][0]
    for person in ("melvin", "ann"):
        services.sign_up(ski_trip, person)
    publish = buttons._publisher

    def flaky(where: str, payload: bytes) -> None:
        if where == "iotbutton/BTN-ANN/notice":
            raise ConnectionError("IoT Core did not answer")
        publish(where, payload)

    monkeypatch.setattr(buttons, "_publisher", flaky)
    answer = lambda_handler({"Records": [promotion, moved, cancel]}, Context())
    assert answer == {"batchItemFailures": [{"itemIdentifier": moved["dynamodb"]["SequenceNumber"]}]}
    # The records around the bad one were told; Lambda retries from the bad one on.
    assert sorted(n.what for n in services.list_notices("melvin")) == ["cancelled", "moved", "promoted"]
    monkeypatch.setattr(buttons, "_publisher", publish)
    assert lambda_handler({"Records": [moved, cancel]}, Context()) == {"batchItemFailures": []}
    heard = [(where, message["what"]) for where, message in button_messages()]
    assert sorted(heard) == sorted(
        [
            ("iotbutton/BTN-MELVIN/notice", "promoted"),
            ("iotbutton/BTN-MELVIN/notice", "moved"),
            ("iotbutton/BTN-MELVIN/notice", "cancelled"),
            ("iotbutton/BTN-ANN/notice", "moved"),
        ]
    )
    assert len(topic()) == 3  # melvin's three, each once; ann has no address


def test_a_button_taken_over_by_someone_else_is_not_told(ski_trip, topic):
    melvin_with_everything(ski_trip)
    services.bind_device("BTN-MELVIN", "ann", ski_trip)
    lambda_handler(fixture("stream_promotion"), Context())
    assert button_messages() == []
    assert len(topic()) == 1  # his own addresses still are


def test_the_skill_reads_notices_once_and_the_api_keeps_listing_them(ski_trip, topic):
    lambda_handler(fixture("stream_promotion"), Context())
    (spoken,) = services.read_out_notices("melvin")
    assert spoken.text == "Good news: you got a seat on Ski trip."
    assert services.read_out_notices("melvin") == []
    assert [(n.what, n.read) for n in services.list_notices("melvin")] == [("promoted", True)]


def test_an_email_subject_is_printable_ascii_whatever_the_event_is_called():
    notice = Notice("melvin", "promoted", "e1", "Skitur 🎿 til Åre\n", "text", datetime(2026, 12, 1))
    assert channels.subject(notice) == "Turnout: Skitur til re"
    assert channels.subject(notice._replace(event_name="🎿")) == "Turnout"
    assert len(channels.subject(notice._replace(event_name="x" * 300))) < 100


# --- from the services through the table's own stream, filtered as the template says ---------------


def test_each_action_that_concerns_someone_reaches_notify_and_nothing_else_does(ski_trip, topic):
    read = stream_batches(_table_client())
    for person in ("ann", "bob", "cy"):
        services.sign_up(ski_trip, person)  # capacity 2: cy waits
    # Sign-ups, and the counts they change on the event item, tell nobody anything.
    assert read() == {"Records": []}

    services.cancel_signup(ski_trip, "ann")  # her own cancel: cy is promoted, ann is told nothing
    batch = read()
    assert [r["eventName"] for r in batch["Records"]] == ["MODIFY"]
    lambda_handler(batch, Context())
    assert [n.text for n in services.list_notices("cy")] == ["Good news: you got a seat on Ski trip."]
    assert services.list_notices("ann") == []

    services.update_event(ski_trip, {"description": "Bring skis"})  # no new time or place: nobody is told
    assert read() == {"Records": []}
    services.update_event(ski_trip, {"starts_at": "2026-12-05T08:00"})
    lambda_handler(read(), Context())
    assert [n.what for n in services.list_notices("bob")] == ["moved"]
    assert "08:00" in services.list_notices("cy")[0].text

    services.cancel_signup_for(ski_trip, "bob")
    lambda_handler(read(), Context())
    assert [n.what for n in services.list_notices("bob")] == ["cancelled", "moved"]

    services.delete_event(ski_trip)
    lambda_handler(read(), Context())
    assert [n.what for n in services.list_notices("cy")] == ["deleted", "moved", "promoted"]
    assert [n.what for n in services.list_notices("bob")] == ["cancelled", "moved"]  # no longer signed up


def test_an_organizers_cancel_on_a_hot_event_is_told_too(table, topic, pinned_clock):
    # A hot event's own cancel reads nothing first; the word to the person needs the event's name, so it reads it.
    read = stream_batches(_table_client())
    gig = services.create_event(name="Gig", starts_at="2026-12-05T20:00", timezone="Europe/Oslo", capacity=2,
                                seat_blocks=2).event_id
    for person in ("ann", "cy", "bob"):
        services.sign_up(gig, person)
    read()
    cancelled = services.cancel_signup_for(gig, "ann")
    assert cancelled.promoted.person == "bob"
    lambda_handler(read(), Context())
    assert [n.what for n in services.list_notices("ann")] == ["cancelled"]
    assert "Gig" in services.list_notices("ann")[0].text
    assert [n.what for n in services.list_notices("bob")] == ["promoted"]


def _table_client():
    return boto3.client("dynamodb", region_name="us-east-1")
