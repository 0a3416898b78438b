"""Core services: the one entry every edge calls. Plain arguments in, domain values or typed errors out."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core import clock
from core import cursor as cursors
from core import errors, feeds, keys, metrics, rules
from core import reminders as reminding
from core import validation as valid
from core.config import settings
from core.moments import told
# The soonest event lives with the button's services, which the IoT function imports alone; the API and the skill
# ask for it here.
from core.presses import next_event as next_event
from core.store import devices, events, notices, pairing, people, signups
from core.values import (
    DEFAULT_REMINDERS,
    SOURCES,
    Cancellation,
    Change,
    Device,
    Event,
    Notice,
    Page,
    PairingCode,
    Person,
    Recipient,
    Signup,
    SignupOutcome,
    SignupPage,
)

EVENT_FIELDS = frozenset({"name", "starts_at", "ends_at", "timezone", "location", "description", "capacity",
                          "signups_close_at", "reminders"})
ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no "0": keys.SEAT_BLOCKS_MARK tells a hot event's id
CODE = re.compile(r"\d{6}")
EVENTS_PAGE = 20
SIGNUPS_PAGE = 50
# Each range takes in the event item too (it sorts between the going and the waitlist): a page that reaches
# it reads the counts in the same query.
STATUS_RANGES = {
    None: (keys.GOING_PREFIX, keys.AFTER_WAITLIST),
    "going": (keys.GOING_PREFIX, keys.EVENT_ORDER),
    "waitlisted": (keys.EVENT_ORDER, keys.AFTER_WAITLIST),
}


def _new_event_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(10))


# --- events -------------------------------------------------------------------------------------


def create_event(*, name: str, starts_at: str, ends_at: str | None = None, timezone: str | None = None,
                 location: str | None = None, description: str | None = None, capacity: int | None = None,
                 signups_close_at: str | None = None, seat_blocks: int | None = None,
                 reminders: list[int] | None = None, now: datetime | None = None) -> Event:
    """starts_at / ends_at / signups_close_at are ISO 8601 text (no offset = the event's own time zone); sign-ups
    close at the start unless signups_close_at says otherwise. seat_blocks: for an event expecting a crowd, its
    seats split over that many items so sign-ups do not take turns on one (docs/SCALING.md); its capacity then
    stays as created. Without a timezone the event takes the one its starts_at is written in (a fixed offset, or
    UTC). reminders: minutes before the start (None: the defaults, [] none). Raises InvalidInput."""
    tz = valid.timezone(timezone) if timezone is not None else valid.zone_of_offset(starts_at)
    start = valid.instant(starts_at, "starts_at", tz)
    end = valid.instant(ends_at, "ends_at", tz) if ends_at is not None else None
    valid.event_times(start, end)
    close = valid.instant(signups_close_at, "signups_close_at", tz) if signups_close_at is not None else None
    cap = valid.capacity(capacity)
    blocks = valid.seat_blocks(seat_blocks, cap)
    event_id = _new_event_id()
    event = Event(
        event_id=keys.with_seat_blocks(event_id, blocks) if blocks else event_id,
        name=valid.text(name, "name", max_length=valid.NAME_MAX, required=True),
        starts_at=start,
        ends_at=end,
        timezone=tz,
        location=valid.text(location, "location", max_length=valid.LOCATION_MAX),
        description=valid.text(description, "description", max_length=valid.DESCRIPTION_MAX, multiline=True),
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
    unknown = sorted(set(changes) - EVENT_FIELDS)
    if unknown:
        raise errors.InvalidInput(f"Unknown field {unknown[0]!r}.", unknown[0])
    if "name" in changes:
        valid.text(changes["name"], "name", max_length=valid.NAME_MAX, required=True)
    if "capacity" in changes:
        valid.capacity(changes["capacity"])

    seen: dict[str, Event] = {}

    def apply(before: Event) -> Event:
        seen["before"] = before
        tz = valid.timezone(changes["timezone"]) if changes.get("timezone") is not None else before.timezone

        def same_wall_time(moment: datetime) -> datetime:
            # A new zone alone means "19:00 there": the times not given keep their clock reading, not their instant.
            return moment.astimezone(ZoneInfo(before.timezone)).replace(tzinfo=ZoneInfo(tz))

        fields: dict[str, Any] = {"timezone": tz}
        start = (valid.instant(changes["starts_at"], "starts_at", tz) if "starts_at" in changes
                 else same_wall_time(before.starts_at))
        if "ends_at" in changes:
            end = valid.instant(changes["ends_at"], "ends_at", tz) if changes["ends_at"] is not None else None
        else:
            end = same_wall_time(before.ends_at) if before.ends_at else None
        valid.event_times(start, end)
        fields["starts_at"] = start.astimezone(ZoneInfo(tz))
        fields["ends_at"] = end.astimezone(ZoneInfo(tz)) if end else None
        if "name" in changes:
            fields["name"] = valid.text(changes["name"], "name", max_length=valid.NAME_MAX, required=True)
        if "location" in changes:
            fields["location"] = valid.text(changes["location"], "location", max_length=valid.LOCATION_MAX)
        if "description" in changes:
            fields["description"] = valid.text(
                changes["description"], "description", max_length=valid.DESCRIPTION_MAX, multiline=True
            )
        if "capacity" in changes:
            fields["capacity"] = valid.capacity(changes["capacity"])
        if "reminders" in changes:
            chosen = changes["reminders"]
            fields["reminders"] = valid.reminders(chosen) if chosen is not None else DEFAULT_REMINDERS
        if "signups_close_at" in changes:
            close = changes["signups_close_at"]
            fields["signups_close_at"] = valid.instant(close, "signups_close_at", tz) if close is not None else None
        elif before.signups_close_at is not None:
            fields["signups_close_at"] = same_wall_time(before.signups_close_at)
        after = before._replace(**fields)
        valid.signups_close(after.signups_close_at, after.closes_at)
        return after

    updated = events.update_event(event_id, apply)
    _tell_if_moved(seen["before"], updated, clock.at(now))
    # Raised capacity leaves seats free for the line: the first in line are promoted into them.
    if updated.waitlisted and signups.fill_from_waitlist(event_id, clock.at(now)):
        return events.get_event(event_id)
    return updated


def delete_event(event_id: str, *, now: datetime | None = None) -> None:
    """Removes the event and its signups, and leaves word for everyone who was signed up. Raises EventNotFound."""
    event, signed_up = events.delete_event(valid.event_id(event_id))
    feeds.remember_deleted(event, signed_up, now=now)
    moment = keys.utc(clock.at(now))
    # Nobody to tell, nothing to write: an event nobody signed up for costs no more than before.
    for part, start in enumerate(range(0, len(signed_up), notices.PEOPLE_PER_CHANGE)):
        notices.put_change(event, "deleted", moment, str(part), people=signed_up[start:start + notices.PEOPLE_PER_CHANGE])


def _tell_if_moved(before: Event, after: Event, now: datetime) -> None:
    """A new start or place is worth telling everyone signed up; a new name, description or capacity is not."""
    if (before.starts_at, before.location) != (after.starts_at, after.location):
        notices.put_change(after, "moved", keys.utc(now))


# --- signups ------------------------------------------------------------------------------------


def sign_up(event_id: str, person: str, *, name: str | None = None, guests: int | None = None, source: str = "api",
            waitlist: bool = True, request_id: str | None = None, now: datetime | None = None) -> SignupOutcome:
    """Idempotent: signing up again returns the existing signup with created=False, its party changed to
    `guests` when they are given and differ (None: as it is; a new signup brings none). request_id makes a
    retried delivery return the first outcome. Raises InvalidInput, EventNotFound, EventOver, EventFull,
    NoRoomToGrow."""
    if source not in SOURCES:
        raise errors.InvalidInput(f"source is one of {', '.join(SOURCES)}.", "source")
    if not isinstance(waitlist, bool):
        raise errors.InvalidInput("waitlist must be true or false.", "waitlist")
    event_id, person = valid.event_id(event_id), valid.handle(person)
    resize = guests is not None
    name, guests = valid.text(name, "name", max_length=valid.PERSON_NAME_MAX), valid.guests(guests)
    given = name
    if name is None and source == "alexa":
        # A voice says no name: the signup carries the person's display name (one read of their profile). A retry
        # is still the same request when the profile changed meanwhile: the fingerprint holds what was asked.
        name = people.get_person(person).name
    outcome = signups.sign_up(
        event_id, person, name=name, guests=guests, source=source, waitlist=waitlist, resize=resize,
        request_id=valid.request_id(request_id), now=clock.at(now),
        fingerprint=rules.request("sign_up", event_id, person, name=given, guests=guests if resize else None, source=source,
                                  waitlist=waitlist),
    )
    metrics.signed_up(outcome)
    return outcome


def cancel_signup(event_id: str, person: str, *, request_id: str | None = None, now: datetime | None = None) -> Cancellation:
    """Cancels and, in the same transaction, promotes the first waitlisted person. Raises NotSignedUp."""
    return _cancel(event_id, person, request_id=request_id, now=now, tell=False)


def cancel_signup_for(event_id: str, person: str, *, request_id: str | None = None,
                      now: datetime | None = None) -> Cancellation:
    """An organizer cancels someone else's signup: the same cancel, with word left for that person in its
    transaction (a person's own cancel leaves none, since they know)."""
    return _cancel(event_id, person, request_id=request_id, now=now, tell=True)


def _cancel(event_id: str, person: str, *, request_id: str | None, now: datetime | None, tell: bool) -> Cancellation:
    event_id, person = valid.event_id(event_id), valid.handle(person)
    moment = clock.at(now)
    word = notices.cancel_told(person, keys.utc(moment)) if tell else None
    cancellation = signups.cancel_signup(event_id, person, request_id=valid.request_id(request_id), now=moment,
                                         fingerprint=rules.request("cancel", event_id, person), also=word)
    metrics.done(metrics.CANCELS, cancellation)
    return cancellation


def check_in(event_id: str, person: str, *, request_id: str | None = None, now: datetime | None = None) -> Signup:
    """Idempotent (a repeated check-in, with or without request_id, returns the first one unchanged).
    Raises NotSignedUp, NotGoing, CheckInNotOpen, EventOver."""
    event_id, person = valid.event_id(event_id), valid.handle(person)
    checked = signups.check_in(
        event_id, person, now=clock.at(now), opens_before=timedelta(minutes=settings.check_in_opens_minutes),
        request_id=valid.request_id(request_id), fingerprint=rules.request("check_in", event_id, person),
    )
    metrics.done(metrics.CHECK_INS, checked)
    return checked.signup


def get_signup(event_id: str, person: str) -> Signup:
    """Raises NotSignedUp."""
    return signups.get_signup(valid.event_id(event_id), valid.handle(person))


def list_signups(event_id: str, *, status: str | None = None, limit: int | str | None = None,
                 cursor: str | None = None, event: Event | None = None) -> SignupPage:
    """Going first, then the waitlist in order. Raises EventNotFound, InvalidInput, InvalidCursor.

    `event`: the event as the caller read it moments ago (the skill, from its list of what is coming up);
    its counts are answered and the event is not read again."""
    valid.event_id(event_id)
    if event is not None and event.event_id != event_id:
        raise errors.InvalidInput("The event given is not the one asked about.", "event")
    if status not in STATUS_RANGES:
        raise errors.InvalidInput("status is 'going' or 'waitlisted'.", "status")
    size = valid.page_size(limit, SIGNUPS_PAGE)
    scope = f"signups:{event_id}:{status or 'all'}"
    low, high = STATUS_RANGES[status]
    after: tuple[str, str] | None = None
    if cursor is not None:
        position = cursors.decode(cursor, scope)
        order = cursors.text_field(position, "order")
        if not low <= order <= high:
            raise errors.InvalidCursor()
        after = (order, cursors.text_field(position, "sk", "SIGNUP#"))
    counted, page, last = signups.list_signups(event_id, prefix_from=low, prefix_to=high,
                                                           limit=size, after=after, known=event)
    next_cursor = cursors.encode(scope, {"order": last[0], "sk": last[1]}) if last else None
    return SignupPage(page, counted.going, counted.waitlisted, next_cursor, counted.seats_taken)


# --- devices ------------------------------------------------------------------------------------


def bind_device(serial: str, person: str, event_id: str | None = None, *, takeover: bool = True,
                now: datetime | None = None) -> Device:
    """Binds a button to a person and optionally one event (which must exist). takeover=False binds only a
    free button or the person's own, decided by the write itself; otherwise raises Forbidden."""
    valid.serial(serial)
    valid.handle(person)
    event = events.get_event(valid.event_id(event_id)) if event_id is not None else None
    # On binding only (rare), the profile is read, so that a press carries the person's name without reading it.
    device = Device(serial=serial, person=person, event_id=event_id, bound_at=clock.at(now),
                    event_name=event.name if event else None, event_starts_at=event.starts_at if event else None,
                    person_name=people.get_person(person).name)
    bound = devices.put_device(device, takeover=takeover)
    # One more write, on binding only (rare): notices find the person's buttons without a scan of every binding.
    people.remember_button(person, serial)
    return bound


def get_device(serial: str) -> Device:
    """Raises DeviceNotFound."""
    return devices.get_device(valid.serial(serial))


def list_devices(person: str) -> list[Device]:
    """The buttons bound to the person now (a button taken over by someone since is not theirs)."""
    return [devices.get_device(serial) for serial in people.recipient(valid.handle(person)).serials]


def unbind_device(serial: str) -> None:
    """Raises DeviceNotFound."""
    devices.delete_device(valid.serial(serial))


# --- Alexa pairing ------------------------------------------------------------------------------


def issue_pairing_code(person: str, *, now: datetime | None = None) -> PairingCode:
    """A six-digit single-use code, valid for a few minutes."""
    valid.handle(person)
    moment = clock.at(now)
    valid_until = moment + timedelta(minutes=settings.pairing_code_minutes)
    for _ in range(20):
        issued = pairing.put_pairing_code(person, f"{secrets.randbelow(10**6):06d}", valid_until, moment)
        if issued is not None:
            return issued
    raise errors.Busy()


def redeem_pairing_code(alexa_user_id: str, code: str, *, now: datetime | None = None) -> str:
    """Links the Alexa user to the code's person and returns the handle. Raises PairingCodeInvalid,
    PairingLocked (after repeated misses by the same Alexa user)."""
    if not isinstance(alexa_user_id, str) or not 1 <= len(alexa_user_id) <= 512:
        raise errors.InvalidInput("An Alexa user id is required.", "alexa_user_id")
    moment = clock.at(now)
    # Counted before the code is read and never reset by a link: neither parallel tries nor links between misses
    # give one Alexa user more than pairing_max_misses wrong codes in a window.
    counted, window_until = pairing.count_pairing_try(
        alexa_user_id, moment, settings.pairing_max_misses, timedelta(minutes=settings.pairing_lock_minutes))
    if not counted:
        raise errors.PairingLocked(max(1, int((window_until - moment).total_seconds())))
    person = pairing.redeem_pairing_code(alexa_user_id, code, moment) if isinstance(code, str) and CODE.fullmatch(code) else None
    if person is None:
        raise errors.PairingCodeInvalid()
    pairing.forgive_pairing_try(alexa_user_id, window_until)
    return person


def linked_person(alexa_user_id: str) -> str:
    """Raises NotLinked."""
    person = pairing.linked_person(alexa_user_id) if isinstance(alexa_user_id, str) and alexa_user_id else None
    if person is None:
        raise errors.NotLinked()
    return person


# --- people and notices -------------------------------------------------------------------------

NOTICES_PAGE = 20
# The skill reads out at most this many at once, newest first: a listener keeps about three in mind.
NOTICES_SPOKEN = 3


def set_person(person: str, *, name: str | None = None, email: str | None = None, phone: str | None = None,
               reminders: bool | None = None, now: datetime | None = None) -> Person:
    """Sets a person's whole profile (a field left out is cleared; reminders left out are on), and the name their
    buttons carry into the signups they make. Raises InvalidInput."""
    if reminders is not None and not isinstance(reminders, bool):
        raise errors.InvalidInput("reminders must be true or false.", "reminders")
    stored = people.put_person(Person(valid.handle(person), valid.text(name, "name", max_length=valid.PERSON_NAME_MAX),
                                      valid.email(email), valid.phone(phone), clock.at(now),
                                      reminders=reminders is not False))
    # Each update is conditioned on the button still being theirs, so the bindings need no read first.
    for serial in people.remembered_buttons(stored.person):
        devices.remember_person(serial, stored.person, stored.name)
    return stored


def get_person(person: str) -> Person:
    """A person who never set a profile is their handle alone."""
    return people.get_person(valid.handle(person))


def list_notices(person: str, *, limit: int | str | None = None) -> list[Notice]:
    """What a person was told, newest first. Raises InvalidInput."""
    return notices.list_notices(valid.handle(person), valid.page_size(limit, NOTICES_PAGE))


def read_out_notices(person: str, *, now: datetime | None = None) -> list[Notice]:
    """The person's unread notices, oldest first, marked read: the skill says them before its answer. One query,
    and one write per notice read out."""
    unread = notices.list_notices(valid.handle(person), NOTICES_SPOKEN, unread_only=True)
    if unread:
        notices.mark_read(person, [notice.notice_id for notice in unread], keys.utc(clock.at(now)))
    return list(reversed(unread))


def notices_for_change(record: str, old_image: dict[str, Any] | None, new_image: dict[str, Any] | None) -> list[Notice]:
    """Who one stream record tells what (`record`: INSERT, MODIFY or REMOVE; images as DynamoDB JSON). Empty
    when it tells nobody anything, or the event it names is gone by now (its deletion tells its own)."""
    change = notices.what_changed(record, old_image, new_image)
    if change is None:
        return []
    if change.what == "moved":
        change = _as_the_event_is_now(change)
        if change is None:
            return []
    name = change.event_name
    if name is None:
        event = notices.event_item(change.event_id)
        if event is None:
            return []
        name = event.name
    if change.people is not None:
        persons = change.people
    elif change.what == "reminder":
        persons = tuple(reminding.going_before(change.event_id, change.at))
    else:
        persons = tuple(notices.signed_up(change.event_id))
    text = _notice_text(change._replace(event_name=name))
    return [Notice(person, change.what, change.event_id, name, text, change.at) for person in persons]


def _as_the_event_is_now(change: Change) -> Change | None:
    """Changes that arrive together tell one notice of the state they left: a move followed by another tells
    nothing (the later one tells), and the latest tells the event as it is now. None: a later move will tell, or
    the event is gone (its deletion tells)."""
    if notices.moved_later(change.event_id, change.at):
        return None
    item = notices.event_item(change.event_id)
    if item is None:
        return None
    starts = keys.from_utc(item.starts_at).astimezone(ZoneInfo(item.timezone))
    return change._replace(event_name=item.name, starts_at=starts, location=item.location)


def change_correlation(record: dict[str, Any]) -> str | None:
    """The id of the request that made the change one stream record tells of, when its item keeps it."""
    return notices.correlation_of((record.get("dynamodb") or {}).get("NewImage"))


def _notice_text(change) -> str:
    if change.what == "promoted":
        return f"Good news: you got a seat on {change.event_name}."
    if change.what == "moved":
        starts = change.starts_at
        where = f", at {change.location}" if change.location else ""
        return f"{change.event_name} has changed: it now starts {told(starts)}{where}."
    if change.what == "deleted":
        return f"{change.event_name} is called off."
    if change.what == "reminder":
        return reminding.text(change.event_name, change.starts_at, change.location)
    return f"An organizer cancelled your signup for {change.event_name}."


def store_notice(notice: Notice) -> Recipient | None:
    """Keeps the notice once; who to send it to and on which channels, or None when it was sent already (a
    repeated stream record, or a retried batch), or a reminder for someone who turned reminders off."""
    if notice.what == "reminder":
        recipient = people.recipient(notice.person)
        return recipient if recipient.person.reminders and notices.store_notice(notice) else None
    if not notices.store_notice(notice):
        return None
    return people.recipient(notice.person)


def notice_sent(notice: Notice, *, now: datetime | None = None) -> None:
    """Marks the notice sent, so a retried record does not send it again."""
    notices.mark_delivered(notice, keys.utc(clock.at(now)))
