"""Core: the values of what members and organizers keep beside an event's signups - a person's profile, the notices
they are told, calendar feeds, and series of events.

Apart from core/values.py because no sign-up, button press or spoken request builds them, and defining a NamedTuple
class costs about 1M instructions that every cold start importing it pays (make bench; docs/SCALING.md). The same
rules hold: NamedTuples, annotations evaluated, not postponed."""

from datetime import datetime, time
from typing import Any, Literal, NamedTuple

from core.values import Event


class Person(NamedTuple):
    """Who a person is: a handle, a display name, and where to be told (both optional)."""

    person: str
    name: str | None
    email: str | None
    phone: str | None  # E.164: +4712345678
    updated_at: datetime | None  # None: never set, the handle is all there is
    reminders: bool = True  # False: this person is never reminded of an event


class Notice(NamedTuple):
    """One thing a person is told once: promoted | moved | deleted | cancelled | reminder, about one event."""

    person: str
    what: str
    event_id: str
    event_name: str
    text: str  # one plain sentence, for SMS, email, a button's notice and (escaped) the skill
    at: datetime  # when the change happened
    read: bool = False  # the skill read it out
    notice_id: str = ""  # its key within the person's notices


class Recipient(NamedTuple):
    """A notice's person with every channel they have: their profile and the buttons bound to them now."""

    person: Person
    serials: tuple[str, ...]


class Change(NamedTuple):
    """A change that concerns people, as one stream record tells it (core.store.notices.what_changed)."""

    what: str  # promoted | moved | deleted | cancelled | reminder
    event_id: str
    event_name: str | None  # None: the record does not carry it (a promoted signup), read it from the event
    at: datetime
    people: tuple[str, ...] | None  # None: everyone signed up for the event now (a moved event; a reminder: going)
    starts_at: datetime | None = None  # moved, reminder: aware, in the event's own zone
    location: str | None = None


class Feed(NamedTuple):
    """A calendar feed's secret address: a person's (their events) or, with person None, the group's (all)."""

    person: str | None
    token: str
    created_at: datetime


class CalendarEntry(NamedTuple):
    """One event as a calendar feed publishes it."""

    event: Event
    status: Literal["CONFIRMED", "TENTATIVE", "CANCELLED"]  # TENTATIVE: waiting in line; CANCELLED: deleted


class Series(NamedTuple):
    """Events that repeat (core/services/series.py): what each occurrence is made from, its rule
    (core.recurrence.Repeat), and how far it has got. Occurrences are events of their own, with the series' id."""

    series_id: str
    name: str
    first: datetime  # the first occurrence's start, aware, in the series' zone
    at: time  # the wall-clock time occurrences made from now on start at (a change of "this and later" moves it)
    minutes: int | None  # how long each occurrence lasts; None: no end given
    timezone: str
    location: str | None
    description: str | None
    capacity: int | None
    reminders: tuple[int, ...]
    repeat: Any  # core.recurrence.Repeat
    next_index: int  # the number of occurrences made so far: the next one's index
    occurrences: dict[int, str]  # index -> event id, of the latest made (core.store.series.KEPT)
    created_at: datetime
    ended_at: datetime | None = None  # ended by an organizer: no more are made
