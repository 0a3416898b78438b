"""Core, below the store: the one DynamoDB table as pynamodb models, one subclass per entity under a
discriminator, each with its way to and from its domain value. Here: the base model and the items every function
touches (events, signups, seat blocks, devices, stored requests). Items that only some functions touch are defined
once, beside the one store that reads and writes them (core/store/people.py, notices.py, pairing.py): each lives
in a partition of its own, so no query here meets them, and the button's function never builds them."""
from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from pynamodb.attributes import DiscriminatorAttribute, JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, LocalSecondaryIndex
from pynamodb.models import Model

from core import fields, keys, rules, tracing
from core.config import settings
from core.values import DEFAULT_REMINDERS, Device, Event, EventRef, Signup, Source, Status


class ByStatusIndex(LocalSecondaryIndex):
    """Per event: going, then the event item, then the waitlist by arrival (strongly consistent)."""

    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    pk = UnicodeAttribute(hash_key=True)
    status_order = UnicodeAttribute(range_key=True, attr_name="lsi1sk")


# What listing reads from by_start: an event as it is described, never its counts. A global index is written
# only when an attribute it holds changes, so sign-ups and cancels (which change only the counts) never write
# to its one partition (docs/SCALING.md, "The whole system"); a listing that shows counts reads them apart.
LISTED = ["kind", "event_id", *fields.TEXT, "starts_at", "ends_at", "closes_at", "signups_close_at", "timezone",
          "capacity", "created_at", "seat_blocks"]


class ByStartIndex(GlobalSecondaryIndex):
    """All events by start time, for 'what is coming up': described, not counted (LISTED)."""

    class Meta:
        index_name = "by_start"
        projection = IncludeProjection(LISTED)

    start_partition = UnicodeAttribute(hash_key=True, attr_name="gsi1pk")
    start_order = UnicodeAttribute(range_key=True, attr_name="gsi1sk")


class TurnoutItem(Model):
    class Meta:
        table_name = settings.table_name
        region = settings.region
        host = settings.dynamodb_endpoint
        connect_timeout_seconds = 2
        read_timeout_seconds = 5

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute(attr_name="kind")
    status_order = UnicodeAttribute(null=True, attr_name="lsi1sk")
    start_partition = UnicodeAttribute(null=True, attr_name="gsi1pk")
    start_order = UnicodeAttribute(null=True, attr_name="gsi1sk")
    expires = TTLAttribute(null=True, attr_name="expires_at_epoch")

    by_status = ByStatusIndex()
    by_start = ByStartIndex()


