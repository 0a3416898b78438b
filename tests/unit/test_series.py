"""Series on moto in-process, with the clock moved (issue 31, "Done when"): a weekly series across Oslo's end of summer
time keeps its wall-clock time, the scheduled run keeps making occurrences, each person is reminded once per
reminder on every channel, a moved occurrence moves in the personal feed with a higher SEQUENCE, a cancelled one is
published cancelled and never made again; and the API's series routes, a button bound to a series, and voice."""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import boto3
import pytest
import time_machine
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iotdata.models import iotdata_backends
from openapi_schema_validator import OAS31Validator

from api import openapi
from api.handler import lambda_handler as api
from core import errors, feeds, presses, recurrence, services
from core.services import series
from notify import handler as notify
from notify import schedule
from skills.matching import match_event
from tests.support.dynamodb_calls import hooked
from tests.support.stream import stream_batches

UTC = timezone.utc
CONTEXT = SimpleNamespace(function_name="turnout-reminders", aws_request_id="r")
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "apigw" / "get_events.json"
# Oslo leaves summer time at 01:00 UTC on Sunday 31 October 2027: 19:00 there is 17:00 UTC before, 18:00 after.
MADE = datetime(2027, 10, 18, 10, 0, tzinfo=UTC)  # a Monday
STEP = timedelta(hours=2)
FRIDAYS = ["2027-10-22", "2027-10-29", "2027-11-05", "2027-11-12", "2027-11-19"]




def reminders_of(person: str) -> list[tuple[str, datetime]]:
    return sorted((n.event_id, n.at) for n in services.list_notices(person, limit=50) if n.what == "reminder")


