"""Core: the plain domain values that travel back up to every entry point.

Values are NamedTuples: never changed once built (_replace makes a changed copy), and defined at import without
the methods a dataclass compiles then, which every cold start would pay. Annotations here are evaluated, not
postponed: NamedTuple compiles every postponed (string) annotation it is handed.

What members and organizers keep beside an event's signups - a profile, notices, calendar feeds, a series - has
its values in core/member_values.py: no sign-up, press or spoken request builds them."""

from datetime import datetime, timedelta
from typing import Any, Generic, Literal, NamedTuple, TypeVar

Status = Literal["going", "waitlisted"]
Source = Literal["api", "alexa", "iot"]
SOURCES: tuple[str, ...] = ("api", "alexa", "iot")

T = TypeVar("T")
_ONE_DAY = timedelta(days=1)
# Minutes before the start at which everyone going is reminded, unless the organizer chose other times.
DEFAULT_REMINDERS: tuple[int, ...] = (1440, 120)
# How long an event without an end is taken to last wherever a length must be shown (a calendar's DTEND): a
# meetup's usual evening, not the end of its day, which made a 07:00 trip a 17-hour block (README, "Calendar feeds").
ASSUMED_LENGTH = timedelta(hours=2)


class Event(NamedTuple):
    event_id: str
    name: str
    starts_at: datetime  # aware, in the event's own time zone
    ends_at: datetime | None
    timezone: str
    location: str | None
    description: str | None
    capacity: int | None  # people including guests; None is unlimited
    going: int  # signups going: people who signed up, each maybe bringing guests
    waitlisted: int  # signups waiting
    spots_left: int | None  # None when capacity is unlimited
    seats_taken: int  # seats the going signups hold: each of them and their guests
    created_at: datetime
    signups_close_at: datetime | None = None  # the organizer's closing time for new signups; None: the start
    seat_blocks: int | None = None  # a hot event's seats are split over this many items (docs/SCALING.md)
    # False: read from the listing index, which holds no counts (core/table.py LISTED); going, waitlisted and
    # seats_taken are then 0 and spots_left None, and only what describes the event is to be told.
    counted: bool = True
    reminders: tuple[int, ...] = DEFAULT_REMINDERS  # minutes before the start; () sends none
    sequence: int = 0  # grows with each change of time or place: a calendar's SEQUENCE
    series_id: str | None = None  # the series it is an occurrence of (core/services/series.py), if any

    @property
    def closes_at(self) -> datetime:
        """When the list closes and the event stops being listed: its end, or the end of its first day when no
        end is given. Check-in runs until then."""
        if self.ends_at is not None:
            return self.ends_at
        return self.starts_at.replace(hour=0, minute=0, second=0, microsecond=0) + _ONE_DAY

    @property
    def shown_end(self) -> datetime:
        """The end a calendar shows: the organizer's, or ASSUMED_LENGTH after the start when none was given (never
        after the list closes, so it stays on the event's own day)."""
        if self.ends_at is not None:
            return self.ends_at
        return min(self.starts_at + ASSUMED_LENGTH, self.closes_at)

    @property
    def signups_until(self) -> datetime:
        """When new signups stop: at the start, unless the organizer chose another time (never after the end)."""
        return self.signups_close_at if self.signups_close_at is not None else self.starts_at


class Signup(NamedTuple):
    event_id: str
    person: str
    name: str | None
    guests: int
    status: Status
    position: int | None  # 1-based place on the waitlist; None when going
    source: Source
    signed_up_at: datetime
    checked_in_at: datetime | None


class SignupOutcome(NamedTuple):
    signup: Signup
    created: bool  # False: this person was already signed up, nothing changed
    replayed: bool = False  # True: a repeated request_id; this is the first delivery's outcome
    note: dict[str, Any] | None = None  # on a replay: what the first delivery stored beside its outcome
    places_left: int | None = None  # a party that joined the line now: the places free as it did (None: not known)


class InLine(NamedTuple):
    """Why a party waits, the facts each edge words in a sentence of its own (core.lines.why_in_line):
    "2 places are left; your party of 3 doesn't fit, so you're number 1 in line"."""

    reason: Literal["full", "too_big", "behind", "waiting"]  # waiting: already in line, or the reason is not known
    places_left: int | None  # free places when the party joined the line
    party: int  # the person and their guests
    position: int | None  # place in line


class Cancelled(NamedTuple):
    """The signup a cancel removed, as far as its transaction knew it: whose, its status then, its guests. The
    rest of what was stored (name, source, times) is not read, so a cancel costs two calls (docs/SCALING.md)."""

    event_id: str
    person: str
    status: Status  # as it was
    guests: int


class Cancellation(NamedTuple):
    cancelled: Cancelled
    promoted: Signup | None
    replayed: bool = False  # True: a repeated request_id; this is the first delivery's outcome
    note: dict[str, Any] | None = None  # on a replay: what the first delivery stored beside its outcome
    event: Event | None = None  # the event as the cancel read it (not on a replay)


class CheckIn(NamedTuple):
    signup: Signup
    replayed: bool = False  # True: a repeated request_id
    note: dict[str, Any] | None = None  # on a replay: what the first delivery stored beside its outcome
    event: Event | None = None  # the event as the check-in read it


class Device(NamedTuple):
    serial: str
    person: str
    event_id: str | None
    bound_at: datetime
    # What the binding remembers of its event, for the button's answers: checked against the event itself
    # in the same transaction as every sign-up from the button, so never answered stale.
    event_name: str | None = None
    event_starts_at: datetime | None = None  # aware, in the event's own time zone
    # The person's display name, for the signups the button makes: copied from their profile when the button is
    # bound and whenever they set it, so a press reads no profile.
    person_name: str | None = None
    # A button bound to a series (core/services/series.py) signs up for its next occurrence; event_id is then None.
    series_id: str | None = None


class EventRef(NamedTuple):
    """An event as a short answer names it."""

    event_id: str
    name: str
    starts_at: datetime  # aware, in the event's own time zone

    @classmethod
    def of(cls, event: Event) -> "EventRef":
        return cls(event.event_id, event.name, event.starts_at)

    def names(self, event: Event) -> bool:
        """Still true of the event: its name, its start, and the zone the start is told in."""
        zone = getattr(self.starts_at.tzinfo, "key", None)
        return (self.name, self.starts_at, zone) == (event.name, event.starts_at, event.timezone)


class Press(NamedTuple):
    """What one click of a button came to, and whether this delivery of it is the one to answer."""

    click: str | None  # SINGLE | DOUBLE | LONG; None for a message that named none
    outcome: str  # signed_up | waitlisted | already_signed_up | cancelled | checked_in | error
    event: EventRef | None
    status: str | None  # going | waitlisted: where the person stood (before a cancel, after anything else)
    position: int | None  # place on the waitlist
    error: tuple[str, str] | None  # (code, message) when outcome is "error"
    answer: bool  # False: another delivery of this click stored its outcome, and answers it
    in_line: InLine | None = None  # waitlisted: why (core.lines)


class PairingCode(NamedTuple):
    person: str
    code: str
    expires_at: datetime


class Page(NamedTuple, Generic[T]):
    items: list[T]
    next_cursor: str | None


class SignupPage(NamedTuple):
    signups: list[Signup]
    going: int
    waitlisted: int
    next_cursor: str | None
    seats_taken: int
