"""Skill, before speech: where an event's start falls relative to now, on the calendar of the event's own zone."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal, NamedTuple

Day = Literal["today", "tonight", "tomorrow", "yesterday", "weekday", "date"]

# Past this hour "today" becomes "tonight", as people say it.
EVENING_HOUR = 18
# Within this many days ahead the weekday alone is clear ("on Saturday").
WEEKDAY_SPAN = 6
# Dates further than this from now carry the year; nearer ones never need it, even across New Year.
YEAR_SPAN = 300


class When(NamedTuple):
    """What speech needs to say a start time: `local` is the start on the event's own clock."""

    day: Day
    local: datetime
    with_year: bool
    started: bool


def when(starts_at: datetime, now: datetime) -> When:
    """`starts_at` is aware, in the event's zone. Days are counted on that zone's calendar, not the
    listener's: "tomorrow" is tomorrow where the event happens."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    local_now = now.astimezone(starts_at.tzinfo)
    days = (starts_at.date() - local_now.date()).days
    if days == 0:
        day: Day = "tonight" if starts_at.hour >= EVENING_HOUR else "today"
    elif days == 1:
        day = "tomorrow"
    elif days == -1:
        day = "yesterday"
    elif 1 < days <= WEEKDAY_SPAN:
        day = "weekday"
    else:
        day = "date"
    return When(day=day, local=starts_at, with_year=abs(days) > YEAR_SPAN, started=starts_at <= now)
