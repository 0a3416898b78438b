"""Core services, events: create, list, read, change and delete events, and word to the people signed up when one
moves or is called off."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core import clock, errors, fields, keys
from core import cursor as cursors
from core import validation as valid
from core.store import events, signups
from core.values import (
    DEFAULT_REMINDERS,
    Event,
    Page,
)

ID_ALPHABET = keys.ID_ALPHABET


EVENTS_PAGE = 20


def _new_event_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(10))


def create_event(*, now: datetime | None = None, **given: Any) -> Event:
    """given: the fields core.fields.EVENT declares, as the API's body holds them. starts_at / ends_at /
    signups_close_at are ISO 8601 text (no offset = the event's own time zone); sign-ups close at the start unless
    signups_close_at says otherwise. seat_blocks: for an event expecting a crowd, its seats split over that many
    items so sign-ups do not take turns on one (docs/SCALING.md); its capacity then stays as created. Without a
    timezone the event takes the one its starts_at is written in (a fixed offset, or UTC). reminders: minutes
    before the start (None: the defaults, [] none). Raises InvalidInput."""
    fields.unknown(given, fields.EVENT)
    texts = fields.texts(given, new=True)
    if given.get("starts_at") is None:
        raise errors.InvalidInput("starts_at is required.", "starts_at")
    zone = given.get("timezone")
    tz = valid.timezone(zone) if zone is not None else valid.zone_of_offset(given["starts_at"])
    start = valid.instant(given["starts_at"], "starts_at", tz)
    end = valid.instant(given["ends_at"], "ends_at", tz) if given.get("ends_at") is not None else None
    valid.event_times(start, end)
    closing = given.get("signups_close_at")
    close = valid.instant(closing, "signups_close_at", tz) if closing is not None else None
    cap = valid.capacity(given.get("capacity"))
    blocks = valid.seat_blocks(given.get("seat_blocks"), cap)
    reminders = given.get("reminders")
    event_id = _new_event_id()
    event = Event(
        event_id=keys.with_seat_blocks(event_id, blocks) if blocks else event_id,
        **texts,
        starts_at=start,
        ends_at=end,
        timezone=tz,
        capacity=cap,
        going=0,
        waitlisted=0,
        spots_left=cap,
        seats_taken=0,
        created_at=clock.at(now).astimezone(start.tzinfo),
        signups_close_at=close,
        seat_blocks=blocks,
        reminders=valid.reminders(reminders) if reminders is not None else DEFAULT_REMINDERS,
    )
    if event.closes_at <= clock.at(now):
        raise errors.InvalidInput("The event would already be over.", "starts_at")
    valid.signups_close(close, event.closes_at)
    return events.put_event(event)


def list_events(*, limit: int | str | None = None, cursor: str | None = None, now: datetime | None = None,
                counts: bool = True) -> Page[Event]:
    """Events not yet over, soonest first. counts=False: as they are described, without their counts
    (Event.counted), one call fewer. Raises InvalidInput / InvalidCursor."""
    size = valid.page_size(limit, EVENTS_PAGE)
    after = cursors.text_field(cursors.decode(cursor, "events"), "after") if cursor is not None else None
    found, last = events.upcoming_events(clock.at(now), size, after, valid.EVENT_LENGTH_MAX + timedelta(days=1),
                                         counts=counts)
    return Page(found, cursors.encode("events", {"after": last}) if last else None)


def get_event(event_id: str) -> Event:
    """Raises EventNotFound."""
    return events.get_event(valid.event_id(event_id))


def update_event(event_id: str, changes: dict, *, now: datetime | None = None) -> Event:
    """changes: any of the create_event fields (None clears an optional one). A new timezone keeps the wall-clock
    times not given with it (19:00 in Oslo becomes 19:00 in London), and people are told when the start moves.
    Raises InvalidInput, EventNotFound, CapacityBelowTaken. Raising capacity promotes from the waitlist."""
    valid.event_id(event_id)
    if not isinstance(changes, dict):
        raise errors.InvalidInput("The changes must be a JSON object.")
    fields.unknown(changes, fields.CHANGEABLE)
    texts = fields.texts(changes)
    if "capacity" in changes:
        valid.capacity(changes["capacity"])

    seen: dict[str, Event] = {}

    def apply(before: Event) -> Event:
        seen["before"] = before
        tz = valid.timezone(changes["timezone"]) if changes.get("timezone") is not None else before.timezone

        def same_wall_time(moment: datetime) -> datetime:
            # A new zone alone means "19:00 there": the times not given keep their clock reading, not their instant.
            return moment.astimezone(ZoneInfo(before.timezone)).replace(tzinfo=ZoneInfo(tz))

        given: dict[str, Any] = {"timezone": tz, **texts}
        start = (valid.instant(changes["starts_at"], "starts_at", tz) if "starts_at" in changes
                 else same_wall_time(before.starts_at))
        if "ends_at" in changes:
            end = valid.instant(changes["ends_at"], "ends_at", tz) if changes["ends_at"] is not None else None
        else:
            end = same_wall_time(before.ends_at) if before.ends_at else None
        valid.event_times(start, end)
        given["starts_at"] = start.astimezone(ZoneInfo(tz))
        given["ends_at"] = end.astimezone(ZoneInfo(tz)) if end else None
        if "capacity" in changes:
            given["capacity"] = valid.capacity(changes["capacity"])
        if "reminders" in changes:
            chosen = changes["reminders"]
            given["reminders"] = valid.reminders(chosen) if chosen is not None else DEFAULT_REMINDERS
        if "signups_close_at" in changes:
            close = changes["signups_close_at"]
            given["signups_close_at"] = valid.instant(close, "signups_close_at", tz) if close is not None else None
        elif before.signups_close_at is not None:
            given["signups_close_at"] = same_wall_time(before.signups_close_at)
        after = before._replace(**given)
        valid.signups_close(after.signups_close_at, after.closes_at)
        return after

    updated = events.update_event(event_id, apply)
    _tell_if_moved(seen["before"], updated, clock.at(now))
    # Raised capacity leaves seats free for the line: the first in line are promoted into them.
    if updated.waitlisted and signups.fill_from_waitlist(event_id, clock.at(now)):
        return events.get_event(event_id)
    return updated


def delete_event(event_id: str, *, now: datetime | None = None) -> None:
    """Removes the event and its signups, and leaves word for everyone who was signed up; a button bound to it means
    the next event from then on. Raises EventNotFound."""
    # Imported on first use: only a change or a delete tells anyone, so a cold start that lists or reads events
    # (the skill's every request) builds none of the feed, device or notice items (docs/SCALING.md).
    from core import feeds
    from core.store import devices, notices

    event, signed_up, buttons = events.delete_event(valid.event_id(event_id))
    for serial in buttons:
        devices.forget_event(serial, event.event_id)
    feeds.remember_deleted(event, signed_up, now=now)
    moment = keys.utc(clock.at(now))
    # Nobody to tell, nothing to write: an event nobody signed up for costs no more than before.
    for part, start in enumerate(range(0, len(signed_up), notices.PEOPLE_PER_CHANGE)):
        told = signed_up[start:start + notices.PEOPLE_PER_CHANGE]
        notices.put_change(event, "deleted", moment, str(part), people=told)


def _tell_if_moved(before: Event, after: Event, now: datetime) -> None:
    """A new start or place is worth telling everyone signed up; a new name, description or capacity is not."""
    if (before.starts_at, before.location) != (after.starts_at, after.location):
        from core.store import notices  # on first use, as in delete_event

        notices.put_change(after, "moved", keys.utc(now))
