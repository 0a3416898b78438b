"""Time entry (core.validation): a date without a time, a zone's abbreviation, a zone's slip or near miss and an
impossible date are each refused saying what to write instead, or taken as the zone they plainly name."""
from __future__ import annotations

import pytest

from core import validation
from core.errors import InvalidInput
from tests.support.api import call

pytestmark = pytest.mark.usefixtures("pinned_clock")


def refusal(zone: str) -> str:
    with pytest.raises(InvalidInput) as refused:
        validation.timezone(zone)
    assert refused.value.field == "timezone"
    return refused.value.message


@pytest.mark.parametrize("written", ["europe/oslo", "Europe/Oslo ", " EUROPE/OSLO", "Europe / Oslo"])
def test_a_slip_of_case_or_spacing_is_taken_as_the_zone_it_names(written):
    assert validation.timezone(written) == "Europe/Oslo"


def test_spaces_for_underscores_are_a_slip_too():
    assert validation.timezone("america/new york") == "America/New_York"


@pytest.mark.parametrize("written", ["Oslo", "Europe/Olso", "Europe/Osloo", "oslo "])
def test_a_near_miss_is_refused_with_the_nearest_zone(written):
    assert refusal(written).endswith("Did you mean Europe/Oslo?")


@pytest.mark.parametrize("written, place", [("EST", "America/New_York"), ("CET", "Europe/Berlin"),
                                            ("cest", "Europe/Oslo"), ("PST", "America/Los_Angeles"),
                                            ("EST5EDT", "America/New_York")])
def test_an_abbreviation_is_refused_naming_places_that_keep_daylight_saving(written, place):
    message = refusal(written)
    assert "abbreviation" in message and "daylight saving" in message and repr(place) in message


def test_a_name_like_no_zone_gets_no_guess():
    assert "Did you mean" not in refusal("Mars/Olympus")


@pytest.mark.parametrize("written", ["2026-12-11", "20261211", " 2026-12-11 "])
def test_a_date_without_a_time_asks_for_the_time(written):
    with pytest.raises(InvalidInput) as refused:
        validation.instant(written, "starts_at", "Europe/Oslo")
    assert "no time" in refused.value.message and refused.value.field == "starts_at"


@pytest.mark.parametrize("written, part", [
    ("2026-12-32T10:00", "day 32 doesn't exist in December"),
    ("2027-02-29T10:00:00+01:00", "day 29 doesn't exist in February 2027"),
    ("2026-13-01T10:00", "month 13 doesn't exist"),
    ("2026-12-01T25:00", "hour 25 doesn't exist"),
    ("2026-12-01T10:61", "minute 61 doesn't exist"),
])
def test_an_impossible_date_says_which_part_is_impossible(written, part):
    with pytest.raises(InvalidInput) as refused:
        validation.instant(written, "ends_at", "Europe/Oslo")
    assert refused.value.message.endswith(f"{part}.") and refused.value.field == "ends_at"


def test_a_leap_day_is_a_real_day():
    assert validation.instant("2028-02-29T10:00", "starts_at", "UTC").day == 29


def test_the_api_answers_each_with_a_400_that_says_it(table):
    for body, words in [({"timezone": "Oslo"}, "Did you mean Europe/Oslo?"),
                        ({"timezone": "CET"}, "abbreviation"),
                        ({"starts_at": "2030-12-06"}, "no time"),
                        ({"starts_at": "2030-12-32T07:00"}, "day 32 doesn't exist in December")]:
        answer = call("POST", "/events", {"name": "Ski trip", "starts_at": "2030-12-06T07:00:00",
                                          "timezone": "Europe/Oslo", **body})
        assert answer.status == 400 and words in answer.error["message"], answer.text
    created = call("POST", "/events", {"name": "Ski trip", "starts_at": "2030-12-06T07:00:00",
                                       "timezone": "europe/oslo "})
    assert created.status == 201 and created.json["timezone"] == "Europe/Oslo"
    assert created.json["starts_at"] == "2030-12-06T07:00:00+01:00"
