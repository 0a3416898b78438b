"""Times in sentences (core.moments): every error, notice and button answer tells a time as people read it, in the
event's own zone, through the one formatter - never as an ISO timestamp."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core import errors, reminders, services
from core.config import settings
from core.moments import told
from iot import device
from tests.support.clock import PINNED_AT

ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
OSLO = ZoneInfo("Europe/Oslo")


def test_a_moment_is_told_with_its_day_date_month_and_clock_in_its_own_zone():
    assert told(datetime(2026, 12, 11, 7, 0, tzinfo=OSLO)) == "Fri 11 Dec 07:00"
    assert told(datetime(2027, 3, 1, 19, 30, tzinfo=ZoneInfo("America/New_York"))) == "Mon 01 Mar 19:30"


def test_the_button_says_the_start_through_the_same_formatter():
    result = {"outcome": "signed_up", "event_name": "Ski trip", "starts_at": "2026-12-11T07:00:00+01:00"}
    assert device.words(result) == "You're going to Ski trip (Fri 11 Dec 07:00)."


def test_check_in_not_yet_open_says_when_it_opens_in_the_events_zone(table):
    starts = (PINNED_AT + timedelta(days=3)).astimezone(OSLO).replace(hour=7, minute=0, second=0, microsecond=0)
    event = services.create_event(name="Ski trip", starts_at=starts.isoformat(), timezone="Europe/Oslo", now=PINNED_AT)
    services.sign_up(event.event_id, "ann", now=PINNED_AT)
    with pytest.raises(errors.CheckInNotOpen) as refused:
        services.check_in(event.event_id, "ann", now=PINNED_AT)
    message = refused.value.message
    assert not ISO.search(message)
    opens = starts - timedelta(minutes=settings.check_in_opens_minutes)
    assert message == f"Check-in opens {told(opens)}."
    assert f"{opens:%H:%M}" in message and str(opens.day) in message


def test_sign_ups_closed_says_when_in_the_events_zone(table):
    starts = (PINNED_AT + timedelta(days=3)).astimezone(OSLO).replace(hour=7, minute=0, second=0, microsecond=0)
    event = services.create_event(name="Ski trip", starts_at=starts.isoformat(), timezone="Europe/Oslo", now=PINNED_AT)
    with pytest.raises(errors.SignupsClosed) as refused:
        services.sign_up(event.event_id, "bob", now=starts + timedelta(minutes=1))
    assert refused.value.message == f"Sign-ups for this event closed {told(starts)}."
    assert "07:00" in refused.value.message and not ISO.search(refused.value.message)


def test_a_reminder_and_a_moved_notice_tell_the_start_the_same_way():
    starts = datetime(2026, 12, 11, 7, 0, tzinfo=OSLO)
    assert "starts Fri 11 Dec 07:00, at Hemsedal." in reminders.text("Ski trip", starts, "Hemsedal")
