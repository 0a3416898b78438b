"""Core store: events, with their counts and seats on the event item itself."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action

from core import errors, fields, keys, rules
from core.config import settings
from core.store import transactions as tx
from core.table import EventItem, SeatBlockItem, TurnoutItem, connection, terms
from core.values import DEFAULT_REMINDERS, Event

SIGNUP_SK = keys.signup("x", "")[1]
BUTTON_SK = keys.button_of_event("x", "")[1]


def read(event_id: str) -> EventItem:
    """The event's item, strongly consistent. Raises EventNotFound."""
    try:
        return EventItem.get(*keys.event(event_id), consistent_read=True)
    except DoesNotExist:
        raise errors.EventNotFound(event_id) from None


def blocks(event_id: str) -> list[SeatBlockItem]:
    """A hot event's seat blocks, in order: one strongly consistent query of their own partition."""
    return [item for item in TurnoutItem.query(keys.seats_partition(event_id), consistent_read=True)
            if isinstance(item, SeatBlockItem)]


def counted(item: EventItem) -> Event:
    """The event with its counts: on its item, or (a hot event) on its seat blocks, read for them."""
    return item.value(blocks=blocks(item.event_id)) if item.seat_blocks is not None else item.value()


@tx.faults_as_busy
def put_event(event: Event) -> Event:
    item = EventItem.of(event)
    if event.seat_blocks is None:
        try:
            item.save(condition=EventItem.pk.does_not_exist())
        except PutError as exc:
            if tx.refused_by_condition(exc):
                raise errors.InvalidInput("An event with that id already exists.", "event_id") from exc
            raise
        return item.value()
    shares = rules.seat_shares(event.capacity, event.seat_blocks)
    made = [SeatBlockItem.of(event, block, seats) for block, seats in enumerate(shares)]
    try:
        tx.commit([tx.put("event", item, EventItem.pk.does_not_exist())]
                  + [tx.put(f"block{block.block}", block, SeatBlockItem.pk.does_not_exist()) for block in made])
    except tx.Refused:
        raise errors.InvalidInput("An event with that id already exists.", "event_id") from None
    except tx.Retry:
        raise errors.Busy() from None
    return item.value(blocks=made)


@tx.faults_as_busy
def get_event(event_id: str) -> Event:
    return counted(read(event_id))


def taking_signups(now: str):
    """Before the organizer's closing time for sign-ups or, without one, before the start (`now`: keys.utc text)."""
    return (EventItem.signups_close_at > now) | (
        EventItem.signups_close_at.does_not_exist() & (EventItem.starts_at > now)
    )


# What a listing reads of each event's item beside its index entry: the counts the index leaves out.
COUNTS = [TurnoutItem.pk.attr_name, TurnoutItem.sk.attr_name, EventItem.kind.attr_name, EventItem.going.attr_name,
          EventItem.waitlisted.attr_name, EventItem.seats_left.attr_name, SeatBlockItem.event_id.attr_name,
          SeatBlockItem.block.attr_name, SeatBlockItem.waiting.attr_name, EventItem.reminders.attr_name,
          EventItem.sequence.attr_name, EventItem.series_id.attr_name]


@tx.faults_as_busy
def upcoming_events(now: datetime, limit: int, after: str | None, longest: timedelta, *,
                    only_taking_signups: bool = False, counts: bool = True) -> tuple[list[Event], str | None]:
    """Events whose list has not closed (and, if asked, whose sign-ups have not), by start; `after` is the start
    order of the last one seen. One query of by_start, which holds no counts; with `counts`, one BatchGetItem
    reads them from the page's event items (strongly consistent, as a single event's read is)."""
    start = (
        (TurnoutItem.start_order > after)
        if after
        else (TurnoutItem.start_order >= keys.event_start_order(now - longest, ""))
    )
    moment = keys.utc(now)
    wanted = EventItem.closes_at > moment
    if only_taking_signups:
        wanted &= taking_signups(moment)
    found = [item for item in TurnoutItem.by_start.query(keys.EVENTS_PARTITION, start, wanted, limit=limit + 1)
             if isinstance(item, EventItem)]
    page = found[:limit]
    last = page[-1].start_order if len(found) > limit and page else None
    if not counts or not page:
        return [item.value(counted=False) for item in page], last
    wanted_keys = [(item.pk, item.sk) for item in page]
    for item in page:  # a hot event is counted on its seat blocks, which the same read takes in
        wanted_keys += [keys.seat_block(item.event_id, k) for k in range(int(item.seat_blocks or 0))]
    held: dict[str, EventItem] = {}
    shares: dict[str, list[SeatBlockItem]] = {}
    for got in TurnoutItem.batch_get(wanted_keys, consistent_read=True, attributes_to_get=COUNTS):
        if isinstance(got, EventItem):
            held[got.pk] = got
        elif isinstance(got, SeatBlockItem):
            shares.setdefault(got.event_id, []).append(got)
    listed = []
    for item in page:
        counted = held.get(item.pk)
        if counted is None:  # deleted between the query and the read
            continue
        item.going, item.waitlisted, item.seats_left = counted.going, counted.waitlisted, counted.seats_left
        item.reminders, item.sequence, item.series_id = counted.reminders, counted.sequence, counted.series_id
        listed.append(item.value(blocks=shares.get(item.event_id)))
    return listed, last


