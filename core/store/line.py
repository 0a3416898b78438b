"""Core store: an event's waitlist - reading it in order, finding who the free seats go to, and the conditioned
writes that seat a party from it. core/store/signups.py moves seats with these."""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from core import errors, keys, rules
from core.store import transactions as tx
from core.table import EventItem, SignupItem, TurnoutItem
from core.values import Signup

# Parties too big for the free seats that one look down the line passes over, each checked unchanged in the
# transaction that seats the one behind them: with the signup, the event and a stored request, well inside
# DynamoDB's 100 items a transaction. Further back the look stops, and the seats wait for the next change.
LOOKED_PAST_MAX = 40
LINE_PAGE = 25


def as_read(item: SignupItem):
    """The condition under every write that moved seats by what a signup held: the signup exactly as it was read -
    its place (status and when), its party and its seat block. When any of them changed meanwhile the write is
    refused, and its seats are counted again from a fresh read; never from the party as it was."""
    held = SignupItem.block == int(item.block) if item.block is not None else SignupItem.block.does_not_exist()
    return (SignupItem.status_order == item.status_order) & (SignupItem.guests == int(item.guests)) & held


@tx.faults_as_busy
def place_in_line(partition: str, order: str) -> int:
    """1-based place of a waitlisted signup (by its order key): one count over the line up to it."""
    return TurnoutItem.by_status.count(partition, TurnoutItem.status_order.between(keys.WAITLIST_PREFIX, order),
                                       consistent_read=True)


def event_and_head(event_id: str) -> tuple[EventItem, SignupItem | None]:
    """One strongly consistent query: the event item, then the first waitlisted signup if any."""
    found = list(
        TurnoutItem.by_status.query(
            keys.event_partition(event_id), TurnoutItem.status_order >= keys.EVENT_ORDER, consistent_read=True, limit=2
        )
    )
    if not found or not isinstance(found[0], EventItem):
        raise errors.EventNotFound(event_id)
    head = found[1] if len(found) > 1 and isinstance(found[1], SignupItem) else None
    return found[0], head


class Seating(NamedTuple):
    """Who `free` seats go to: the first in line whose whole party fits (None: nobody's does), and the parties ahead
    of it, each too big. `whole`: the line was read to its end, so nobody waiting was left unread."""

    party: SignupItem | None
    passed: list[SignupItem]
    whole: bool


def first_to_fit(event_id: str, free: int, waiting: int, *, head: SignupItem | None = None,
                 besides: str | None = None) -> Seating:
    """The line read only as far as it takes: not at all when nobody waits or the `head` already read fits (the
    usual case: no call beyond the query that read it), else a page at a time from its start. `waiting`: the
    line's length as counted. `besides`: a person not to seat (the one cancelling)."""
    if not waiting:
        return Seating(None, [], True)
    if free < 1:
        return Seating(None, [], False)
    if head is not None and head.person != besides:
        if rules.fits(int(head.guests), free):
            return Seating(head, [], False)
        if waiting == 1:
            return Seating(None, [head], True)
    passed: list[SignupItem] = []
    line = TurnoutItem.by_status.query(keys.event_partition(event_id),
                                       TurnoutItem.status_order.between(keys.WAITLIST_PREFIX, keys.AFTER_WAITLIST),
                                       consistent_read=True, page_size=LINE_PAGE)
    for item in line:
        if not isinstance(item, SignupItem) or item.person == besides:
            continue
        if rules.fits(int(item.guests), free):
            return Seating(item, passed, False)
        passed.append(item)
        if len(passed) >= LOOKED_PAST_MAX:
            return Seating(None, passed, False)
    return Seating(None, passed, True)


def unchanged(event_id: str, passed: list[SignupItem]) -> list[tx.Write]:
    """Checks that each party passed over is still as big as it was read: one that shrank may fit and is ahead."""
    return [tx.check(f"passed{n}", SignupItem, *keys.signup(event_id, item.person), as_read(item))
            for n, item in enumerate(passed)]


def promotion(event_id: str, seating: Seating, now: datetime, block: int | None = None) -> list[tx.Write]:
    """Seats `seating.party`, valid only while it and every party passed over are as they were read. block: on a hot
    event, the seat block the promoted party holds its seats on."""
    party = seating.party
    assert party is not None
    # Never before the signup itself: a retried attempt's `now` may predate a signup made since it began, and the
    # moment names the promotion's notice (core.store.notices), so each promotion of a person is told as its own.
    went_at = max(keys.utc(now), party.signed_up_at)
    actions = [SignupItem.status.set("going"), SignupItem.status_order.set(keys.going_order(went_at, party.person))]
    if block is not None:
        actions.append(SignupItem.block.set(block))
    return [tx.update("promoted", SignupItem(*keys.signup(event_id, party.person)), actions,
                      (SignupItem.status == "waitlisted") & as_read(party)), *unchanged(event_id, seating.passed)]


def promoted_value(party: SignupItem) -> Signup:
    return party.value()._replace(status="going", position=None)