def test_a_weekly_series_across_daylight_saving_time(table, sns_sent):
    iotdata_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].published_payloads.clear()
    read = stream_batches(boto3.client("dynamodb", region_name="us-east-1"))
    with time_machine.travel(MADE, tick=False) as clock:
        services.set_person("anna", name="Anna", email="anna@example.com")
        made, first = series.create_series(name="Ski club", starts_at="2027-10-22T19:00", timezone="Europe/Oslo",
                                           ends_at="2027-10-22T21:00", location="Frognerseteren", capacity=10,
                                           repeat={"every": "week", "count": 12})
        # Eight weeks ahead from a Monday: the Fridays up to 10 December, each a whole event at 19:00 Oslo time.
        assert [f"{event.starts_at:%Y-%m-%d %H:%M}" for event in first][:5] == [f"{day} 19:00" for day in FRIDAYS]
        assert len(first) == 8 and all(event.series_id == made.series_id for event in first)
        assert [event.starts_at.astimezone(UTC).hour for event in first[:3]] == [17, 17, 18]
        assert all(event.ends_at - event.starts_at == timedelta(hours=2) for event in first)
        by_day = {f"{event.starts_at:%Y-%m-%d}": event.event_id for event in first}
        late, moved, cancelled, later = (by_day[day] for day in FRIDAYS[1:])

        # Anna's button is bound to the series: on Monday 25 October it signs her up for Friday the 29th.
        services.bind_device("BTN-ANNA", "anna", series_id=made.series_id)
        services.bind_device("BTN-BOB", "bob")
        clock.move_to(datetime(2027, 10, 25, 8, 5, tzinfo=UTC))
        press = presses.press_button("BTN-ANNA", "SINGLE", request_id="iot:BTN-ANNA:1")
        assert (press.outcome, press.event.event_id) == ("signed_up", late)
        # "Sign me up for ski club" means the next occurrence, whichever Friday that is.
        upcoming = services.list_events(limit=20).items
        assert match_event("ski club", upcoming).event.event_id == by_day[FRIDAYS[1]]
        for event_id in (moved, cancelled, later):
            services.sign_up(event_id, "anna")
        for event_id in (late, moved, cancelled):
            services.sign_up(event_id, "bob")
        read()
        anna_feed = feeds.renew_feed("anna")
        told: list[dict] = []

        def run_schedule() -> None:
            """One scheduled run, twice (EventBridge may deliver it twice), then the stream's batch, twice."""
            first_run = schedule.lambda_handler({"source": "aws.events"}, CONTEXT)
            if first_run != {"reminders": 0, "occurrences": 0}:
                assert schedule.lambda_handler({"source": "aws.events"}, CONTEXT) == {"reminders": 0, "occurrences": 0}
            if first_run["reminders"]:
                batch = read()
                told.append(batch)
                assert notify.lambda_handler(batch, CONTEXT) == {"batchItemFailures": []}
                assert notify.lambda_handler(batch, CONTEXT) == {"batchItemFailures": []}

        def until(moment: datetime) -> None:
            # Two hours a step: a reminder due since the last run is sent late but once, and none is passed over
            # (the two-hour one falls due two hours before its event starts).
            while datetime.now(UTC) + STEP <= moment:
                clock.shift(STEP)
                run_schedule()

        def tell_changes() -> None:
            assert notify.lambda_handler(read(), CONTEXT) == {"batchItemFailures": []}

        run_schedule()  # the 10 December occurrence fell due on Friday the 22nd (eight weeks before it)
        until(datetime(2027, 10, 27, 9, 0, tzinfo=UTC))
        # Wednesday: one occurrence moves an hour later, and the one after it is called off.
        services.update_event(moved, {"starts_at": "2027-11-05T20:00"})
        services.delete_event(cancelled)
        tell_changes()
        until(datetime(2027, 10, 29, 20, 0, tzinfo=UTC))
        # Friday night: from the 19th on, the club meets at 18:30 - the occurrences made and those to come.
        changed, _, refused = series.change_series(made.series_id, {"from_event_id": later, "time": "18:30"})
        assert refused == [] and f"{changed.at:%H:%M}" == "18:30"
        tell_changes()
        until(datetime(2027, 11, 6, 8, 0, tzinfo=UTC))
        sent = sns_sent()

        after = {entry.event.event_id: entry for entry in feeds.read_feed(anna_feed.token)[1]}
        assert (after[moved].event.starts_at.isoformat(), after[moved].event.sequence) == (
            "2027-11-05T20:00:00+01:00", 1)
        assert (after[cancelled].status, after[cancelled].event.sequence) == ("CANCELLED", 1)
        assert (after[later].event.starts_at.isoformat(), after[later].event.sequence) == (
            "2027-11-19T18:30:00+01:00", 1)
        # The run went on making occurrences: up to eight weeks ahead, the new ones at the new time, and the
        # cancelled one never again.
        _, ahead = series.get_series(made.series_id)
        starts = [f"{event.starts_at:%Y-%m-%d %H:%M}" for event in ahead]
        assert starts[:2] == ["2027-11-19 18:30", "2027-11-26 18:30"] and starts[-1] == "2027-12-31 18:30"
        assert "2027-11-12" not in " ".join(starts)
        with pytest.raises(errors.EventNotFound):
            services.get_event(cancelled)

    # Each reminder once per person: the day before and two hours before, at Oslo's time of the day.
    late_day_before, late_two_hours = datetime(2027, 10, 28, 17, tzinfo=UTC), datetime(2027, 10, 29, 15, tzinfo=UTC)
    moved_day_before, moved_two_hours = datetime(2027, 11, 4, 19, tzinfo=UTC), datetime(2027, 11, 5, 17, tzinfo=UTC)
    assert reminders_of("anna") == sorted([(late, late_day_before), (late, late_two_hours),
                                           (moved, moved_day_before), (moved, moved_two_hours)])
    assert reminders_of("bob") == reminders_of("anna")
    texts = {n.event_id + n.at.isoformat(): n.text for n in services.list_notices("anna", limit=50)}
    assert "Fri 29 Oct 19:00" in texts[late + late_day_before.isoformat()]
    assert "Fri 05 Nov 20:00" in texts[moved + moved_two_hours.isoformat()]
    # Told of a moved, a cancelled, and a changed "this and later" occurrence as of any event.
    told_anna = {(n.what, n.event_id) for n in services.list_notices("anna", limit=50)}
    assert {("moved", moved), ("deleted", cancelled), ("moved", later)} <= told_anna
    assert ("moved", later) not in {(n.what, n.event_id) for n in services.list_notices("bob", limit=50)}
    # Every channel: SNS for anna (her email), each button's notice topic, once per reminder.
    assert Counter(person for person, text in sent if text.startswith("Reminder")) == {"anna": 4}
    backend = iotdata_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    heard = Counter(topic for topic, payload in backend.published_payloads
                    if json.loads(payload)["text"].startswith("Reminder"))
    assert heard == {"iotbutton/BTN-ANNA/notice": 4, "iotbutton/BTN-BOB/notice": 4}
    assert [len(batch["Records"]) for batch in told] == [1, 1, 1, 1]


