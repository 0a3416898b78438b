"""Core service: calendar feeds - a person's secret feed of the events they are going to or waiting for, the group's
feed of every event, and what each lists; the API renders them as iCalendar (api/ics.py)."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from core import clock, errors
from core import validation as valid
from core.member_values import CalendarEntry, Feed
from core.store import feeds as store

# A feed keeps events that started up to this long ago, so last week's stays in the calendar; then every one ahead.
FEED_PAST = timedelta(days=30)
FEED_MAX = 500
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


def renew_feed(person: str | None, *, now: datetime | None = None) -> Feed:
    """A new secret for the person's feed (None: the group's); the old one, if any, stops working at once."""
    owner = valid.handle(person) if person is not None else None
    # 24 random bytes: the URL is the only key a calendar app can carry, so it must not be guessed.
    return store.replace(Feed(owner, secrets.token_urlsafe(24), clock.at(now)), store.current(owner))


def get_feed(person: str | None) -> Feed:
    """Raises FeedNotFound."""
    feed = store.current(valid.handle(person) if person is not None else None)
    if feed is None:
        raise errors.FeedNotFound()
    return feed


def revoke_feed(person: str | None) -> None:
    """Raises FeedNotFound."""
    store.revoke(get_feed(person))


def read_feed(token: str, *, now: datetime | None = None) -> tuple[Feed, list[CalendarEntry]]:
    """The feed a secret names and what it lists: for a person, the events they are going to (CONFIRMED) or waiting
    for (TENTATIVE); for the group, every event; and deleted ones as CANCELLED for a while. Raises FeedNotFound."""
    feed = store.by_token(token) if isinstance(token, str) and TOKEN.fullmatch(token) else None
    if feed is None:
        raise errors.FeedNotFound()
    return feed, store.entries(clock.at(now) - FEED_PAST, feed.person, FEED_MAX)


def remember_deleted(event, people: list[str], *, now: datetime | None = None) -> None:
    """A deleted event stays in the feeds a while, cancelled, so calendars that subscribed drop it."""
    store.put_tombstone(event, people, clock.at(now))
