"""API edge, calendar file: one event becomes an iCalendar (RFC 5545) file, built with icalendar on first use only."""
from __future__ import annotations

from datetime import timedelta, timezone

from icalendar import Calendar
from icalendar import Event as CalendarEvent

from core import clock
from core.values import Event

PRODUCT_ID = "-//Turnout//Turnout event calendar 1.0//EN"
CALENDAR_TYPE = "text/calendar; charset=utf-8"
# The VTIMEZONE written covers the event with a year either side: enough for any reader, and it keeps the file
# small (icalendar's default span, 1970 to 2038, would also stop short of events after 2037).
_ZONE_MARGIN = timedelta(days=366)


def calendar(event: Event, origin: str) -> Calendar:
    """A calendar holding this one event, its times in the event's own zone (TZID) or UTC, linking to its page."""
    ends_at = event.ends_at or event.closes_at  # no end given: the day the list closes, as the product reads it
    entry = CalendarEvent()
    entry.add("uid", f"{event.event_id}@turnout")
    entry.add("dtstamp", clock.now().replace(microsecond=0))
    entry.add("created", event.created_at.astimezone(timezone.utc))
    entry.add("dtstart", event.starts_at)
    entry.add("dtend", ends_at)
    entry.add("summary", event.name)
    if event.location:
        entry.add("location", event.location)
    if event.description:
        entry.add("description", event.description)
    entry.add("url", f"{origin}/#/events/{event.event_id}")
    built = Calendar()
    built.add("prodid", PRODUCT_ID)
    built.add("version", "2.0")
    built.add("calscale", "GREGORIAN")
    built.add("method", "PUBLISH")
    built.add_component(entry)
    built.add_missing_timezones(first_date=(event.starts_at - _ZONE_MARGIN).date(),
                                last_date=(ends_at + _ZONE_MARGIN).date())
    return built


def response(event: Event, origin: str) -> dict:
    """The HTTP API answer: the file, named after the event, for a browser to hand to the calendar app."""
    return {
        "statusCode": 200,
        "headers": {
            "content-type": CALENDAR_TYPE,
            "content-disposition": f'attachment; filename="turnout-{event.event_id}.ics"',
            "cache-control": "no-cache",
        },
        "body": calendar(event, origin).to_ical().decode("utf-8"),
        "isBase64Encoded": False,
    }
