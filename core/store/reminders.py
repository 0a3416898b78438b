"""Core store: reminders - the events starting within the longest reminder time (by_start, never a scan), the
reminder each has sent, and who had a seat when a reminder fell due. The telling itself goes down the stream."""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from core import keys
from core.store import notices
from core.store import transactions as tx
from core.table import EventItem, SignupItem, TurnoutItem
from core.values import Event

# What the run reads of each event's item beside its index entry: by_start holds neither (core/table.py LISTED).
STATE = [TurnoutItem.pk.attr_name, TurnoutItem.sk.attr_name, EventItem.kind.attr_name, EventItem.reminders.attr_name,
         EventItem.reminded_at.attr_name, EventItem.sequence.attr_name]
BATCH_GET_MAX = 100


class Upcoming(NamedTuple):
    event: Event  # as described, with its reminder times
    reminded_at: datetime | None  # when the last reminder it sent fell due


@tx.faults_as_busy
def starting_between(start: datetime, end: datetime) -> list[Upcoming]:
    """Events starting after `start` and by `end`: one query of by_start, then one BatchGetItem per hundred of
    them for their reminder times and the last reminder sent, which the index does not hold."""
    window = TurnoutItem.start_order.between(keys.event_start_order(start, ""), keys.event_start_order(end, "~"))
    # Tombstones of deleted events share the index (core.store.feeds); they have no closes_at.
    found = [item for item in TurnoutItem.by_start.query(keys.EVENTS_PARTITION, window, EventItem.closes_at.exists())
             if isinstance(item, EventItem) and keys.from_utc(item.starts_at) > start]
    state: dict[str, EventItem] = {}
    for first in range(0, len(found), BATCH_GET_MAX):
        wanted = [(item.pk, item.sk) for item in found[first:first + BATCH_GET_MAX]]
        for got in EventItem.batch_get(wanted, consistent_read=True, attributes_to_get=STATE):
            state[got.pk] = got
    upcoming = []
    for item in found:
        held = state.get(item.pk)
        if held is None:  # deleted between the query and the read
            continue
        item.reminders, item.sequence = held.reminders, held.sequence
        upcoming.append(Upcoming(item.value(counted=False),
                                 keys.from_utc(held.reminded_at) if held.reminded_at else None))
    return upcoming


@tx.faults_as_busy
def mark_due(event: Event, due: datetime, reminded_at: datetime | None) -> bool:
    """Leaves word of the reminder due at `due` for the stream (a change item the notifier tells everyone going
    from) and notes it sent on the event, in one transaction: conditional on the event still starting when it
    did and on no later reminder sent, so two runs at once write it once. False: refused (moved, or sent)."""
    at = keys.utc(due)
    word = notices.change(event, "reminder", at)
    condition = EventItem.starts_at == keys.utc(event.starts_at)
    condition &= (EventItem.reminded_at < at) if reminded_at is not None else EventItem.reminded_at.does_not_exist()
    try:
        tx.commit([tx.put("change", word, TurnoutItem.pk.does_not_exist()),
                   tx.update("event", EventItem(*keys.event(event.event_id)), [EventItem.reminded_at.set(at)],
                             condition)])
    except tx.Refused:
        return False
    except tx.Retry:
        return False  # the next run tries again
    return True


@tx.faults_as_busy
def going_before(event_id: str, due: datetime) -> list[str]:
    """Who held a seat before the reminder fell due: one query of the going part of by_status, up to `due`
    (a seat taken later, by a late sign-up or a promotion, is not reminded of what fell due before it)."""
    found = TurnoutItem.by_status.query(
        keys.event_partition(event_id),
        TurnoutItem.status_order.between(keys.GOING_PREFIX, keys.going_order(due, "")),
        consistent_read=True, attributes_to_get=["kind", "pk", "sk", "person"])
    return [item.person for item in found if isinstance(item, SignupItem)]
