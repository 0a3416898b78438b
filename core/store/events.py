"""Core store: events, with their counts and seats on the event item itself."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from core import errors, keys, rules
from core.config import settings
from core.store import transactions as tx
from core.table import EventItem, TurnoutItem, connection
from core.values import Event

SIGNUP_SK = keys.signup("x", "")[1]


def read(event_id: str) -> EventItem:
    """The event's item, strongly consistent. Raises EventNotFound."""
    try:
        return EventItem.get(*keys.event(event_id), consistent_read=True)
    except DoesNotExist:
        raise errors.EventNotFound(event_id) from None


@tx.faults_as_busy
def put_event(event: Event) -> Event:
    item = EventItem.of(event)
    try:
        item.save(condition=EventItem.pk.does_not_exist())
    except PutError as exc:
        if tx.refused_by_condition(exc):
            raise errors.InvalidInput("An event with that id already exists.", "event_id") from exc
        raise
    return item.value()


@tx.faults_as_busy
def get_event(event_id: str) -> Event:
    return read(event_id).value()


def taking_signups(now: str):
    """Before the organizer's closing time for sign-ups or, without one, before the start (`now`: keys.utc text)."""
    return (EventItem.signups_close_at > now) | (EventItem.signups_close_at.does_not_exist() & (EventItem.starts_at > now))


@tx.faults_as_busy
def upcoming_events(now: datetime, limit: int, after: str | None, longest: timedelta, *,
                    only_taking_signups: bool = False) -> tuple[list[Event], str | None]:
    """Events whose list has not closed (and, if asked, whose sign-ups have not), by start; `after` is the start
    order of the last one seen."""
    start = (TurnoutItem.start_order > after) if after else (TurnoutItem.start_order >= keys.event_start_order(now - longest, ""))
    moment = keys.utc(now)
    wanted = EventItem.closes_at > moment
    if only_taking_signups:
        wanted &= taking_signups(moment)
    found = [item for item in TurnoutItem.by_start.query(keys.EVENTS_PARTITION, start, wanted, limit=limit + 1)
             if isinstance(item, EventItem)]
    page = found[:limit]
    return [item.value() for item in page], (page[-1].start_order if len(found) > limit and page else None)


@tx.faults_as_busy
def update_event(event_id: str, apply: Callable[[Event], Event]) -> Event:
    """Changes an event under an optimistic check of what the change was computed from (raised capacity
    leaves seats free for the line: core.store.signups.fill_from_waitlist promotes into them)."""

    def attempt() -> Event:
        item = read(event_id)
        before = item.value()
        after = apply(before)
        capacity_delta = rules.room(after.capacity) - rules.room(before.capacity)
        actions = [
            EventItem.name.set(after.name),
            EventItem.starts_at.set(keys.utc(after.starts_at)),
            EventItem.closes_at.set(keys.utc(after.closes_at)),
            (EventItem.signups_close_at.set(keys.utc(after.signups_close_at)) if after.signups_close_at
             else EventItem.signups_close_at.remove()),
            EventItem.timezone.set(after.timezone),
            EventItem.start_order.set(keys.event_start_order(after.starts_at, event_id)),
            EventItem.ends_at.set(keys.utc(after.ends_at)) if after.ends_at else EventItem.ends_at.remove(),
            EventItem.location.set(after.location) if after.location else EventItem.location.remove(),
            EventItem.description.set(after.description) if after.description else EventItem.description.remove(),
            EventItem.capacity.set(after.capacity) if after.capacity is not None else EventItem.capacity.remove(),
        ]
        condition = EventItem.pk.exists() & (EventItem.starts_at == item.starts_at)
        condition &= EventItem.capacity == before.capacity if before.capacity is not None else EventItem.capacity.does_not_exist()
        if capacity_delta:
            actions.append(EventItem.seats_left.add(capacity_delta))
            if capacity_delta < 0:
                condition &= EventItem.seats_left >= -capacity_delta
        try:
            item.update(actions=actions, condition=condition)
        except UpdateError as exc:
            if not tx.refused_by_condition(exc):
                raise
            latest = read(event_id)
            if capacity_delta < 0 and latest.value().capacity == before.capacity and int(latest.seats_left) < -capacity_delta:
                raise errors.CapacityBelowTaken(rules.room(before.capacity) - int(latest.seats_left)) from None
            raise tx.Retry() from None
        return item.value()

    return tx.with_retries(attempt)


@tx.faults_as_busy
def delete_event(event_id: str) -> tuple[Event, list[str]]:
    """Removes the event, then its partition; returns the event as it was and who was signed up (from the keys
    the delete reads anyway), so they can be told."""
    pk, sk = keys.event(event_id)
    try:
        # The deleted item comes back with the delete itself (ReturnValues), which pynamodb's Model.delete
        # does not offer: the event is not read first.
        gone = connection.delete_item(settings.table_name, pk, sk, condition=EventItem.pk.exists(),
                                      return_values=ALL_OLD)
    except DeleteError as exc:
        if tx.refused_by_condition(exc):
            raise errors.EventNotFound(event_id) from None
        raise
    signed_up: list[str] = []
    # The event item is gone first, so no new signup can land; then the rest of the partition.
    with TurnoutItem.batch_write() as batch:
        for item in TurnoutItem.query(pk, attributes_to_get=["pk", "sk"]):
            if item.sk.startswith(SIGNUP_SK):
                signed_up.append(item.sk[len(SIGNUP_SK):])
            batch.delete(item)
    return EventItem.from_raw_data(gone["Attributes"]).value(), signed_up
