"""The repeat rule alone (core/recurrence.py): which dates a series falls on, at which local time, and when each
occurrence must exist. Pure: no table, no clock."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from itertools import islice

import pytest

from core import recurrence
from core.errors import InvalidInput

UTC = timezone.utc


def dates(repeat: dict, first: date) -> list[date]:
    return list(recurrence.dates(recurrence.parse(repeat, first), first))


def test_every_week_for_a_count():
    assert dates({"every": "week", "count": 3}, date(2027, 10, 22)) == [
        date(2027, 10, 22), date(2027, 10, 29), date(2027, 11, 5)]


def test_every_three_weeks_until_a_date_includes_that_date_and_nothing_after():
    assert dates({"every": "week", "interval": 3, "until": "2027-11-12"}, date(2027, 10, 1)) == [
        date(2027, 10, 1), date(2027, 10, 22), date(2027, 11, 12)]
    assert dates({"every": "week", "interval": 3, "until": "2027-11-11"}, date(2027, 10, 1))[-1] == date(2027, 10, 22)


def test_monthly_on_the_second_friday():
    found = dates({"every": "month", "count": 4}, date(2027, 1, 8))  # the second Friday of January 2027
    assert found == [date(2027, 1, 8), date(2027, 2, 12), date(2027, 3, 12), date(2027, 4, 9)]
    assert all(day.weekday() == 4 and 8 <= day.day <= 14 for day in found)
    assert recurrence.describe(recurrence.parse({"every": "month", "count": 4}, date(2027, 1, 8)),
                               date(2027, 1, 8)) == "monthly on the second Friday"


def test_monthly_on_the_fifth_friday_skips_the_months_that_have_none_and_counts_only_real_ones():
    found = dates({"every": "month", "count": 4}, date(2027, 1, 29))
    assert found == [date(2027, 1, 29), date(2027, 4, 30), date(2027, 7, 30), date(2027, 10, 29)]
    until = dates({"every": "month", "until": "2027-07-29"}, date(2027, 1, 29))
    assert until == [date(2027, 1, 29), date(2027, 4, 30)]


def test_monthly_across_a_year_end():
    assert dates({"every": "month", "count": 3}, date(2027, 11, 2)) == [  # first Tuesdays
        date(2027, 11, 2), date(2027, 12, 7), date(2028, 1, 4)]


def test_the_wall_clock_time_stays_across_daylight_saving_time():
    # Oslo leaves summer time on Sunday 31 October 2027: 19:00 is 17:00 UTC before, 18:00 UTC after.
    rule = recurrence.parse({"every": "week", "count": 3}, date(2027, 10, 22))
    starts = [recurrence.start(day, time(19, 0), "Europe/Oslo") for day in recurrence.dates(rule, date(2027, 10, 22))]
    assert [f"{moment:%H:%M}" for moment in starts] == ["19:00", "19:00", "19:00"]
    assert [moment.astimezone(UTC).hour for moment in starts] == [17, 17, 18]


def test_a_time_the_clocks_skip_becomes_the_instant_as_it_reads():
    moment = recurrence.start(date(2027, 3, 28), time(2, 30), "Europe/Oslo")
    assert moment.isoformat() == "2027-03-28T03:30:00+02:00"


def test_an_occurrence_is_due_eight_weeks_ahead_and_two_are_always_ahead():
    first = date(2027, 1, 1)
    weekly = recurrence.parse({"every": "week", "count": 20}, first)
    due = recurrence.due(weekly, first, time(19), "UTC", 10)
    assert due == datetime(2027, 3, 12, 19, tzinfo=UTC) - recurrence.HORIZON
    sparse = recurrence.parse({"every": "week", "interval": 12, "count": 5}, first)
    # Twelve weeks apart: the third is made when the first starts, so two are ahead.
    assert recurrence.due(sparse, first, time(19), "UTC", 2) == datetime(2027, 1, 1, 19, tzinfo=UTC)
    assert recurrence.due(sparse, first, time(19), "UTC", 5) is None  # there is no sixth


def test_a_count_never_runs_past_the_years_a_series_may_last():
    found = dates({"every": "month", "count": recurrence.COUNT_MAX}, date(2027, 1, 29))  # fifth Fridays
    assert found[-1] <= date(2032, 1, 29) < found[-1] + timedelta(days=190) and len(found) < 30
    assert len(list(islice(recurrence.dates(recurrence.parse({"every": "week", "count": 400}, date(2027, 1, 1)),
                                            date(2027, 1, 1)), 1000))) == 261  # five years of Fridays


def test_a_series_starting_near_the_end_of_the_calendar_is_refused():
    with pytest.raises(InvalidInput) as refused:
        recurrence.parse({"every": "week", "count": 3}, date(9999, 12, 1))
    assert refused.value.details["field"] == "starts_at"


@pytest.mark.parametrize("repeat, field", [
    ("weekly", "repeat"),
    ({"every": "day", "count": 3}, "repeat.every"),
    ({"every": "week"}, "repeat"),
    ({"every": "week", "count": 3, "until": "2027-12-01"}, "repeat"),
    ({"every": "week", "count": 0}, "repeat.count"),
    ({"every": "week", "count": True}, "repeat.count"),
    ({"every": "week", "count": recurrence.COUNT_MAX + 1}, "repeat.count"),
    ({"every": "week", "interval": 0, "count": 3}, "repeat.interval"),
    ({"every": "week", "interval": 2.0, "count": 3}, "repeat.interval"),
    ({"every": "month", "interval": 2, "count": 3}, "repeat.interval"),
    ({"every": "week", "until": "next year"}, "repeat.until"),
    ({"every": "week", "until": "2027-02-30"}, "repeat.until"),
    ({"every": "week", "until": "2026-12-31"}, "repeat.until"),
    ({"every": "week", "until": "2032-01-02"}, "repeat.until"),
    ({"every": "week", "count": 3, "byday": "FR"}, "repeat.byday"),
])
def test_a_bad_rule_is_refused_naming_its_part(repeat, field):
    with pytest.raises(InvalidInput) as refused:
        recurrence.parse(repeat, date(2027, 1, 1))
    assert refused.value.details.get("field") == field


def test_a_rule_round_trips_through_its_stored_form():
    rule = recurrence.parse({"every": "week", "interval": 2, "until": "2027-06-30"}, date(2027, 1, 1))
    assert recurrence.from_json(recurrence.to_json(rule)) == rule
    assert timedelta(weeks=8) == recurrence.HORIZON
