"""Reminders on moto in-process, with the clock moved: the scheduled run leaves each reminder once, the table's stream
carries it to the notify function, and everyone going is told once per reminder on every channel they have."""
from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import boto3
import pytest
import time_machine
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iotdata.models import iotdata_backends

from core import feeds, reminders, services
from core.errors import InvalidInput
from notify import handler as notify
from notify import schedule
from tests.support.stream import stream_batches

UTC = timezone.utc
CONTEXT = SimpleNamespace(function_name="turnout-reminders", aws_request_id="r")
# Europe's clocks go forward at 01:00 UTC on Sunday 28 March 2027: Oslo is UTC+1 before, UTC+2 after.
MONDAY = datetime(2027, 3, 22, 8, 5, tzinfo=UTC)
# The schedule runs every five minutes; two hours apart (every due time here is on an even hour) keeps it quick.
STEP = timedelta(hours=2)


def button_notices() -> list[tuple[str, str]]:
    backend = iotdata_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return [(topic, json.loads(payload)["text"]) for topic, payload in backend.published_payloads]


def reminders_of(person: str) -> list[tuple[str, datetime]]:
    return sorted((n.event_id, n.at) for n in services.list_notices(person, limit=50) if n.what == "reminder")


def test_a_week_across_daylight_saving_reminds_each_person_once_per_reminder_on_every_channel(table, sns_sent):
    iotdata_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].published_payloads.clear()
    read = stream_batches(boto3.client("dynamodb", region_name="us-east-1"))
    told: list[dict] = []

    def run_schedule() -> None:
        """One scheduled run, twice (EventBridge may deliver it twice), then the stream's batch to notify, twice
        (Lambda retries a batch): nothing may be told twice."""
        if schedule.lambda_handler({"source": "aws.events"}, CONTEXT)["reminders"]:
            assert schedule.lambda_handler({"source": "aws.events"}, CONTEXT)["reminders"] == 0
            batch = read()
            told.append(batch)
            assert notify.lambda_handler(batch, CONTEXT) == {"batchItemFailures": []}
            assert notify.lambda_handler(batch, CONTEXT) == {"batchItemFailures": []}

    with time_machine.travel(MONDAY, tick=False) as clock:
        services.set_person("anna", name="Anna", email="anna@example.com", phone="+4712345678")
        services.bind_device("BTN-ANNA", "anna")
        services.bind_device("BTN-BOB", "bob")
        services.set_person("dan", reminders=False)
        friday = services.create_event(name="Ski club", starts_at="2027-03-26T19:00", timezone="Europe/Oslo",
                                       capacity=4, location="Frognerseteren").event_id
        monday = services.create_event(name="Ski club", starts_at="2027-03-29T19:00", timezone="Europe/Oslo",
                                       location="Frognerseteren").event_id
        saturday = services.create_event(
            name="Wax night", starts_at="2027-03-27T19:00", timezone="Europe/Oslo"
        ).event_id
        for person in ("anna", "bob", "dan", "frank", "cy"):  # cy waits in line
            services.sign_up(friday, person)
        for person in ("anna", "bob"):
            services.sign_up(monday, person)
        services.sign_up(saturday, "anna")
        read()
        anna_feed = feeds.renew_feed("anna")
        before = {entry.event.event_id: entry for entry in feeds.read_feed(anna_feed.token)[1]}
        assert {event_id: entry.event.sequence for event_id, entry in before.items()} == {
            friday: 0,
            monday: 0,
            saturday: 0,
        }

        def until(moment: datetime) -> None:
            while datetime.now(UTC) + STEP <= moment:
                clock.shift(STEP)
                run_schedule()

        until(datetime(2027, 3, 24, 9, 0, tzinfo=UTC))  # Wednesday: Monday's meeting moves an hour later
        services.update_event(monday, {"starts_at": "2027-03-29T20:00"})
        read()  # its "moved" notice is the notify tests' business
        until(datetime(2027, 3, 25, 12, 0, tzinfo=UTC))  # Thursday: the wax night is called off
        services.delete_event(saturday)
        read()
        until(datetime(2027, 3, 25, 18, 30, tzinfo=UTC))  # the day-before reminder for Friday is out
        assert [n.what for n in services.read_out_notices("anna")] == ["reminder"]  # the skill's next answer
        services.cancel_signup(friday, "frank")  # cy gets the seat, after the day-before reminder fell due
        services.sign_up(friday, "eve")  # and eve joins the line
        read()
        until(datetime(2027, 3, 30, 8, 0, tzinfo=UTC))
        sent = sns_sent()  # by the week's own clock: SQS drops a message older than it keeps them

        # Anna's feed moved the meeting, with a higher sequence, and marks the wax night cancelled.
        after = {entry.event.event_id: entry for entry in feeds.read_feed(anna_feed.token)[1]}
        assert (after[monday].event.starts_at.isoformat(), after[monday].event.sequence) == (
            "2027-03-29T20:00:00+02:00",
            1,
        )
        assert (after[saturday].status, after[saturday].event.sequence) == ("CANCELLED", 1)
        assert after[friday].status == "CONFIRMED"

    friday_day_before = datetime(2027, 3, 25, 18, 0, tzinfo=UTC)  # 19:00 Oslo (UTC+1) on Thursday
    friday_two_hours = datetime(2027, 3, 26, 16, 0, tzinfo=UTC)
    monday_day_before = datetime(2027, 3, 28, 18, 0, tzinfo=UTC)  # 20:00 Oslo, now UTC+2, on Sunday
    monday_two_hours = datetime(2027, 3, 29, 16, 0, tzinfo=UTC)
    assert reminders_of("anna") == sorted([(friday, friday_day_before), (friday, friday_two_hours),
                                           (monday, monday_day_before), (monday, monday_two_hours)])
    assert reminders_of("bob") == reminders_of("anna")
    assert reminders_of("frank") == [(friday, friday_day_before)]  # cancelled before the second
    assert reminders_of("cy") == [(friday, friday_two_hours)]  # waiting at the first, going by the second
    assert reminders_of("dan") == []  # turned reminders off
    assert reminders_of("eve") == []  # still waiting

    texts = {n.event_id + n.at.isoformat(): n.text for n in services.list_notices("anna", limit=50)}
    assert texts[friday + friday_day_before.isoformat()] == (
        "Reminder: Ski club starts Fri 26 Mar 19:00, at Frognerseteren. Can't come? Press your button twice, "
        "say \"cancel my signup\" to Turnout, or cancel on the page.")
    assert "Mon 29 Mar 20:00" in texts[monday + monday_two_hours.isoformat()]  # moved, and in summer time

    # SNS: one message per reminder for anna, who has an email address and a phone (each subscription filters it).
    assert Counter(person for person, text in sent if text.startswith("Reminder")) == {"anna": 4}
    # Each person's button heard each reminder once.
    heard = Counter(topic for topic, text in button_notices() if text.startswith("Reminder"))
    assert heard == {"iotbutton/BTN-ANNA/notice": 4, "iotbutton/BTN-BOB/notice": 4}
    # Four due moments, each left once: a batch per moment, each holding one record.
    assert [len(batch["Records"]) for batch in told] == [1, 1, 1, 1]


