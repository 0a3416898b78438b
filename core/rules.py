"""Core rules: the decisions services and the store make that touch no table, as plain functions of values."""
from __future__ import annotations

from datetime import datetime, timedelta

import orjson

from core import errors, keys
from core.values import Event


def request(action: str, *about: str | None, **arguments: object) -> str:
    """What a request asked for, as text stored beside its outcome: a request id's outcome answers only a
    request that asks for the very same (action, what it is about, and the arguments that change its effect)."""
    return orjson.dumps([action, about, arguments], option=orjson.OPT_SORT_KEYS).decode()


def seats(guests: int) -> int:
    """Seats a party takes: the person and their guests."""
    return 1 + guests


def room(capacity: int | None) -> int:
    """Seats an event holds in all; an unlimited one holds more than any party could ask for."""
    return capacity if capacity is not None else keys.UNLIMITED_SEATS


def seat_shares(capacity: int | None, blocks: int) -> list[int]:
    """A hot event's seats split over its blocks as evenly as whole seats go; unlimited blocks each."""
    if capacity is None:
        return [keys.UNLIMITED_SEATS] * blocks
    return [capacity // blocks + (1 if block < capacity % blocks else 0) for block in range(blocks)]


def seat_plan(free: dict[int, int], party: int, first: int) -> list[tuple[int, int]] | None:
    """Where a party's seats come from on a hot event: the block `first` alone when it has room, else the
    block with most free seats alone, else several blocks together (most free first) - a party is never refused
    for seats that are free but split. [(block, seats taken), ...], the first being the block the signup holds its
    seats on; None when fewer are free than the party needs."""
    if free.get(first, 0) >= party:
        return [(first, party)]
    by_room = sorted(free, key=lambda block: (-free[block], block))
    if not by_room or sum(free.values()) < party:
        return None
    plan, needed = [], party
    for block in by_room:
        if needed == 0:
            break
        taken = min(free[block], needed)
        if taken:
            plan.append((block, taken))
            needed -= taken
    return plan


def joins_the_line(seats_left: int, waiting: int, party: int) -> bool:
    """A party waits when its seats are not free, or when anyone is waiting already, unless the line, once read,
    holds nobody its free seats fit (fits): first come, first served."""
    return seats_left < party or waiting > 0


def fits(guests: int, free: int) -> bool:
    """Free seats go to the first in line whose whole party fits them: a bigger party ahead keeps its place in
    line, and is seated once enough seats are free for all of it (as Meetup does)."""
    return seats(guests) <= free


def check_party_fits(capacity: int | None, party: int) -> None:
    """Raises InvalidInput when the party is larger than the whole event."""
    if capacity is not None and party > capacity:
        raise errors.InvalidInput(f"The event has {capacity} places; a party of {party} cannot fit.", "guests")


def check_in_open(event: Event, now: datetime, opens_before: timedelta) -> None:
    """Check-in runs from `opens_before` the start until the list closes. Raises EventOver, CheckInNotOpen."""
    if now >= event.closes_at:
        raise errors.EventOver(event.event_id)
    opens_at = event.starts_at - opens_before
    if now < opens_at:
        raise errors.CheckInNotOpen(event.event_id, opens_at)
