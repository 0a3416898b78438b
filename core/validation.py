"""Core: the rules every input must pass before it reaches the table, shared by all entry points."""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.errors import InvalidInput
from core.moments import MONTH_NAMES

HANDLE_MAX = 40
SERIAL_MAX = 64
HANDLE = re.compile(rf"[a-z0-9](?:[a-z0-9-]{{0,{HANDLE_MAX - 2}}}[a-z0-9])?")
SERIAL = re.compile(rf"[A-Za-z0-9_-]{{1,{SERIAL_MAX}}}")
EVENT_ID = re.compile(r"[a-z0-9]{1,32}")
# Text, not compiled: only an event's create or change reads a zone, and the re module compiles it then and keeps it.
ZONE_NAME = r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+){0,2}"

NAME_MAX = 120
LOCATION_MAX = 200
DESCRIPTION_MAX = 2000
PERSON_NAME_MAX = 80
CAPACITY_MAX = 100_000
GUESTS_MAX = 20
# A hot event's seat blocks: every one of them takes part in a transaction that joins the line, and a
# transaction holds at most 100 items.
SEAT_BLOCKS_MIN = 2
SEAT_BLOCKS_MAX = 16
EVENT_LENGTH_MAX = timedelta(days=14)
# Reminder times, in minutes before the start: the reminder run looks this far ahead (docs/SCALING.md, reminders).
REMINDER_MIN = 5
REMINDER_MAX = 7 * 24 * 60
REMINDERS_MAX = 4
PAGE_MAX = 100


def handle(value: object, field: str = "person") -> str:
    if not isinstance(value, str) or not HANDLE.fullmatch(value):
        raise InvalidInput(
            "A person is a handle of 1 to 40 lowercase letters, digits and '-', not starting or ending with '-'.",
            field,
        )
    return value


def serial(value: object) -> str:
    if not isinstance(value, str) or not SERIAL.fullmatch(value):
        raise InvalidInput("A button serial is 1 to 64 letters, digits, '_' or '-'.", "serial")
    return value


def event_id(value: object) -> str:
    if not isinstance(value, str) or not EVENT_ID.fullmatch(value):
        raise InvalidInput("An event id is 1 to 32 lowercase letters and digits.", "event_id")
    return value


def series_id(value: object) -> str:
    if not isinstance(value, str) or not EVENT_ID.fullmatch(value):
        raise InvalidInput("A series id is 1 to 32 lowercase letters and digits.", "series_id")
    return value


# Patterns kept as text, which the re module compiles on first use and keeps: a cold start pays for none of them.
CLOCK_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]"


def clock_time(value: object, field: str = "time") -> str:
    """A wall-clock time of day, HH:MM (24-hour), read in the event's own zone."""
    if not isinstance(value, str) or not re.fullmatch(CLOCK_TIME, value):
        raise InvalidInput(f"{field} is a time of day, HH:MM (24-hour), such as 19:00.", field)
    return value