def test_the_run_finds_due_series_with_one_query_and_none_when_nothing_is_due(table):
    at = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    made, first = series.create_series(name="Quiz", starts_at="2027-01-08T19:00Z",
                                       repeat={"every": "week", "interval": 4, "count": 3}, now=at)
    assert [f"{event.starts_at:%m-%d}" for event in first] == ["01-08", "02-05"]  # the next two at least
    calls: list[str] = []
    with hooked(before=lambda operation, params: calls.append(operation)):
        assert series.make_due_occurrences(now=at + timedelta(hours=1)) == []
    assert calls == ["Query"]
    calls.clear()
    with hooked(before=lambda operation, params: calls.append(operation)):
        assert len(series.make_due_occurrences(now=datetime(2027, 1, 8, 19, 0, tzinfo=UTC))) == 1
    assert calls == ["Query", "GetItem", "TransactWriteItems"]
    # The third was the last: the series leaves the due partition, and later runs find nothing.
    assert series.make_due_occurrences(now=datetime(2027, 3, 1, tzinfo=UTC)) == []
    assert series.get_series(made.series_id)[0].next_index == 3


def test_a_button_bound_to_a_series_signs_up_for_its_next_open_occurrence(table):
    at = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    made, first = series.create_series(name="Book club", starts_at="2027-01-05T18:00", timezone="Europe/Oslo",
                                       repeat={"every": "month", "count": 6}, now=at)
    device = services.bind_device("BTN-1", "cy", series_id=made.series_id, now=at)
    assert (device.series_id, device.event_id) == (made.series_id, None)
    assert services.get_device("BTN-1").series_id == made.series_id
    # Once the first has started, a press signs up for the second (the first Tuesday of February).
    press = presses.press_button("BTN-1", "SINGLE", request_id="c-1", now=datetime(2027, 1, 5, 17, 30, tzinfo=UTC))
    assert (press.outcome, press.event.event_id) == ("signed_up", first[1].event_id)
    assert f"{press.event.starts_at:%Y-%m-%d %H:%M}" == "2027-02-02 18:00"
    with pytest.raises(errors.InvalidInput):
        services.bind_device("BTN-1", "cy", first[0].event_id, series_id=made.series_id, now=at)
    with pytest.raises(errors.SeriesNotFound):
        services.bind_device("BTN-1", "cy", series_id="nosuchseries", now=at)
    # Ended: its occurrences not yet started are cancelled and told, and a press finds nothing to sign up for.
    ended, cancelled = series.end_series(made.series_id, now=datetime(2027, 1, 6, tzinfo=UTC))
    assert ended.ended_at is not None and first[1].event_id in cancelled
    refused = presses.press_button("BTN-1", "SINGLE", request_id="c-2", now=datetime(2027, 1, 6, 1, tzinfo=UTC))
    assert refused.error[0] == "NoUpcomingEvent"
    assert series.make_due_occurrences(now=datetime(2027, 6, 1, tzinfo=UTC)) == []


# --- the API ---------------------------------------------------------------------------------------------------


