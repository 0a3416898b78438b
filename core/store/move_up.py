"""Core store: an organizer moves a waiting party up by hand - seated now, the event's capacity raised by whatever
places it lacked - in one transaction conditioned on the signup and the event as read."""
from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from core import errors, keys, rules
from core.store import line
from core.store import transactions as tx
from core.table import EventItem, SignupItem
from core.values import Signup


@tx.faults_as_busy
def move_up(event_id: str, person: str, now: datetime) -> tuple[Signup, int]:
    """Seats a waitlisted party; returns it going and how many places were added to the capacity for it. Going
    already: unchanged, nothing added. Raises NotSignedUp, EventNotFound, EventOver, NotWithSeatBlocks."""
    if keys.seat_blocks(event_id) is not None:
        raise errors.NotWithSeatBlocks(event_id)
    moment = keys.utc(now)

    def attempt() -> tuple[Signup, int]:
        try:
            event = EventItem.get(*keys.event(event_id), consistent_read=True)
        except DoesNotExist:
            raise errors.EventNotFound(event_id) from None
        try:
            party = SignupItem.get(*keys.signup(event_id, person), consistent_read=True)
        except DoesNotExist:
            raise errors.NotSignedUp(event_id, person) from None
        if party.status == "going":
            return party.value(), 0
        if event.closes_at <= moment:
            raise errors.EventOver(event_id)
        need = rules.seats(int(party.guests))
        free = int(event.seats_left)
        added = max(0, need - free)
        actions = [EventItem.waitlisted.add(-1), EventItem.going.add(1), EventItem.seats_left.set(free + added - need)]
        if added:
            actions.append(EventItem.capacity.set(int(event.capacity) + added))
        condition = (EventItem.seats_left == free) & (EventItem.closes_at > moment)
        if event.capacity is not None:
            condition &= EventItem.capacity == int(event.capacity)
        writes = [*line.promotion(event_id, line.Seating(party, [], False), now),
                  tx.update("event", EventItem(*keys.event(event_id)), actions, condition)]
        try:
            tx.commit(writes)
        except tx.Refused:
            raise tx.Retry() from None  # the party or the event changed since it was read: read both again
        return line.promoted_value(party), added

    return tx.with_retries(attempt)