MINUTES_MAX = int(EVENT_LENGTH_MAX.total_seconds() // 60)


def minutes(value: object, field: str = "minutes") -> int | None:
    """How long each occurrence of a series lasts, in whole minutes; None: no end given."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MINUTES_MAX:
        raise InvalidInput(f"{field} is a whole number from 1 to {MINUTES_MAX}, or null for no end.", field)
    return value



@overload
def text(value: object, field: str, *, max_length: int, required: Literal[True], multiline: bool = False) -> str: ...
@overload
def text(value: object, field: str, *, max_length: int, required: bool = False, multiline: bool = False) -> str | None:
    ...
def text(value: object, field: str, *, max_length: int, required: bool = False, multiline: bool = False) -> str | None:
    """Normalise free text to NFC, trim it, and refuse control characters and overlong values."""
    if value is None:
        if required:
            raise InvalidInput(f"{field} is required.", field)
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string.", field)
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")  # Windows and old Mac line endings
    cleaned = (value if unicodedata.is_normalized("NFC", value) else unicodedata.normalize("NFC", value)).strip()
    # Printable text holds no control character; only the rest is looked at one character at a time.
    allowed = {"\n", "\t"} if multiline else set()
    if not cleaned.isprintable() and any(
            unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in cleaned):
        raise InvalidInput(f"{field} must not contain control characters.", field)
    if not cleaned:
        if required:
            raise InvalidInput(f"{field} must not be empty.", field)
        return None
    if len(cleaned) > max_length:
        raise InvalidInput(f"{field} is at most {max_length} characters.", field)
    return cleaned


def timezone(value: object) -> str:
    """An IANA time zone, as tzdata spells it. A slip of case or spacing ('europe/oslo', 'Europe/Oslo ', 'america/new
    york') is taken as the zone it names; an abbreviation ('CET', 'EST'), which follows no place's daylight saving,
    is refused with the places it may mean; a near miss ('Oslo', 'Europe/Olso') is refused with the nearest name."""
    if not isinstance(value, str):
        raise InvalidInput(ZONE_MESSAGE, "timezone")
    if re.fullmatch(ZONE_NAME, value) and value.upper() not in ABBREVIATIONS and _exists(value):
        return value
    written = " ".join(value.split())
    if written.upper() in ABBREVIATIONS:
        places = ABBREVIATIONS[written.upper()]
        raise InvalidInput(f"timezone {written!r} is an abbreviation, which follows no place's daylight saving: give "
                           f"the place's zone, such as {' or '.join(repr(place) for place in places)}.", "timezone")
    known = _zones_by_folded_name()
    slipped = known.get(_folded(written))
    if slipped is not None:
        return slipped
    nearest = _nearest_zone(written, known) if len(written) <= 60 else None
    hint = f" Did you mean {nearest}?" if nearest else ""
    raise InvalidInput(f"timezone {written[:60]!r} is not an IANA time zone such as 'Europe/Oslo' or 'UTC'.{hint}",
                       "timezone")


ZONE_MESSAGE = "timezone must be an IANA time zone such as 'Europe/Oslo' or 'UTC'."
# Abbreviations people write for a zone, and the places they may mean. tzdata keeps some of them (CET, EST, MST,
# HST, EET, WET, MET and the POSIX CST6CDT family) as zones of their own that follow no place's rules; the rest it
# does not know at all. Either way the event would be told at the wrong hour part of the year.
_US_EAST, _US_CENTRAL = ("America/New_York", "America/Toronto"), ("America/Chicago", "America/Mexico_City")
_US_MOUNTAIN, _US_PACIFIC = ("America/Denver", "America/Phoenix"), ("America/Los_Angeles", "America/Vancouver")
_CENTRAL_EUROPE = ("Europe/Oslo", "Europe/Berlin", "Europe/Paris")
_EASTERN_EUROPE = ("Europe/Helsinki", "Europe/Athens")
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "EST": _US_EAST, "EDT": _US_EAST, "EST5EDT": _US_EAST, "CST": _US_CENTRAL, "CDT": _US_CENTRAL,
    "CST6CDT": _US_CENTRAL, "MST": _US_MOUNTAIN, "MDT": _US_MOUNTAIN, "MST7MDT": _US_MOUNTAIN, "PST": _US_PACIFIC,
    "PDT": _US_PACIFIC, "PST8PDT": _US_PACIFIC, "HST": ("Pacific/Honolulu",), "AKST": ("America/Anchorage",),
    "AKDT": ("America/Anchorage",), "CET": _CENTRAL_EUROPE, "CEST": _CENTRAL_EUROPE, "MET": _CENTRAL_EUROPE,
    "MEST": _CENTRAL_EUROPE, "EET": _EASTERN_EUROPE, "EEST": _EASTERN_EUROPE, "WET": ("Europe/Lisbon",),
    "WEST": ("Europe/Lisbon",), "BST": ("Europe/London",), "IST": ("Asia/Kolkata", "Europe/Dublin"),
}


def _exists(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _folded(name: str) -> str:
    """A zone name with case and spacing folded away: ' america / new york' and 'America/New_York' are one."""
    return "/".join("_".join(part.replace("_", " ").split()) for part in name.split("/")).casefold()


@lru_cache(maxsize=1)
def _zones_by_folded_name() -> dict[str, str]:
    """Every zone tzdata knows, by its name with case and spacing folded away. Read on a refusal's path only: it
    walks the whole zone folder, which a cold start must not pay."""
    return {_folded(name): name for name in available_timezones() if name.upper() not in ABBREVIATIONS}


def _nearest_zone(written: str, known: dict[str, str]) -> str | None:
    """The zone a near miss most likely meant: a city alone ('Oslo') by the zone it ends, a misspelling by the
    closest whole name."""
    folded = _folded(written)
    by_place = [name for key, name in known.items() if key.rpartition("/")[2] == folded]
    if by_place:
        return min(by_place, key=len)
    import difflib  # here, on a refusal's path: no cold start pays for it

    close = difflib.get_close_matches(folded, list(known), n=1, cutoff=0.8)
    if close:
        return known[close[0]]
    places = {key.rpartition("/")[2]: name for key, name in known.items()}
    close = difflib.get_close_matches(folded.rpartition("/")[2], list(places), n=1, cutoff=0.8)
    return places[close[0]] if close else None


def zone_of_offset(value: object) -> str:
    """The time zone of an event created without one: the fixed-offset IANA zone of the offset its start is written
    with (Etc/GMT-1 for +01:00: those names keep POSIX's inverted sign), and UTC for a time without an offset. An
    offset of minutes, which no IANA name fixes, asks for the zone."""
    if not isinstance(value, str):
        return "UTC"  # not text: instant() refuses it
    try:
        written = datetime.fromisoformat(value)
    except ValueError:
        return "UTC"  # not a time at all: instant() says so
    offset = written.utcoffset()
    if not offset:
        return "UTC"
    hours, minutes = divmod(offset, timedelta(hours=1))
    if minutes or not -12 <= hours <= 14:
        raise InvalidInput(f"starts_at is written at {written.tzname()}, an offset no fixed time zone names: give the "
                           "event's timezone, such as 'Asia/Kolkata'.", "timezone")
    return f"Etc/GMT{-hours:+d}"


def instant(value: object, field: str, tz: str) -> datetime:
    """An ISO 8601 time; one written without an offset is read in the event's own time zone. A date alone is refused
    (it would be midnight, which nobody means), and an impossible date says which part is impossible."""
    example = f"{field} must be an ISO 8601 time such as 2026-12-04T07:00:00+01:00."
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidInput(example, field)
    if re.fullmatch(DATE_ONLY, value.strip()):
        raise InvalidInput(f"{field} {value.strip()!r} gives a date but no time: add the time, such as "
                           f"{value.strip()}T19:00.", field)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        impossible = _impossible_part(value)
        raise InvalidInput(f"{field} {value!r} is not a real time: {impossible}." if impossible else example,
                           field) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(tz))
    return parsed.astimezone(ZoneInfo(tz))


DATE_ONLY = r"\d{4}-\d{2}-\d{2}|\d{8}"  # as text, like CLOCK_TIME
_WRITTEN_TIME = r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2}))?)?)?"


def _impossible_part(value: str) -> str | None:
    """Which part of a time written in the right shape does not exist ("day 32 doesn't exist in December"); None
    when the shape itself is wrong."""
    written = re.match(_WRITTEN_TIME, value.strip())
    if written is None:
        return None
    year, month, day = (int(part) for part in written.group(1, 2, 3))
    if not 1 <= month <= 12:
        return f"month {month} doesn't exist"
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
    if not 1 <= day <= days:
        named = MONTH_NAMES[month - 1] + (f" {year}" if month == 2 else "")
        return f"day {day} doesn't exist in {named}"
    for part, limit, name in zip(written.group(4, 5, 6), (24, 60, 60), ("hour", "minute", "second"), strict=True):
        if part is not None and int(part) >= limit:
            return f"{name} {int(part)} doesn't exist"
    return None


def capacity(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= CAPACITY_MAX:
        raise InvalidInput(f"capacity is a whole number from 1 to {CAPACITY_MAX}, or null for unlimited.", "capacity")
    return value


def seat_blocks(value: object, capacity: int | None) -> int | None:
    """How many seat blocks a hot event's seats are split into (docs/SCALING.md); None: all on the event."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not SEAT_BLOCKS_MIN <= value <= SEAT_BLOCKS_MAX:
        raise InvalidInput(f"seat_blocks is a whole number from {SEAT_BLOCKS_MIN} to {SEAT_BLOCKS_MAX}, or null.",
                           "seat_blocks")
    if capacity is not None and capacity < value:
        raise InvalidInput("seat_blocks cannot be more than the capacity: each block holds a seat at least.",
                           "seat_blocks")
    return value


def reminders(value: object) -> tuple[int, ...]:
    """Minutes before the start, latest first once stored; [] sends none. Raises InvalidInput."""
    if not isinstance(value, (list, tuple)) or len(value) > REMINDERS_MAX or any(
            isinstance(each, bool) or not isinstance(each, int) or not REMINDER_MIN <= each <= REMINDER_MAX
            for each in value) or len(set(value)) != len(value):
        raise InvalidInput(f"reminders is a list of at most {REMINDERS_MAX} different whole minutes before the start, "
                           f"each {REMINDER_MIN} to {REMINDER_MAX} (a week); [] sends none.", "reminders")
    return tuple(sorted(value, reverse=True))


def guests(value: object) -> int:
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= GUESTS_MAX:
        raise InvalidInput(f"guests is a whole number from 0 to {GUESTS_MAX}.", "guests")
    return value


def page_size(value: object, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= PAGE_MAX:
        raise InvalidInput(f"limit is a whole number from 1 to {PAGE_MAX}.", "limit")
    return value


def signups_close(close_at: datetime | None, list_closes_at: datetime) -> None:
    if close_at is not None and close_at > list_closes_at:
        raise InvalidInput("signups_close_at must not be after the event ends.", "signups_close_at")


def event_times(starts_at: datetime, ends_at: datetime | None) -> None:
    if ends_at is None:
        return
    if ends_at <= starts_at:
        raise InvalidInput("ends_at must be after starts_at.", "ends_at")
    if ends_at - starts_at > EVENT_LENGTH_MAX:
        raise InvalidInput("An event lasts at most 14 days.", "ends_at")



# As text, like CLOCK_TIME: only a profile's change reads them.
EMAIL = (r"[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
         r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")
PHONE = r"\+[1-9][0-9]{6,14}"
EMAIL_MAX = 254


def email(value: object) -> str | None:
    """An address SNS can send to: one @, a dotted domain; None clears it."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > EMAIL_MAX or not re.fullmatch(EMAIL, value.strip()):
        raise InvalidInput("email is an address such as melvin@example.com.", "email")
    return value.strip()


def phone(value: object) -> str | None:
    """E.164, the only form SNS sends an SMS to: '+' then 7 to 15 digits; None clears it."""
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(PHONE, value.replace(" ", "")):
        raise InvalidInput("phone is an E.164 number such as +4712345678.", "phone")
    return value.replace(" ", "")


@overload
def request_id(value: str) -> str: ...
@overload
def request_id(value: None) -> None: ...
def request_id(value: str | None) -> str | None:
    """An idempotency key (a click id, an Idempotency-Key header): absent, or 1 to 200 characters."""
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= 200:
        raise InvalidInput("request_id is 1 to 200 characters.", "request_id")
    return value