class EventItem(TurnoutItem, discriminator="event"):
    event_id = UnicodeAttribute()
    name = UnicodeAttribute()
    starts_at = UnicodeAttribute()  # UTC, keys.utc format
    ends_at = UnicodeAttribute(null=True)
    closes_at = UnicodeAttribute()  # UTC; the list closes (no check-in, not listed) from then on
    signups_close_at = UnicodeAttribute(null=True)  # UTC; the organizer's closing time for new signups, else the start
    timezone = UnicodeAttribute()
    location = UnicodeAttribute(null=True)
    description = UnicodeAttribute(null=True)
    capacity = NumberAttribute(null=True)
    going = NumberAttribute(default=0)
    waitlisted = NumberAttribute(default=0)
    seats_left = NumberAttribute()  # keys.UNLIMITED_SEATS-based when capacity is None
    tickets = NumberAttribute(default=0)  # how many have ever joined the waitlist: a change tells the line moved
    created_at = UnicodeAttribute()
    # A hot event's seats and line are counted on its SeatBlockItems instead, and the counts above stay unused.
    seat_blocks = NumberAttribute(null=True)
    reminders = JSONAttribute(null=True)  # minutes before the start, latest first; None: DEFAULT_REMINDERS
    reminded_at = UnicodeAttribute(null=True)  # UTC: when the last reminder sent was due (core.reminders)
    sequence = NumberAttribute(null=True)  # each change of time or place adds one (a calendar's SEQUENCE)
    series_id = UnicodeAttribute(null=True)  # the series it is an occurrence of (core/services/series.py)

    @classmethod
    def of(cls, event: Event) -> EventItem:
        """A new event's item: nobody signed up yet."""
        return cls(
            *keys.event(event.event_id),
            status_order=keys.EVENT_ORDER,
            start_partition=keys.EVENTS_PARTITION,
            start_order=keys.event_start_order(event.starts_at, event.event_id),
            event_id=event.event_id,
            **fields.texts_of(event),
            starts_at=keys.utc(event.starts_at),
            ends_at=keys.utc(event.ends_at) if event.ends_at else None,
            closes_at=keys.utc(event.closes_at),
            signups_close_at=keys.utc(event.signups_close_at) if event.signups_close_at else None,
            timezone=event.timezone,
            capacity=event.capacity,
            going=0,
            waitlisted=0,
            seats_left=event.capacity if event.capacity is not None else keys.UNLIMITED_SEATS,
            tickets=0,
            created_at=keys.utc(event.created_at),
            seat_blocks=event.seat_blocks,
            reminders=list(event.reminders) if event.reminders != DEFAULT_REMINDERS else None,
            series_id=event.series_id,
        )

    def value(self, *, counted: bool = True, blocks: list[SeatBlockItem] | None = None) -> Event:
        """The event, its times in its own zone; counted=False for an item read from by_start (no counts). A hot
        event is counted from its `blocks`, and is not counted without them."""
        tz = ZoneInfo(self.timezone)
        capacity = int(self.capacity) if self.capacity is not None else None
        hot = self.seat_blocks is not None
        if hot and blocks:
            counted = True
            going = sum(int(block.going) for block in blocks)
            waitlisted = max(int(block.waiting) for block in blocks)
            left = sum(int(block.seats_left) for block in blocks)
            spots_left = left if capacity is not None else None
            seats_taken = (capacity if capacity is not None else keys.UNLIMITED_SEATS * len(blocks)) - left
        elif not counted or hot:
            counted, going, waitlisted, spots_left, seats_taken = False, 0, 0, None, 0
        else:
            going, waitlisted = int(self.going), int(self.waitlisted)
            spots_left = int(self.seats_left) if capacity is not None else None
            seats_taken = rules.room(capacity) - int(self.seats_left)
        return Event(
            event_id=self.event_id,
            **fields.texts_of(self),
            starts_at=_local(self.starts_at, tz),
            ends_at=_local(self.ends_at, tz) if self.ends_at else None,
            timezone=self.timezone,
            capacity=capacity,
            going=going,
            waitlisted=waitlisted,
            spots_left=spots_left,
            seats_taken=seats_taken,
            created_at=_local(self.created_at, tz),
            signups_close_at=_local(self.signups_close_at, tz) if self.signups_close_at else None,
            seat_blocks=int(self.seat_blocks) if hot else None,
            counted=counted,
            reminders=tuple(self.reminders) if self.reminders is not None else DEFAULT_REMINDERS,
            sequence=int(self.sequence or 0),
            series_id=self.series_id,
        )


class SignupItem(TurnoutItem, discriminator="signup"):
    event_id = UnicodeAttribute()
    person = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    guests = NumberAttribute(default=0)
    status = UnicodeAttribute()
    source = UnicodeAttribute()
    signed_up_at = UnicodeAttribute()
    checked_in_at = UnicodeAttribute(null=True)
    block = NumberAttribute(null=True)  # on a hot event, the seat block a going signup holds its seats on

    @classmethod
    def of(cls, signup: Signup, order: str, block: int | None = None) -> SignupItem:
        """A new signup at its place in the by_status order (not checked in yet)."""
        return cls(*keys.signup(signup.event_id, signup.person), status_order=order, event_id=signup.event_id,
                   person=signup.person, name=signup.name, guests=signup.guests, status=signup.status,
                   source=signup.source, signed_up_at=keys.utc(signup.signed_up_at), block=block)

    def value(self, position: int | None = None) -> Signup:
        """The signup; `position` is its place in line, kept only while it is waitlisted."""
        return Signup(
            event_id=self.event_id,
            person=self.person,
            name=self.name,
            guests=int(self.guests),
            # pynamodb: UnicodeAttributes read back as str; only a Status and a Source are ever written to these two.
            status=cast(Status, self.status),
            position=position if self.status == "waitlisted" else None,
            source=cast(Source, self.source),
            signed_up_at=keys.from_utc(self.signed_up_at),
            checked_in_at=keys.from_utc(self.checked_in_at) if self.checked_in_at else None,
        )