def call(method: str, path: str, body: object = None) -> tuple[int, dict]:
    """One request through API Gateway's event shape; a JSON answer is checked against the OpenAPI document."""
    event = json.loads(FIXTURE.read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["rawQueryString"] = ""
    event.pop("queryStringParameters", None)
    event["body"] = json.dumps(body) if body is not None else None
    event["isBase64Encoded"] = False
    answer = api(event, SimpleNamespace(aws_request_id="t", function_name="api"))
    parsed = json.loads(answer["body"]) if answer["body"] else {}
    template = "/series" if path == "/series" else "/series/{series_id}"
    document = openapi.document()
    response = document["paths"][template][method.lower()]["responses"][str(answer["statusCode"])]
    schema = response["content"]["application/json"]["schema"]
    OAS31Validator({**schema, "components": document["components"]}).validate(parsed)
    return answer["statusCode"], parsed


SERIES = {"name": "Ski club", "starts_at": "2030-01-04T19:00", "timezone": "Europe/Oslo", "capacity": 12,
          "repeat": {"every": "week", "count": 10}}


def test_an_organizer_makes_changes_and_ends_a_series_through_the_api(table, pinned_clock):
    status, made = call("POST", "/series", SERIES)
    assert status == 201 and made["repeats"] == "every week on Friday" and made["time"] == "19:00"
    assert len(made["occurrences"]) == 2  # 2030 is far past the horizon: the next two
    series_id, (first, second) = made["series_id"], [each["event_id"] for each in made["occurrences"]]
    assert services.get_event(first).series_id == series_id
    status, changed = call("PATCH", f"/series/{series_id}", {"from_event_id": second, "time": "18:00", "minutes": 90})
    assert status == 200 and changed["not_changed"] == []
    assert [each["starts_at"][11:16] for each in changed["series"]["occurrences"]] == ["19:00", "18:00"]
    assert services.get_event(second).ends_at.isoformat() == "2030-01-11T19:30:00+01:00"
    status, refused = call("PATCH", f"/series/{series_id}", {"from_event_id": "nosuchevent", "name": "Ski"})
    assert (status, refused["error"]["code"]) == (404, "NotInSeries")
    status, ended = call("DELETE", f"/series/{series_id}")
    assert status == 200 and sorted(ended["cancelled"]) == sorted([first, second])
    assert ended["series"]["ended_at"] is not None
    assert call("GET", f"/series/{series_id}")[1]["occurrences"] == []
    assert call("GET", "/series/nosuchseries")[0] == 404


@pytest.mark.parametrize("change, field", [
    ({"repeat": None}, "repeat"),
    ({"repeat": "weekly"}, "repeat"),
    ({"repeat": {"every": "fortnight", "count": 3}}, "repeat.every"),
    ({"repeat": {"every": "week"}}, "repeat"),
    ({"repeat": {"every": "week", "count": 3, "until": "2030-03-01"}}, "repeat"),
    ({"repeat": {"every": "week", "until": "2029-12-31"}}, "repeat.until"),
    ({"repeat": {"every": "week", "count": 501}}, "repeat.count"),
    ({"repeat": {"every": "month", "interval": 2, "count": 3}}, "repeat.interval"),
    ({"seat_blocks": 4}, "seat_blocks"),
    ({"signups_close_at": "2030-01-04T18:00"}, "signups_close_at"),
    ({"starts_at": "2020-01-03T19:00"}, "starts_at"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"ends_at": "2030-01-04T18:00"}, "ends_at"),
])
def test_a_bad_series_is_refused_with_a_400_naming_the_field_and_nothing_is_made(table, pinned_clock, change, field):
    status, answer = call("POST", "/series", {**SERIES, **change})
    assert status == 400, answer
    assert answer["error"]["field"] == field
    assert services.list_events().items == []


@pytest.mark.parametrize("change, field", [
    ({"time": "7pm"}, "time"),
    ({"time": "24:00"}, "time"),
    ({"minutes": 0}, "minutes"),
    ({"minutes": 60 * 24 * 15}, "minutes"),
    ({"capacity": 0}, "capacity"),
    ({"repeat": {"every": "week", "count": 3}}, "repeat"),
])
def test_a_bad_change_is_refused_with_a_400_naming_the_field(table, pinned_clock, change, field):
    series_id = call("POST", "/series", SERIES)[1]["series_id"]
    status, answer = call("PATCH", f"/series/{series_id}", change)
    assert (status, answer["error"]["field"]) == (400, field)
    assert call("PATCH", f"/series/{series_id}", {"from_event_id": "abc"})[0] == 400  # nothing to change


def test_the_horizon_is_the_one_the_docs_name():
    assert recurrence.HORIZON == timedelta(weeks=8) and recurrence.AHEAD_MIN == 2
    assert "eight weeks" in (Path(__file__).resolve().parents[2] / "docs" / "SERIES.md").read_text()


def test_sign_me_up_for_ski_trip_by_voice_means_the_next_occurrence(table, monkeypatch):
    """Through the real ask-sdk pipeline: several events named "Ski trip" (a series' occurrences) are one choice,
    the soonest."""
    from skills import handler as skill
    from tests.fixtures.alexa import SKILL_ID, envelope
    from tests.fixtures.alexa import speech as spoken

    monkeypatch.setattr(skill.skill_builder, "skill_id", SKILL_ID)
    now = datetime.now(UTC)
    tomorrow = (now + timedelta(days=1)).astimezone(ZoneInfo("Europe/Oslo")).date()
    _, made = series.create_series(name="Ski trip", starts_at=f"{tomorrow}T19:00", timezone="Europe/Oslo",
                                   repeat={"every": "week", "count": 4})
    code = services.issue_pairing_code("melvin").code
    skill.lambda_handler(envelope("link_account", slots={"code": code}), CONTEXT)
    answer = spoken(skill.lambda_handler(envelope("sign_up"), CONTEXT))
    assert "You're going to Ski trip" in answer
    assert services.get_signup(made[0].event_id, "melvin").source == "alexa"
    with pytest.raises(errors.NotSignedUp):
        services.get_signup(made[1].event_id, "melvin")
