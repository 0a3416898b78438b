"""API edge, calendar files: one event, or a feed of many, becomes an iCalendar (RFC 5545) file, built with icalendar
on first use only. Each event keeps one UID in every file and a SEQUENCE that grows with each change of its time or
place, so a calendar that imported or subscribed moves it; a deleted one is published CANCELLED. The one file and the
feeds are written by the same _entry."""
from __future__ import annotations

from datetime import timedelta, timezone

from icalendar import Calendar, vDuration
from icalendar import Event as CalendarEvent

from core import clock
from core.member_values import CalendarEntry, Feed
from core.values import Event

PRODUCT_ID = "-//Turnout//Turnout event calendar 1.0//EN"
CALENDAR_TYPE = "text/calendar; charset=utf-8"
# The VTIMEZONE written covers the events with a year either side: enough for any reader, and it keeps the file
# small (icalendar's default span, 1970 to 2038, would also stop short of events after 2037).
_ZONE_MARGIN = timedelta(days=366)
# How often a subscribed feed asks to be read again (RFC 7986 REFRESH-INTERVAL; Outlook reads X-PUBLISHED-TTL).
# Apps choose for themselves in the end: docs/CALENDAR.md, "How soon a change shows".
REFRESH = timedelta(hours=1)


def uid(event_id: str) -> str:
    return f"{event_id}@turnout"


def _entry(event: Event, status: str, origin: str) -> CalendarEvent:
    """One VEVENT: what describes the event, never who is going (no attendee, no email, no phone)."""
    entry = CalendarEvent()
    entry.add("uid", uid(event.event_id))
    entry.add("sequence", event.sequence)
    entry.add("status", status)
    entry.add("dtstamp", clock.now().astimezone(timezone.utc).replace(microsecond=0))
    entry.add("created", event.created_at.astimezone(timezone.utc).replace(microsecond=0))
    entry.add("dtstart", event.starts_at)
    entry.add("dtend", event.shown_end)  # no end given: core.values.ASSUMED_LENGTH after the start
    entry.add("summary", event.name)
    if event.location:
        entry.add("location", event.location)
    if event.description:
        entry.add("description", event.description)
    entry.add("url", f"{origin}/#/events/{event.event_id}")
    return entry


def _calendar(entries: list[CalendarEntry], origin: str, name: str | None = None) -> Calendar:
    built = Calendar()
    built.add("prodid", PRODUCT_ID)
    built.add("version", "2.0")
    built.add("calscale", "GREGORIAN")
    built.add("method", "PUBLISH")
    if name is not None:
        built.add("name", name)
        built.add("x-wr-calname", name)
        built.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        built.add("x-published-ttl", vDuration(REFRESH))  # an X- property: icalendar would write it as text
    for each in entries:
        built.add_component(_entry(each.event, each.status, origin))
    if entries:
        starts = [each.event.starts_at for each in entries]
        ends = [each.event.shown_end for each in entries]
        built.add_missing_timezones(first_date=(min(starts) - _ZONE_MARGIN).date(),
                                    last_date=(max(ends) + _ZONE_MARGIN).date())
    return built


def calendar(event: Event, origin: str) -> Calendar:
    """A calendar holding this one event, its times in the event's own zone (TZID) or UTC, linking to its page."""
    return _calendar([CalendarEntry(event, "CONFIRMED")], origin)


def response(event: Event, origin: str) -> dict:
    """The HTTP API answer: the file, named after the event, for a browser to hand to the calendar app."""
    return _answer(
        calendar(event, origin), {"content-disposition": f'attachment; filename="turnout-{event.event_id}.ics"'}
    )


def feed_response(feed: Feed, entries: list[CalendarEntry], origin: str) -> dict:
    """A subscribed feed: the person's events, or the group's."""
    name = f"Turnout: {feed.person}" if feed.person is not None else "Turnout"
    return _answer(_calendar(entries, origin, name), {"content-disposition": 'inline; filename="turnout.ics"'})


def _answer(built: Calendar, headers: dict[str, str]) -> dict:
    return {
        "statusCode": 200,
        "headers": {"content-type": CALENDAR_TYPE, "cache-control": "no-cache", **headers},
        "body": built.to_ical().decode("utf-8"),
        "isBase64Encoded": False,
    }
