"""Core: the plain domain values that travel back up to every entry point."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, Literal, TypeVar

Status = Literal["going", "waitlisted"]
Source = Literal["api", "alexa", "iot"]
SOURCES: tuple[str, ...] = ("api", "alexa", "iot")

T = TypeVar("T")
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class SignupOutcome:
    signup: Signup
    created: bool  # False: this person was already signed up, nothing changed
    replayed: bool = False  # True: a repeated request_id; this is the first delivery's outcome


@dataclass(frozen=True)
class Cancellation:
    cancelled: Signup
    promoted: Signup | None
    replayed: bool = False  # True: a repeated request_id; this is the first delivery's outcome


@dataclass(frozen=True)
class Device:
    serial: str
    person: str
    event_id: str | None
    bound_at: datetime


@dataclass(frozen=True)
class PairingCode:
    person: str
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class SignupPage:
    signups: list[Signup]
    going: int
    waitlisted: int
    next_cursor: str | None
