"""Core, pure: a series' repeat rule - which local dates it falls on, each at the series' wall-clock time in its own
zone (19:00 in Oslo stays 19:00 across daylight saving time), and when each occurrence must exist. No I/O."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from core.errors import InvalidInput

EVERY = ("week", "month")
INTERVAL_MAX = 52
COUNT_MAX = 500
# A series ends within this many years of its first occurrence: one made with neither end would never stop.
YEARS_MAX = 5
LAST_YEAR = 9000  # so that no date arithmetic of a series runs past the calendar's end
ORDINALS = ("first", "second", "third", "fourth", "fifth")
# Occurrences are made this far ahead, and always the next two at least (a monthly or sparse series) - see
# docs/SERIES.md: people sign up (and calendars show) weeks ahead, and a button bound to a series has a next one.
HORIZON = timedelta(weeks=8)
AHEAD_MIN = 2


@dataclass(frozen=True)
class Repeat:
    """Every `interval` weeks on the first date's weekday, or monthly on its weekday's place in the month ("the
    second Friday"; a fifth-Friday series skips months that have none); ending after `count` occurrences or on the
    last one on or before `until` (a local date), whichever comes first."""

    every: str  # "week" or "month"
    interval: int = 1  # weeks between occurrences; 1 for a monthly series
    until: date | None = None
    count: int | None = None


def parse(value: object, first: date) -> Repeat:
    """A `repeat` object as the API takes it: {"every": "week", "interval": 2, "count": 10} or {"every": "month",
    "until": "2027-06-30"}; one of until and count is required. Raises InvalidInput naming the part at fault."""
    if not isinstance(value, dict):
        raise InvalidInput("repeat is an object such as {\"every\": \"week\", \"count\": 10}.", "repeat")
    unknown = sorted(set(value) - {"every", "interval", "until", "count"})
    if unknown:
        raise InvalidInput(f"Unknown field {unknown[0]!r} in repeat; it takes every, interval, until and count.",
                           f"repeat.{unknown[0]}")
    every = value.get("every")
    if every not in EVERY:
        raise InvalidInput("repeat.every is \"week\" or \"month\".", "repeat.every")
    interval = value.get("interval", 1)
    if isinstance(interval, bool) or not isinstance(interval, int) or not 1 <= interval <= INTERVAL_MAX:
        raise InvalidInput(f"repeat.interval is a whole number of weeks from 1 to {INTERVAL_MAX}.", "repeat.interval")
    if every == "month" and interval != 1:
        raise InvalidInput("repeat.interval is for weekly series; a monthly one repeats every month.",
                           "repeat.interval")
    until, count = value.get("until"), value.get("count")
    if (until is None) == (count is None):
        raise InvalidInput("repeat needs exactly one of until (a date) and count (how many occurrences).", "repeat")
    if first.year > LAST_YEAR:
        raise InvalidInput(f"A series starts by the year {LAST_YEAR}.", "starts_at")
    last = last_date(first)
    end = None
    if until is not None:
        try:
            end = date.fromisoformat(until) if isinstance(until, str) and len(until) == 10 else None
        except ValueError:
            end = None
        if end is None:
            raise InvalidInput("repeat.until is a date, YYYY-MM-DD.", "repeat.until")
        if end < first:
            raise InvalidInput("repeat.until is before the first occurrence.", "repeat.until")
        if end > last:
            raise InvalidInput(f"repeat.until is at most {YEARS_MAX} years after the first occurrence.", "repeat.until")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= COUNT_MAX):
        raise InvalidInput(f"repeat.count is a whole number from 1 to {COUNT_MAX}.", "repeat.count")
    return Repeat(every, interval, end, count)


def last_date(first: date) -> date:
    """The last date a series starting on `first` may fall on, whatever its rule: YEARS_MAX years on."""
    return first.replace(year=first.year + YEARS_MAX, day=28 if (first.month, first.day) == (2, 29) else first.day)


def to_json(rule: Repeat) -> dict:
    return {"every": rule.every, "interval": rule.interval,
            "until": rule.until.isoformat() if rule.until else None, "count": rule.count}


def from_json(data: dict) -> Repeat:
    return Repeat(data["every"], int(data["interval"]), date.fromisoformat(data["until"]) if data["until"] else None,
                  int(data["count"]) if data["count"] is not None else None)


def describe(rule: Repeat, first: date) -> str:
    """In words, for the page and the docs: "every 2 weeks on Friday", "monthly on the second Friday"."""
    day = first.strftime("%A")
    if rule.every == "month":
        return f"monthly on the {ORDINALS[(first.day - 1) // 7]} {day}"
    return f"every week on {day}" if rule.interval == 1 else f"every {rule.interval} weeks on {day}"


def dates(rule: Repeat, first: date) -> Iterator[date]:
    """Every date the series falls on, in order, the first date first; ends with the rule, and YEARS_MAX years on
    at the latest (a monthly fifth-Friday series of 500 would otherwise run for over a century)."""
    made, last = 0, last_date(first)
    for day in _candidates(rule, first):
        if (rule.count is not None and made >= rule.count) or (rule.until is not None and day > rule.until) \
                or day > last:
            return
        made += 1
        yield day


def _candidates(rule: Repeat, first: date) -> Iterator[date]:
    if rule.every == "week":
        step = timedelta(weeks=rule.interval)
        day = first
        while True:
            yield day
            day += step
    nth = (first.day - 1) // 7  # 0: the first such weekday of its month
    year, month = first.year, first.month
    # dates() stops within YEARS_MAX, and every fifth weekday recurs within a few months.
    while True:
        found = _nth_weekday(year, month, first.weekday(), nth)
        if found is not None:
            yield found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date | None:
    """The nth (0-based) `weekday` of the month, or None when the month has fewer."""
    start = date(year, month, 1)
    day = start + timedelta(days=(weekday - start.weekday()) % 7 + 7 * nth)
    return day if day.month == month else None


def start(day: date, at: time, timezone: str) -> datetime:
    """The occurrence's start: that date at the series' wall-clock time in its zone. A time the clocks skip that
    day (02:30 on the night they go forward) becomes the same instant written as it really reads (03:30)."""
    tz = ZoneInfo(timezone)
    return datetime.combine(day, at, tzinfo=tz).astimezone(ZoneInfo("UTC")).astimezone(tz)


def occurrence(rule: Repeat, first: date, index: int) -> date | None:
    """The index-th (0-based) date of the series, or None when the series has ended before it."""
    return next(islice(dates(rule, first), index, None), None)


def due(rule: Repeat, first: date, at: time, timezone: str, index: int) -> datetime | None:
    """When occurrence `index` must exist: HORIZON before it starts, or earlier - when the one two before it starts
    - so at least AHEAD_MIN are always ahead. None: the series has no such occurrence."""
    day = occurrence(rule, first, index)
    if day is None:
        return None
    when = start(day, at, timezone) - HORIZON
    if index >= AHEAD_MIN:
        earlier = occurrence(rule, first, index - AHEAD_MIN)
        if earlier is not None:
            when = min(when, start(earlier, at, timezone))
    return when
