"""Core: every key of the one table is built here and nowhere else."""
from __future__ import annotations

import hashlib
import zlib
from datetime import datetime, timezone

# Sort order inside an event's partition on the `by_status` index: going signups
# by when they got their seat, then the event item itself, then the waitlist by
# when each request arrived. One query reads the whole list in order, and one
# query from EVENT_ORDER reads the counts and the head of the waitlist together.
GOING_PREFIX = "B#"
EVENT_ORDER = "C"
WAITLIST_PREFIX = "D#"
AFTER_WAITLIST = "D$"
EVENTS_PARTITION = "EVENTS"
# Series still making occurrences sit in by_start under this partition, sorted by when their next one is due: the
# scheduled run reads the due ones with one query (core/services/series.py), and a series that has ended leaves it.
SERIES_DUE_PARTITION = "SERIES"
ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no "0": SEAT_BLOCKS_MARK tells a hot event's id
UNLIMITED_SEATS = 10**15
# An event with seat blocks says so in its id: its generated part never holds a "0" (ID_ALPHABET),
# so "<id>0<blocks, two digits>" is told apart from any other id without a read - a sign-up knows which items
# to write before it writes.
SEAT_BLOCKS_MARK = "0"


def utc(moment: datetime) -> str:
    """Fixed-width UTC text, so string order is time order (conditions and sort keys rely on it)."""
    if moment.tzinfo is not timezone.utc:
        moment = moment.astimezone(timezone.utc)
    return moment.isoformat(timespec="microseconds")[:26] + "Z"


def from_utc(text: str) -> datetime:
    """The aware UTC moment utc() wrote."""
    return datetime.fromisoformat(text)


def event(event_id: str) -> tuple[str, str]:
    return f"EVENT#{event_id}", "EVENT"


def event_partition(event_id: str) -> str:
    return f"EVENT#{event_id}"


def with_seat_blocks(event_id: str, blocks: int) -> str:
    return f"{event_id}{SEAT_BLOCKS_MARK}{blocks:02d}"


def seat_blocks(event_id: str) -> int | None:
    """How many seat blocks the event's id says it has; None for an event whose seats are on its own item."""
    if (
        len(event_id) > 3
        and event_id[-3] == SEAT_BLOCKS_MARK
        and event_id[-2:].isdigit()
        and SEAT_BLOCKS_MARK not in event_id[:-3]
    ):
        return int(event_id[-2:])
    return None


def seats_partition(event_id: str) -> str:
    """A hot event's seat blocks live apart from its own partition, so their writes draw on another partition's
    throughput (docs/SCALING.md, seat blocks)."""
    return f"SEATS#{event_id}"


def seat_block(event_id: str, block: int) -> tuple[str, str]:
    return seats_partition(event_id), f"BLOCK#{block:02d}"


def home_block(person: str, blocks: int) -> int:
    """The block a person's sign-up tries first: a stable hash, so load spreads evenly and a cancel can guess it."""
    return zlib.crc32(person.encode()) % blocks


def signup(event_id: str, person: str) -> tuple[str, str]:
    return f"EVENT#{event_id}", f"SIGNUP#{person}"


def going_order(went_at: datetime | str, person: str) -> str:
    """went_at: a time, or its utc() text when the caller has it already."""
    return f"{GOING_PREFIX}{went_at if isinstance(went_at, str) else utc(went_at)}#{person}"


def waitlist_order(joined_at: datetime | str, person: str) -> str:
    """The line is ordered by when each request arrived: no shared counter for concurrent joins to fight over.
    joined_at: a time, or its utc() text."""
    return f"{WAITLIST_PREFIX}{joined_at if isinstance(joined_at, str) else utc(joined_at)}#{person}"


def event_start_order(starts_at: datetime, event_id: str) -> str:
    return f"{utc(starts_at)}#{event_id}"


def device(serial: str) -> tuple[str, str]:
    return f"DEVICE#{serial}", "DEVICE"


def button_of_event(event_id: str, serial: str) -> tuple[str, str]:
    """A button bound to one event, in the event's partition: deleting the event finds its buttons to re-point."""
    return f"EVENT#{event_id}", f"BUTTON#{serial}"


def pairing_code(code: str) -> tuple[str, str]:
    """A code's item is keyed by a sha256 of it (under a fixed prefix), so whoever reads the table (a snapshot, a
    backup, the console) does not see the codes that are out. A six-digit code hashes back in a million tries, so
    the hash is no lock: what protects a code is that it lives minutes and that an Alexa user is locked out after a
    few wrong ones (core.store.pairing)."""
    return f"CODE#{hashlib.sha256(f'turnout pairing code {code}'.encode()).hexdigest()}", "CODE"


def alexa_link(alexa_user_id: str) -> tuple[str, str]:
    return f"ALEXA#{alexa_user_id}", "LINK"


def pairing_misses(scope: str) -> tuple[str, str]:
    """Wrong-code counter; scope is an Alexa user id or a person handle."""
    return f"MISSES#{scope}", "MISSES"


def request(request_id: str) -> tuple[str, str]:
    return f"REQUEST#{request_id}", "REQUEST"


def person(handle: str) -> tuple[str, str]:
    return f"PERSON#{handle}", "PROFILE"


def button_of_person(handle: str, serial: str) -> tuple[str, str]:
    """Sorts after the profile's own sk, so one query from PROFILE reads the profile and the person's buttons."""
    return f"PERSON#{handle}", f"PROFILE#BUTTON#{serial}"


NOTICE_PREFIX = "NOTICE#"


def notice(handle: str, at: str, what: str, event_id: str) -> tuple[str, str]:
    """One per person and change: `at` (keys.utc text) is when the change happened, so a repeated stream record
    names the same notice and a later change of the same kind names a new one."""
    return f"PERSON#{handle}", f"{NOTICE_PREFIX}{at}#{what}#{event_id}"


def change(event_id: str, at: str, what: str, part: str = "") -> tuple[str, str]:
    return f"CHANGE#{event_id}", f"{at}#{what}{'#' + part if part else ''}"


def feed(token: str) -> tuple[str, str]:
    """A calendar feed, found by the secret its URL carries."""
    return f"FEED#{token}", "FEED"


def feed_of(handle: str | None) -> tuple[str, str]:
    """Which feed is a person's now (None: the group's), so renewing or revoking it finds the old secret."""
    return (f"PERSON#{handle}", "FEED") if handle is not None else ("GROUP", "FEED")


def tombstone(event_id: str) -> tuple[str, str]:
    """A deleted event, kept a while in by_start so calendar feeds publish it cancelled."""
    return f"GONE#{event_id}", "GONE"


def series(series_id: str) -> tuple[str, str]:
    return f"SERIES#{series_id}", "SERIES"


def series_due_order(due: datetime, series_id: str) -> str:
    return f"{utc(due)}#{series_id}"


OCCURRENCE_DIGITS = 3


def occurrence(series_id: str, index: int) -> str:
    """Occurrence `index` of a series has one id, so two runs that make it at once make one event (the second put is
    refused): the series' id and the index in three letters of ID_ALPHABET (32768 occurrences; a series makes at
    most core.recurrence.COUNT_MAX)."""
    digits = ""
    for _ in range(OCCURRENCE_DIGITS):
        index, rest = divmod(index, len(ID_ALPHABET))
        digits = ID_ALPHABET[rest] + digits
    return series_id + digits