@tx.faults_as_busy
def update_event(event_id: str, apply: Callable[[Event], Event]) -> Event:
    """Changes an event under an optimistic check of what the change was computed from (raised capacity
    leaves seats free for the line: core.store.signups.fill_from_waitlist promotes into them)."""

    def attempt() -> Event:
        item = read(event_id)
        before = item.value()
        after = apply(before)
        capacity_delta = rules.room(after.capacity) - rules.room(before.capacity)
        stored = EventItem.get_attributes()
        actions: list[Action] = [
            *(stored[name].set(getattr(after, name)) if getattr(after, name) is not None else stored[name].remove()
              for name in fields.TEXT),
            EventItem.starts_at.set(keys.utc(after.starts_at)),
            EventItem.closes_at.set(keys.utc(after.closes_at)),
            (EventItem.signups_close_at.set(keys.utc(after.signups_close_at)) if after.signups_close_at
             else EventItem.signups_close_at.remove()),
            EventItem.timezone.set(after.timezone),
            EventItem.start_order.set(keys.event_start_order(after.starts_at, event_id)),
            EventItem.ends_at.set(keys.utc(after.ends_at)) if after.ends_at else EventItem.ends_at.remove(),
            EventItem.capacity.set(after.capacity) if after.capacity is not None else EventItem.capacity.remove(),
            (EventItem.reminders.set(list(after.reminders)) if after.reminders != DEFAULT_REMINDERS
             else EventItem.reminders.remove()),
        ]
        if (before.starts_at, before.ends_at, before.location) != (after.starts_at, after.ends_at, after.location):
            actions.append(EventItem.sequence.add(1))  # a calendar shows the new time or place (api/ics.py)
        condition = EventItem.pk.exists() & (EventItem.starts_at == item.starts_at)
        condition &= (
            EventItem.capacity == before.capacity
            if before.capacity is not None
            else EventItem.capacity.does_not_exist()
        )
        if item.seat_blocks is not None:
            return _update_with_blocks(item, after, actions, condition, capacity_delta)
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
            if (
                capacity_delta < 0
                and latest.value().capacity == before.capacity
                and int(latest.seats_left) < -capacity_delta
            ):
                raise errors.CapacityBelowTaken(rules.room(before.capacity) - int(latest.seats_left)) from None
            raise tx.Retry() from None
        return item.value()

    return tx.with_retries(attempt)


def _update_with_blocks(item: EventItem, after: Event, actions: list, condition, capacity_delta: int) -> Event:
    """A hot event's change, in one transaction with its seat blocks' copies of what a sign-up checks."""
    if capacity_delta:
        raise errors.NotWithSeatBlocks(item.event_id)
    copies = [SeatBlockItem.open_until.set(keys.utc(after.signups_until)),
              SeatBlockItem.closes_at.set(keys.utc(after.closes_at)), SeatBlockItem.terms.set(terms(after))]
    writes = [tx.update("event", item, actions, condition)] + [
        tx.update(f"block{k}", SeatBlockItem(*keys.seat_block(item.event_id, k)), copies, SeatBlockItem.pk.exists())
        for k in range(int(item.seat_blocks))]
    try:
        tx.commit(writes)
    except tx.Refused:
        raise tx.Retry() from None  # changed (or deleted) meanwhile: read again
    return counted(read(item.event_id))


@tx.faults_as_busy
def delete_event(event_id: str) -> tuple[Event, list[str], list[str]]:
    """Removes the event, then its partition; returns the event as it was, who was signed up and the buttons bound
    to it (from the keys the delete reads anyway), so they can be told and the buttons re-pointed."""
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
    buttons: list[str] = []
    # The event item is gone first, so no new signup can land; then the rest of the partition.
    partitions = [pk] + ([keys.seats_partition(event_id)] if keys.seat_blocks(event_id) else [])
    with TurnoutItem.batch_write() as batch:
        for partition in partitions:
            # Strongly consistent: a button bound just before the delete must be found here to be re-pointed.
            for item in TurnoutItem.query(partition, attributes_to_get=["pk", "sk"], consistent_read=True):
                if partition == pk and item.sk.startswith(SIGNUP_SK):
                    signed_up.append(item.sk[len(SIGNUP_SK):])
                elif partition == pk and item.sk.startswith(BUTTON_SK):
                    buttons.append(item.sk[len(BUTTON_SK):])
                batch.delete(item)
    return EventItem.from_raw_data(gone["Attributes"]).value(), signed_up, buttons