class SeatBlockItem(TurnoutItem, discriminator="seat_block"):
    """A share of a hot event's seats, under its own partition key (keys.seat_block): sign-ups on different
    blocks never meet on one item. Every block holds the whole line's count, so a going sign-up on any of them
    sees that someone waits; and copies of what a sign-up's condition checks on the event (kept by
    core.store.events.update_event), so no sign-up touches the event item."""

    event_id = UnicodeAttribute()
    block = NumberAttribute()
    capacity = NumberAttribute(null=True)  # the event's, for a party's fit
    seats_left = NumberAttribute()
    going = NumberAttribute(default=0)
    waiting = NumberAttribute(default=0)  # the event's whole waitlist, on every block alike
    open_until = UnicodeAttribute()  # UTC: when sign-ups close (Event.signups_until)
    closes_at = UnicodeAttribute()  # UTC: when the list closes
    terms = UnicodeAttribute()  # the name, start and zone a button remembers (keys.terms)

    @classmethod
    def of(cls, event: Event, block: int, seats: int) -> SeatBlockItem:
        return cls(*keys.seat_block(event.event_id, block), event_id=event.event_id, block=block,
                   capacity=event.capacity, seats_left=seats, going=0, waiting=0,
                   open_until=keys.utc(event.signups_until), closes_at=keys.utc(event.closes_at), terms=terms(event))


def terms(event: Event | EventRef) -> str:
    """What a button's binding remembers of an event, as one text a condition compares."""
    return f"{keys.utc(event.starts_at)}|{getattr(event.starts_at.tzinfo, 'key', '')}|{event.name}"


class DeviceItem(TurnoutItem, discriminator="device"):
    serial = UnicodeAttribute()
    person = UnicodeAttribute()
    event_id = UnicodeAttribute(null=True)
    bound_at = UnicodeAttribute()
    # The bound event as the button's answers name it (core.values.Device).
    event_name = UnicodeAttribute(null=True)
    event_starts_at = UnicodeAttribute(null=True)  # UTC, keys.utc format
    event_timezone = UnicodeAttribute(null=True)
    person_name = UnicodeAttribute(null=True)  # the person's display name (core.values.Device)
    series_id = UnicodeAttribute(null=True)  # bound to a series: its next occurrence (core.values.Device)

    @classmethod
    def of(cls, device: Device) -> DeviceItem:
        starts = device.event_starts_at
        zone = starts.tzinfo if starts else None
        assert zone is None or isinstance(zone, ZoneInfo)  # an event's start always carries its ZoneInfo
        return cls(*keys.device(device.serial), serial=device.serial, person=device.person,
                   event_id=device.event_id, bound_at=keys.utc(device.bound_at), event_name=device.event_name,
                   event_starts_at=keys.utc(starts) if starts else None,
                   event_timezone=zone.key if zone else None,
                   person_name=device.person_name, series_id=device.series_id)

    def value(self) -> Device:
        starts, tz = self.event_starts_at, self.event_timezone
        return Device(
            serial=self.serial,
            person=self.person,
            event_id=self.event_id,
            bound_at=keys.from_utc(self.bound_at),
            event_name=self.event_name,
            event_starts_at=_local(starts, ZoneInfo(tz)) if starts and tz else None,
            person_name=self.person_name,
            series_id=self.series_id,
        )








class RequestItem(TurnoutItem, discriminator="request"):
    """The stored outcome of an idempotent request (a button click, a retried call)."""

    outcome = JSONAttribute()  # what services answer a replay from, and the request it answers ("request")










def _local(utc_text: str, tz: ZoneInfo) -> datetime:
    return keys.from_utc(utc_text).astimezone(tz)


def page_start(partition: str, sk: str, order: str) -> dict[str, Any]:
    """Where a by_status page continues: the key of the last item seen, as the index's ExclusiveStartKey."""
    return {TurnoutItem.pk.attr_name: {"S": partition}, TurnoutItem.sk.attr_name: {"S": sk},
            TurnoutItem.status_order.attr_name: {"S": order}}


# Every model inherits the base model's connection once it has one, so the whole table shares one botocore
# session and client (a second session reloads botocore's data, a large part of a cold start: make bench).
# pynamodb builds it on first use; asking for it here decides which model that is, and the client is built at
# import like every expensive thing, so a container's init phase (and SnapStart's snapshot) holds it.
connection = TurnoutItem._get_connection().connection
# Before any client is built: each copies the session's events, and the AWS calls are traced from there on.
tracing.install(connection.session)
connection.client  # noqa: B018 - read for its side effect: the client is built here, at import
