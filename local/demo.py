"""Local stack: the sample event `python -m local --demo` seeds, created through core.services like any other."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core import clock, services
from core.values import Event

NAME = "Ski trip"
TIMEZONE = "Europe/Oslo"
CAPACITY = 12


def next_friday_morning(now: datetime) -> datetime:
    """07:00 in Oslo on the first Friday after today: far enough ahead to sign up for, whatever today is."""
    today = now.astimezone(ZoneInfo(TIMEZONE)).date()
    friday = today + timedelta(days=(4 - today.weekday()) % 7 or 7)
    return datetime(friday.year, friday.month, friday.day, 7, 0)


def seed(now: datetime | None = None) -> Event | None:
    """Creates the ski trip unless some upcoming event exists already; returns it, or None when it did not."""
    now = now or clock.now()
    if services.list_events(limit=1, now=now).items:
        return None
    starts_at = next_friday_morning(now)
    return services.create_event(
        name=NAME, starts_at=starts_at.isoformat(), timezone=TIMEZONE, capacity=CAPACITY,
        location="Lodge at the top of the lift", description="Bring skis, a packed lunch and warm socks.",
        now=now,
    )
