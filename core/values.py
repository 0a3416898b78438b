"""Core: the plain domain values that travel back up to every entry point.

Values are never changed once built (dataclasses.replace makes a changed copy), by convention rather than
frozen=True: a frozen dataclass's __init__ goes through object.__setattr__ field by field, three times the
cost of a plain one, and a page of signups builds dozens per request (make bench)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Literal, TypeVar

Status = Literal["going", "waitlisted"]
Source = Literal["api", "alexa", "iot"]
SOURCES: tuple[str, ...] = ("api", "alexa", "iot")

T = TypeVar("T")
_ONE_DAY = timedelta(days=1)


@dataclass(slots=True)
class Event:
    event_id: str
    name: str
    starts_at: datetime  # aware, in the event's own time zone
    ends_at: datetime | None
    timezone: str
    location: str | None
    description: str | None
    capacity: int | None  # people including guests; None is unlimited
    going: int  # signups going
    waitlisted: int  # signups waiting
    spots_left: int | None  # None when capacity is unlimited
    created_at: datetime

    @property
    def closes_at(self) -> datetime:
        """When the list closes: the event's end, or the end of its first day when no end is given."""
        if self.ends_at is not None:
            return self.ends_at
        return self.starts_at.replace(hour=0, minute=0, second=0, microsecond=0) + _ONE_DAY


@dataclass(slots=True)
class Signup:
    event_id: str
    person: str
    name: str | None
    guests: int
    status: Status
    position: int | None  # 1-based place on the waitlist; None when going
    source: Source
    signed_up_at: datetime
    checked_in_at: datetime | None


@dataclass(slots=True)
class SignupOutcome:
    signup: Signup
    created: bool  # False: this person was already signed up, nothing changed
    replayed: bool = False  # True: a repeated request_id; this is the first delivery's outcome
    note: dict[str, Any] | None = None  # on a replay: what the first delivery stored beside its outcome


@dataclass(slots=True)
class Cancelled:
    """The signup a cancel removed, as far as its transaction knew it: whose, its status then, its guests. The
    rest of what was stored (name, source, times) is not read, so a cancel costs two calls (docs/SCALING.md)."""

    event_id: str
    person: str
    status: str  # as it was: going | waitlisted
    guests: int


@dataclass(slots=True)
class Cancellation:
    cancelled: Cancelled
    promoted: Signup | None
    replayed: bool = False  # True: a repeated request_id; this is the first delivery's outcome
    note: dict[str, Any] | None = None  # on a replay: what the first delivery stored beside its outcome
    event: Event | None = None  # the event as the cancel read it (not on a replay)


@dataclass(slots=True)
class CheckIn:
    signup: Signup
    replayed: bool = False  # True: a repeated request_id
    note: dict[str, Any] | None = None  # on a replay: what the first delivery stored beside its outcome
    event: Event | None = None  # the event as the check-in read it


@dataclass(slots=True)
class Device:
    serial: str
    person: str
    event_id: str | None
    bound_at: datetime
    # What the binding remembers of its event, for the button's answers: checked against the event itself
    # in the same transaction as every sign-up from the button, so never answered stale.
    event_name: str | None = None
    event_starts_at: datetime | None = None  # aware, in the event's own time zone


@dataclass(slots=True)
class EventRef:
    """An event as a short answer names it."""

    event_id: str
    name: str
    starts_at: datetime  # aware, in the event's own time zone

    @classmethod
    def of(cls, event: Event) -> EventRef:
        return cls(event.event_id, event.name, event.starts_at)

    def names(self, event: Event) -> bool:
        """Still true of the event: its name, its start, and the zone the start is told in."""
        zone = getattr(self.starts_at.tzinfo, "key", None)
        return (self.name, self.starts_at, zone) == (event.name, event.starts_at, event.timezone)


@dataclass(slots=True)
class Press:
    """What one click of a button came to, and whether this delivery of it is the one to answer."""

    click: str | None  # SINGLE | DOUBLE | LONG; None for a message that named none
    outcome: str  # signed_up | waitlisted | already_signed_up | cancelled | checked_in | error
    event: EventRef | None
    status: str | None  # going | waitlisted: where the person stood (before a cancel, after anything else)
    position: int | None  # place on the waitlist
    error: tuple[str, str] | None  # (code, message) when outcome is "error"
    answer: bool  # False: another delivery of this click stored its outcome, and answers it


@dataclass(slots=True)
class PairingCode:
    person: str
    code: str
    expires_at: datetime


@dataclass(slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(slots=True)
class SignupPage:
    signups: list[Signup]
    going: int
    waitlisted: int
    next_cursor: str | None
