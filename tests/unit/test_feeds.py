"""Calendar feeds through the API on moto in-process, read back with tests/support/calendar_check.py (not icalendar,
which writes them): a person's secret feed of what they go to or wait for, the group's, and files that stay true."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import time_machine

from tests.support.api import call
from tests.support.calendar_check import by_uid, parse, start
from tests.support.dynamodb_calls import hooked

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=timezone.utc)


def feed(url: str):
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    answer = call("GET", path)
    return answer, (parse(answer.text) if answer.status == 200 else None)


def test_a_personal_feed_lists_going_and_waiting_moves_with_a_higher_sequence_and_marks_a_deletion(table):
    with time_machine.travel(NOW, tick=False):
        call("PUT", "/people/anna", {"name": "Anna Berg", "email": "anna@example.com", "phone": "+4712345678"})
        trip = call("POST", "/events", {"name": "Ski trip", "starts_at": "2027-03-05T07:00", "timezone": "Europe/Oslo",
                                        "location": "Hemsedal"}).json["event_id"]
        bus = call("POST", "/events", {"name": "Minibus", "starts_at": "2027-03-05T06:00", "timezone": "Europe/Oslo",
                                       "capacity": 1}).json["event_id"]
        other = call("POST", "/events", {"name": "Quiz", "starts_at": "2027-03-06T19:00Z"}).json["event_id"]
        call("PUT", f"/events/{trip}/signups/anna")
        call("PUT", f"/events/{bus}/signups/bob")
        call("PUT", f"/events/{bus}/signups/anna")  # waits for the one seat
        made = call("PUT", "/people/anna/feed")
        assert made.status == 201 and made.json["url"].startswith("webcal://")
        url = made.json["url"]

        answer, calendar = feed(url)
        assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
        assert (calendar.one("X-PUBLISHED-TTL"), calendar.one("REFRESH-INTERVAL")) == ("PT1H", "PT1H")
        assert (
            "anna@example.com" not in answer.text and "4712345678" not in answer.text and "Anna Berg" not in answer.text
        )
        listed = by_uid(calendar)
        assert set(listed) == {f"{trip}@turnout", f"{bus}@turnout"}  # not the quiz: she did not sign up
        assert (listed[f"{trip}@turnout"].one("STATUS"), listed[f"{trip}@turnout"].one("SEQUENCE")) == (
            "CONFIRMED",
            "0",
        )
        assert listed[f"{bus}@turnout"].one("STATUS") == "TENTATIVE"
        assert start(listed[f"{trip}@turnout"]) == datetime(2027, 3, 5, 6, 0, tzinfo=timezone.utc)

        call("PATCH", f"/events/{trip}", {"starts_at": "2027-03-05T08:30"})  # moved: sequence 1
        call("PATCH", f"/events/{trip}", {"description": "Bring skis"})  # not time or place: still 1
        call("DELETE", f"/events/{bus}")
        _, calendar = feed(url)
        listed = by_uid(calendar)
        moved = listed[f"{trip}@turnout"]
        assert (start(moved), moved.one("SEQUENCE")) == (datetime(2027, 3, 5, 7, 30, tzinfo=timezone.utc), "1")
        gone = listed[f"{bus}@turnout"]
        assert (gone.one("STATUS"), gone.one("SEQUENCE")) == ("CANCELLED", "1")
        # The download for one event says the same.
        single = by_uid(parse(call("GET", f"/events/{trip}/calendar.ics").text))[f"{trip}@turnout"]
        assert (single.one("SEQUENCE"), single.one("STATUS")) == ("1", "CONFIRMED")

        # The group's feed lists every event, the deleted one cancelled.
        group = call("PUT", "/group/feed").json["url"]
        statuses = {uid: event.one("STATUS") for uid, event in by_uid(feed(group)[1]).items()}
        assert statuses == {
            f"{trip}@turnout": "CONFIRMED",
            f"{bus}@turnout": "CANCELLED",
            f"{other}@turnout": "CONFIRMED",
        }

        # Renewed: the old address stops working, the new one works; revoked: neither.
        renewed = call("PUT", "/people/anna/feed").json["url"]
        assert renewed != url and feed(url)[0].status == 404 and feed(renewed)[0].status == 200
        assert call("GET", "/people/anna/feed").json["url"] == renewed
        assert call("DELETE", "/people/anna/feed").status == 204
        assert feed(renewed)[0].error["code"] == "FeedNotFound"
        assert call("GET", "/people/anna/feed").status == 404


def test_a_feed_read_is_a_get_a_query_and_a_batch_read(table):
    with time_machine.travel(NOW, tick=False):
        for day in range(5):
            event = call("POST", "/events", {"name": f"Night {day}", "starts_at": f"2027-03-1{day}T19:00Z"}).json
            call("PUT", f"/events/{event['event_id']}/signups/anna")
        url = call("PUT", "/people/anna/feed").json["url"]
        seen: Counter[str] = Counter()
        with hooked(before=lambda operation, params: seen.update([operation])):
            answer, calendar = feed(url)
        assert len(by_uid(calendar)) == 5
        assert seen == Counter({"GetItem": 1, "Query": 1, "BatchGetItem": 1})


def test_a_feed_keeps_last_months_events_and_tombstones_leave_listings_alone(table):
    with time_machine.travel(NOW, tick=False):
        old = call("POST", "/events", {"name": "Old", "starts_at": "2027-03-02T19:00Z"}).json["event_id"]
        gone = call("POST", "/events", {"name": "Gone", "starts_at": "2027-03-03T19:00Z"}).json["event_id"]
        call("DELETE", f"/events/{gone}")
        assert [e["event_id"] for e in call("GET", "/events").json["events"]] == [old]
        url = call("PUT", "/group/feed").json["url"]
    with time_machine.travel(NOW + timedelta(days=20), tick=False):
        assert set(by_uid(feed(url)[1])) == {f"{old}@turnout", f"{gone}@turnout"}
    with time_machine.travel(NOW + timedelta(days=40), tick=False):
        assert by_uid(feed(url)[1]) == {}
