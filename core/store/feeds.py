"""Core store: calendar feeds - each feed's secret and whose it is, the tombstones deleted events leave in by_start,
and what a feed lists: the events by start, with their sequence and, for a person's feed, their signup."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from core import errors, keys
from core.member_values import CalendarEntry, Feed
from core.store import transactions as tx
from core.table import EventItem, SignupItem, TurnoutItem
from core.values import Event


class FeedItem(TurnoutItem, discriminator="feed"):
    """A feed under its secret (keys.feed), and the same again under its owner (keys.feed_of)."""

    person = UnicodeAttribute(null=True)  # None: the group's feed
    token = UnicodeAttribute()
    created_at = UnicodeAttribute()


class TombstoneItem(TurnoutItem, discriminator="tombstone"):
    """A deleted event as it was, in by_start beside the living ones, for feeds to publish as cancelled. It has no
    closes_at, so listings (which filter on it) never meet it."""

    event_id = UnicodeAttribute()
    name = UnicodeAttribute()
    starts_at = UnicodeAttribute()
    ends_at = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute()
    location = UnicodeAttribute(null=True)
    description = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    sequence = NumberAttribute()
    people = JSONAttribute()  # who was signed up, whose feeds publish it cancelled


# Long enough for every calendar app to have read the feed again (Outlook can take a day or more), then gone.
TOMBSTONE_DAYS = 14
BATCH_GET_MAX = 100
WANTED = [TurnoutItem.pk.attr_name, TurnoutItem.sk.attr_name, EventItem.kind.attr_name, EventItem.sequence.attr_name,
          SignupItem.status.attr_name, TombstoneItem.people.attr_name]


def _feed(item: FeedItem) -> Feed:
    return Feed(item.person, item.token, keys.from_utc(item.created_at))


@tx.faults_as_busy
def current(person: str | None) -> Feed | None:
    try:
        return _feed(FeedItem.get(*keys.feed_of(person), consistent_read=True))
    except DoesNotExist:
        return None


@tx.faults_as_busy
def by_token(token: str) -> Feed | None:
    try:
        return _feed(FeedItem.get(*keys.feed(token), consistent_read=True))
    except DoesNotExist:
        return None


@tx.faults_as_busy
def replace(feed: Feed, old: Feed | None) -> Feed:
    """The new secret in, the old one (if any) out, in one transaction: the old URL stops working as the new starts."""
    fields: dict[str, Any] = {"person": feed.person, "token": feed.token, "created_at": keys.utc(feed.created_at)}
    writes = [tx.put("new", FeedItem(*keys.feed(feed.token), **fields), FeedItem.pk.does_not_exist()),
              tx.put("owner", FeedItem(*keys.feed_of(feed.person), **fields))]
    if old is not None:
        writes.append(tx.delete("old", FeedItem(*keys.feed(old.token))))
    try:
        tx.commit(writes)
    except (tx.Refused, tx.Retry):
        raise errors.Busy() from None  # a secret drawn twice, or a renewal at the same moment: try again
    return feed


@tx.faults_as_busy
def revoke(feed: Feed) -> None:
    try:
        tx.commit([tx.delete("token", FeedItem(*keys.feed(feed.token))),
                   tx.delete("owner", FeedItem(*keys.feed_of(feed.person)), FeedItem.token == feed.token)])
    except (tx.Refused, tx.Retry):
        raise errors.Busy() from None


@tx.faults_as_busy
def put_tombstone(event: Event, people: list[str], at: datetime) -> None:
    TombstoneItem(*keys.tombstone(event.event_id), start_partition=keys.EVENTS_PARTITION,
                  start_order=keys.event_start_order(event.starts_at, event.event_id), event_id=event.event_id,
                  name=event.name, starts_at=keys.utc(event.starts_at),
                  ends_at=keys.utc(event.ends_at) if event.ends_at else None, timezone=event.timezone,
                  location=event.location, description=event.description, created_at=keys.utc(event.created_at),
                  sequence=event.sequence + 1, people=people, expires=at + timedelta(days=TOMBSTONE_DAYS)).save()


@tx.faults_as_busy
def entries(since: datetime, person: str | None, limit: int) -> list[CalendarEntry]:
    """Events (and tombstones) starting from `since`, by start: one query of by_start, then one BatchGetItem per
    hundred keys for what the index does not hold - each event's sequence and, for a person, their signup."""
    listed = [item for item in TurnoutItem.by_start.query(
        keys.EVENTS_PARTITION, TurnoutItem.start_order >= keys.event_start_order(since, ""), limit=limit)
        if isinstance(item, (EventItem, TombstoneItem))]
    wanted: list[tuple[str, str]] = []
    for item in listed:
        wanted.append((item.pk, item.sk))
        if person is not None and isinstance(item, EventItem):
            wanted.append(keys.signup(item.event_id, person))
    held: dict[tuple[str, str], TurnoutItem] = {}
    for first in range(0, len(wanted), BATCH_GET_MAX):
        for got in TurnoutItem.batch_get(wanted[first:first + BATCH_GET_MAX], consistent_read=True,
                                         attributes_to_get=WANTED):
            held[(got.pk, got.sk)] = got
    found = []
    for item in listed:
        stored = held.get((item.pk, item.sk))
        if stored is None:  # deleted (or expired) between the query and the read
            continue
        if isinstance(item, TombstoneItem):
            assert isinstance(stored, TombstoneItem)  # the same key: the same kind of item
            if person is None or person in (stored.people or ()):
                found.append(CalendarEntry(_gone(item, int(stored.sequence)), "CANCELLED"))
            continue
        assert isinstance(stored, EventItem)  # the same key: the same kind of item
        item.sequence = stored.sequence
        if person is None:
            found.append(CalendarEntry(item.value(counted=False), "CONFIRMED"))
            continue
        signup = held.get(keys.signup(item.event_id, person))
        if isinstance(signup, SignupItem):
            found.append(CalendarEntry(item.value(counted=False),
                                       "CONFIRMED" if signup.status == "going" else "TENTATIVE"))
    return found


def _gone(item: TombstoneItem, sequence: int) -> Event:
    tz = ZoneInfo(item.timezone)
    return Event(event_id=item.event_id, name=item.name, starts_at=keys.from_utc(item.starts_at).astimezone(tz),
                 ends_at=keys.from_utc(item.ends_at).astimezone(tz) if item.ends_at else None, timezone=item.timezone,
                 location=item.location, description=item.description, capacity=None, going=0, waitlisted=0,
                 spots_left=None, seats_taken=0, created_at=keys.from_utc(item.created_at).astimezone(tz),
                 counted=False, sequence=sequence)