def test_an_organizer_chooses_the_times_or_none(table):
    at = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    event = services.create_event(name="Quiz", starts_at="2027-01-08T19:00Z", reminders=[30, 2880], now=at)
    assert event.reminders == (2880, 30)
    assert services.get_event(event.event_id).reminders == (2880, 30)
    quiet = services.update_event(event.event_id, {"reminders": []}, now=at)
    assert quiet.reminders == ()
    assert reminders.due_now(quiet, None, datetime(2027, 1, 8, 18, 55, tzinfo=UTC)) is None
    assert services.update_event(event.event_id, {"reminders": None}, now=at).reminders == (1440, 120)
    for wrong in ([1], [60 * 24 * 8], "120", [True], [10, 20, 30, 40, 50], [30, 30]):
        with pytest.raises(InvalidInput) as raised:
            services.update_event(event.event_id, {"reminders": wrong}, now=at)
        assert raised.value.field == "reminders"


def test_the_latest_due_reminder_is_sent_and_none_from_before_the_event_was_made(table):
    made = datetime(2027, 1, 8, 18, 0, tzinfo=UTC)
    late = services.create_event(name="Pop-up", starts_at="2027-01-08T19:00Z", now=made)
    assert reminders.due_now(late, None, datetime(2027, 1, 8, 18, 30, tzinfo=UTC)) is None  # both before it was made
    early = late._replace(created_at=datetime(2027, 1, 1, tzinfo=UTC))
    # The run was down for both: only the two-hour one goes out, and once it has, nothing more.
    two_hours = datetime(2027, 1, 8, 17, 0, tzinfo=UTC)
    assert reminders.due_now(early, None, datetime(2027, 1, 8, 17, 30, tzinfo=UTC)) == two_hours
    assert reminders.due_now(early, two_hours, datetime(2027, 1, 8, 18, 30, tzinfo=UTC)) is None


def test_the_local_stack_runs_the_reminders_on_the_templates_schedule(table):
    from local import reminders as local_reminders

    assert local_reminders.rate_seconds() == 300
    runs: list[dict] = []
    function = SimpleNamespace(load=lambda: None, loaded=lambda: True, module="notify.schedule",
                               invoke=lambda event: runs.append(event))
    component = local_reminders.ReminderSchedule(function, every=0.01)
    component.start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=5)
        while len(runs) < 3 and datetime.now(UTC) < deadline:
            time.sleep(0.01)
        assert component.ready() and len(runs) >= 3 and runs[0]["source"] == "aws.events"
    finally:
        component.stop()
    assert not component.ready()


def test_a_reminder_run_costs_a_query_and_a_batch_read_and_one_transaction_per_reminder(table):
    from tests.support.dynamodb_calls import hooked

    made = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    for day in range(3):  # three events in the coming week, one of them with a reminder due
        event = services.create_event(name=f"Night {day}", starts_at=f"2027-01-0{4 + day}T19:00Z", now=made)
        services.sign_up(event.event_id, "ann", now=made)
    seen: Counter[str] = Counter()
    with hooked(before=lambda operation, params: seen.update([operation])):
        left = reminders.send_due_reminders(now=datetime(2027, 1, 3, 19, 5, tzinfo=UTC))
        assert len(left) == 1
        assert seen == Counter({"Query": 1, "BatchGetItem": 1, "TransactWriteItems": 1})
        seen.clear()
        assert reminders.send_due_reminders(now=datetime(2027, 1, 3, 19, 10, tzinfo=UTC)) == []
        assert seen == Counter({"Query": 1, "BatchGetItem": 1})  # every run while nothing is due
        seen.clear()
        assert reminders.send_due_reminders(now=datetime(2027, 1, 20, 9, 0, tzinfo=UTC)) == []
        assert seen == Counter({"Query": 1})  # nothing in the coming week
