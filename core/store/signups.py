"""Core store: signups and the waitlist - sign-up, cancel with promotion, check-in, pages of who is going."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist

from core import errors, keys, rules
from core.store import events, line, requests
from core.store import transactions as tx
from core.table import EventItem, SeatBlockItem, SignupItem, TurnoutItem, page_start, terms
from core.values import Cancellation, Cancelled, CheckIn, Event, EventRef, Signup, SignupOutcome, Source, Status


class StaleCopy(Exception):
    """The event no longer matches the copy the caller expected; `event` is what it is now."""

    def __init__(self, event: Event) -> None:
        super().__init__(event.event_id)
        self.event = event


def _event_key(event_id: str) -> EventItem:
    return EventItem(*keys.event(event_id))


def _open(now: str):
    return EventItem.pk.exists() & (EventItem.closes_at > now)


def _taking_signups(now: str):
    return _open(now) & events.taking_signups(now)


@tx.faults_as_busy
def sign_up(
    event_id: str,
    person: str,
    *,
    name: str | None,
    guests: int,
    source: Source,
    waitlist: bool,
    request_id: str | None,
    now: datetime,
    fingerprint: str | None = None,
    note: dict[str, Any] | None = None,
    expect: EventRef | None = None,
    resize: bool = False,
) -> SignupOutcome:
    """One transaction when a seat is free (or the line is known to be long): the signup put if the person has
    none, and the event's counts moved if the condition for its path still holds. A refused condition hands
    back the event as it was, so the other path is tried at once. `expect`: the event as the caller remembers
    it (name, start, time zone); StaleCopy when it changed. `resize`: the guests were asked for, so a signup
    that exists already changes its party to them (change_party)."""
    blocks = keys.seat_blocks(event_id)
    if blocks is not None:
        return _sign_up_on_blocks(event_id, person, blocks, name=name, guests=guests, source=source, waitlist=waitlist,
                                  request_id=request_id, now=now, fingerprint=fingerprint, note=note, expect=expect,
                                  resize=resize)
    seats = rules.seats(guests)
    moment = keys.utc(now)
    known: dict[str, EventItem] = {}

    def attempt() -> SignupOutcome:
        event = known.get("event")
        waiting = int(event.waitlisted) if event else 0
        full = event is not None and rules.joins_the_line(int(event.seats_left), waiting, seats)
        passed: list[SignupItem] | None = []
        if full and event is not None and waiting and rules.fits(guests, int(event.seats_left)):
            passed = _past_the_line(event_id, int(event.seats_left), waiting, person)
            full = passed is None
        if full and not waitlist:
            raise errors.EventFull(event_id)
        status: Status
        if full:
            status, order, position = "waitlisted", keys.waitlist_order(moment, person), waiting + 1
            actions = [EventItem.waitlisted.add(1), EventItem.tickets.add(1)]
            condition = _taking_signups(moment) & ((EventItem.seats_left < seats) | (EventItem.waitlisted > 0))
            passed = []
        else:
            # Seats for the party, and nobody waiting (or only the parties passed, each still too big for them).
            status, order, position = "going", keys.going_order(moment, person), None
            actions = [EventItem.going.add(1), EventItem.seats_left.add(-seats)]
            condition = _taking_signups(moment) & (EventItem.seats_left >= seats) & (EventItem.waitlisted == waiting)
        if expect is not None:
            # What a button's binding remembers of its event must still be true, or the press answers stale news.
            zone = expect.starts_at.tzinfo
            assert isinstance(zone, ZoneInfo), "an event's start is always told in its ZoneInfo"
            condition &= ((EventItem.name == expect.name) & (EventItem.starts_at == keys.utc(expect.starts_at))
                          & (EventItem.timezone == zone.key))
        signup = Signup(event_id=event_id, person=person, name=name, guests=guests, status=status, position=position,
                        source=source, signed_up_at=now, checked_in_at=None)
        writes = [
            tx.put("signup", SignupItem.of(signup, order), SignupItem.pk.does_not_exist(), want_old=True),
            tx.update("event", _event_key(event_id), actions, condition, want_old=True),
            *line.unchanged(event_id, passed or []),
        ]
        outcome = lambda: {"kind": "sign_up", "created": True, "signup": requests.signup_json(signup)}  # noqa: E731
        try:
            tx.commit(requests.with_request(writes, request_id, fingerprint, outcome, note, now))
        except tx.Refused as refused:
            replay = requests.replay(refused, "sign_up", fingerprint)
            if replay is not None:
                return SignupOutcome(requests.signup_from_json(replay["signup"]), replay["created"], replayed=True,
                                     note=replay.get("note"))
            if refused.failed("signup"):
                return _already(refused, event_id, person, guests, resize, request_id, fingerprint, note, now)
            if not refused.failed("event"):
                raise tx.Retry() from None  # a party passed over changed: read the line again
            latest = refused.old("event")
            if not isinstance(latest, EventItem):
                raise errors.EventNotFound(event_id) from None
            if latest.closes_at <= moment:
                raise errors.EventOver(event_id) from None
            as_it_is = latest.value()
            if as_it_is.signups_until <= now:
                raise errors.SignupsClosed(event_id, as_it_is.signups_until) from None
            rules.check_party_fits(as_it_is.capacity, seats)
            if expect is not None and not expect.names(as_it_is):
                raise StaleCopy(as_it_is) from None
            known["event"] = latest
            raise tx.Retry() from None
        if status == "waitlisted":
            signup = signup._replace(position=line.place_in_line(keys.event_partition(event_id), order))
            # The places free as last read: the line's condition held them too few for the party, or spoken for.
            assert event is not None  # only an event read as full puts a sign-up in line
            return SignupOutcome(signup, created=True, places_left=int(event.seats_left))
        return SignupOutcome(signup, created=True)

    return tx.with_retries(attempt)


def _past_the_line(event_id: str, free: int, waiting: int, person: str) -> list[SignupItem] | None:
    """Seats are free while parties wait, each too big for them: a newcomer whose party fits may go past them.
    The parties passed (the whole line, read now), or None when someone in line fits after all, or the line was
    not read to its end - then the newcomer joins it. `person` is left out of the parties passed: found in line
    (another request of theirs joined it meanwhile), the line is not all passed, and the sign-up finds their
    signup when it tries to join (a transaction may not touch one item twice)."""
    seating = line.first_to_fit(event_id, free, waiting, besides=person)
    if seating.party is None and seating.whole and len(seating.passed) == waiting:
        return seating.passed
    return None


def _already(refused: tx.Refused, event_id: str, person: str, guests: int, resize: bool, request_id: str | None,
             fingerprint: str | None, note: dict[str, Any] | None, now: datetime) -> SignupOutcome:
    """A sign-up refused because the person has a signup: that one (its party resized if asked), stored under the
    request id when there is one."""
    existing = refused.old("signup")
    if not isinstance(existing, SignupItem):
        raise tx.Retry() from None
    if resize and int(existing.guests) != guests:
        try:
            already = SignupOutcome(change_party(event_id, person, guests, now=now, seen=existing), created=False)
        except errors.NotSignedUp:
            raise tx.Retry() from None  # cancelled since it was read: this request signs up afresh
    else:
        already = SignupOutcome(_with_position(existing), created=False)
    if request_id is None:
        return already
    first = requests.store_apart(request_id, fingerprint, {"kind": "sign_up", "created": False,
                                 "signup": requests.signup_json(already.signup)}, note, now)
    if first is None:
        return already
    return SignupOutcome(requests.signup_from_json(first["signup"]), first["created"], replayed=True,
                         note=first.get("note"))


# --- seat blocks: a hot event's seats over several items (docs/SCALING.md) ------------------------------------


def _block(event_id: str, block: int) -> SeatBlockItem:
    return SeatBlockItem(*keys.seat_block(event_id, block))


def _refused_block(refused: tx.Refused, writes: list[tx.Write], event_id: str, moment: str,
                   expect: EventRef | None) -> None:
    """What a refused block says: the event gone, over, closed to sign-ups or changed under a button's memory
    (raised); otherwise only its seats or its line moved, and the caller reads the blocks again."""
    for write in writes:
        if not write.label.startswith("block") or not refused.failed(write.label):
            continue
        old = refused.old(write.label)
        if not isinstance(old, SeatBlockItem):
            raise errors.EventNotFound(event_id)
        if old.closes_at <= moment:
            raise errors.EventOver(event_id)
        if old.open_until <= moment or (expect is not None and old.terms != terms(expect)):
            event = events.read(event_id).value()
            if old.open_until <= moment:
                raise errors.SignupsClosed(event_id, event.signups_until)
            raise StaleCopy(event)


def _block_writes(event_id: str, blocks: list[SeatBlockItem], seats: dict[int, int], going: dict[int, int],
                  waiting: int) -> list[tx.Write]:
    """Updates of the blocks a promotion or cancel moves, each valid only while its block is as it was read."""
    writes = []
    for block in blocks:
        k = int(block.block)
        actions = []
        if seats.get(k):
            actions.append(SeatBlockItem.seats_left.add(seats[k]))
        if going.get(k):
            actions.append(SeatBlockItem.going.add(going[k]))
        if waiting:
            actions.append(SeatBlockItem.waiting.add(waiting))
        if actions:
            unmoved = (SeatBlockItem.seats_left == int(block.seats_left)) & (
                SeatBlockItem.waiting == int(block.waiting)
            )
            writes.append(tx.update(f"block{k}", _block(event_id, k), actions, unmoved))
    return writes


def _sign_up_on_blocks(event_id: str, person: str, count: int, *, name: str | None, guests: int, source: Source,
                       waitlist: bool, request_id: str | None, now: datetime, fingerprint: str | None,
                       note: dict[str, Any] | None, expect: EventRef | None, resize: bool) -> SignupOutcome:
    """sign_up on a hot event: the signup put and the person's own block's seats taken, in one transaction that
    touches no other item of the event's - blind, as on a plain event. A refused block hands itself back; then
    all blocks are read and the seats come from another block (or several), or the party joins the line, which
    every block counts (so the line's transaction takes in all of them: it is only hot once the event is full)."""
    seats = rules.seats(guests)
    moment = keys.utc(now)
    home = keys.home_block(person, count)
    known: dict[str, list[SeatBlockItem]] = {}

    def attempt() -> SignupOutcome:
        seen = known.get("blocks")
        waiting = max(int(block.waiting) for block in seen) if seen else 0
        plan: list[tuple[int, int]] | None = [(home, seats)]
        passed: list[SignupItem] | None = []
        if seen is not None:
            rules.check_party_fits(int(seen[0].capacity) if seen[0].capacity is not None else None, seats)
            free = {int(block.block): int(block.seats_left) for block in seen}
            plan = rules.seat_plan(free, seats, home)
            if plan is not None and waiting:
                passed = _past_the_line(event_id, sum(free.values()), waiting, person)
                plan = plan if passed is not None else None
        terms_hold = SeatBlockItem.open_until > moment
        if expect is not None:
            terms_hold &= SeatBlockItem.terms == terms(expect)
        status: Status
        if plan is None:
            assert seen is not None  # a plan is refused only once the blocks were read
            if not waitlist:
                raise errors.EventFull(event_id)
            status, order, position, held = "waitlisted", keys.waitlist_order(moment, person), waiting + 1, None
            block_writes = [tx.update(f"block{int(block.block)}", _block(event_id, int(block.block)),
                                      [SeatBlockItem.waiting.add(1)],
                                      terms_hold & ((SeatBlockItem.waiting > 0)
                                                    | (SeatBlockItem.seats_left <= int(block.seats_left))),
                                      want_old=True) for block in seen]
        else:
            status, order, position, held = "going", keys.going_order(moment, person), None, plan[0][0]
            block_writes = [tx.update(f"block{k}", _block(event_id, k),
                                      [SeatBlockItem.seats_left.add(-taken)]
                                      + ([SeatBlockItem.going.add(1)] if k == held else []),
                                      terms_hold & (SeatBlockItem.seats_left >= taken)
                                      & (SeatBlockItem.waiting == waiting),
                                      want_old=True) for k, taken in plan] + line.unchanged(event_id, passed or [])
        signup = Signup(event_id=event_id, person=person, name=name, guests=guests, status=status, position=position,
                        source=source, signed_up_at=now, checked_in_at=None)
        writes = [tx.put("signup", SignupItem.of(signup, order, held), SignupItem.pk.does_not_exist(), want_old=True),
                  *block_writes]
        outcome = lambda: {"kind": "sign_up", "created": True, "signup": requests.signup_json(signup)}  # noqa: E731
        try:
            tx.commit(requests.with_request(writes, request_id, fingerprint, outcome, note, now))
        except tx.Refused as refused:
            replay = requests.replay(refused, "sign_up", fingerprint)
            if replay is not None:
                return SignupOutcome(requests.signup_from_json(replay["signup"]), replay["created"], replayed=True,
                                     note=replay.get("note"))
            if refused.failed("signup"):
                return _already(refused, event_id, person, guests, resize, request_id, fingerprint, note, now)
            _refused_block(refused, writes, event_id, moment, expect)
            known["blocks"] = events.blocks(event_id)
            if not known["blocks"]:
                raise errors.EventNotFound(event_id) from None
            raise tx.Retry() from None
        if status == "waitlisted":
            signup = signup._replace(position=line.place_in_line(keys.event_partition(event_id), order))
            places_left = sum(free.values()) if seen is not None else None  # as the party joined
            return SignupOutcome(signup, created=True, places_left=places_left)
        return SignupOutcome(signup, created=True)

    return tx.with_retries(attempt)


def _cancel_on_blocks(event_id: str, person: str, count: int, *, request_id: str | None, now: datetime,
                      fingerprint: str | None, note: dict[str, Any] | None,
                      also: Callable[[Event], list[tx.Write]] | None) -> Cancellation:
    """cancel_signup on a hot event. The usual case - going, no guests, on the person's own block, nobody
    waiting - is one transaction with nothing read first; a refusal hands back the signup or the block, and then
    the blocks and the line are read and the seat goes to the first in line whose party fits (from as many blocks
    as it needs) in the same transaction, or stays free when nobody waits or nobody's party fits."""
    pk, sk = keys.signup(event_id, person)
    home = keys.home_block(person, count)
    seen: dict[str, Any] = {}
    leftover = {"seats": False}
    # The usual hot cancel reads nothing; writes made from the event need it read (its name, time and place).
    event = events.read(event_id).value() if also is not None else None

    def read_line() -> None:
        seen["blocks"] = events.blocks(event_id)
        if not seen["blocks"]:
            raise errors.EventNotFound(event_id)
        seen["head"] = line.event_and_head(event_id)[1]

    def attempt() -> Cancellation:
        mine_item: SignupItem | None = seen.get("mine")
        # pynamodb: a UnicodeAttribute reads back as str; only a Status is ever written to a signup's status.
        mine = (Cancelled(event_id, person, cast(Status, mine_item.status), int(mine_item.guests))
                if mine_item is not None else Cancelled(event_id, person, "going", 0))
        held = int(mine_item.block) if mine_item is not None and mine_item.block is not None else home
        freed = rules.seats(mine.guests)
        if mine_item is None:  # not read: a guess
            delete = tx.delete("signup", SignupItem(pk, sk), (SignupItem.status == "going") & (SignupItem.guests == 0)
                               & (SignupItem.block == home), want_old=True)
        else:
            delete = tx.delete("signup", SignupItem(pk, sk), line.as_read(mine_item), want_old=True)
        if mine.status == "waitlisted" and "blocks" not in seen:
            read_line()
        promoted: Signup | None = None
        if "blocks" not in seen:
            writes = [delete, tx.update(f"block{held}", _block(event_id, held),
                                        [SeatBlockItem.going.add(-1), SeatBlockItem.seats_left.add(freed)],
                                        SeatBlockItem.waiting == 0, want_old=True)]
        else:
            blocks: list[SeatBlockItem] = seen["blocks"]
            head: SignupItem | None = seen["head"]
            free = {int(block.block): int(block.seats_left) for block in blocks}
            if mine.status == "waitlisted":
                writes = [delete, *_block_writes(event_id, blocks, {}, {}, -1)]
                leftover["seats"] = sum(free.values()) > 0
            else:
                free[held] += freed
                seats, going = {held: freed}, {held: -1}
                waiting = max(int(block.waiting) for block in blocks)
                seating = line.first_to_fit(event_id, sum(free.values()), waiting, head=head, besides=person)
                party = seating.party
                plan = (rules.seat_plan(free, rules.seats(int(party.guests)), keys.home_block(party.person, count))
                        if party is not None else None)
                promotion: list[tx.Write] = []
                if plan is not None and party is not None:  # a plan is made only for a party
                    for k, taken in plan:
                        seats[k] = seats.get(k, 0) - taken
                    going[plan[0][0]] = going.get(plan[0][0], 0) + 1
                    promotion = line.promotion(event_id, seating, now, block=plan[0][0])
                    promoted = line.promoted_value(party)
                # Seats still free after that party went in may fit whoever waits behind it.
                after = sum(free.values()) - (rules.seats(int(party.guests)) if plan is not None and party else 0)
                leftover["seats"] = waiting > 0 and (plan is None or (after > 0 and waiting > 1))
                writes = [delete, *promotion, *_block_writes(event_id, blocks, seats, going, -1 if plan else 0)]
        if also is not None and event is not None:  # the event is read whenever `also` is given
            writes += also(event)
        # Refused: the line or the blocks moved (EventNotFound when there are none), so they are read again.
        replayed = _commit_cancel(writes, mine, promoted, seen=seen, reread=read_line,
                                  request_id=request_id, fingerprint=fingerprint, note=note, now=now)
        return replayed or Cancellation(mine, promoted, event=event)

    return _fill_after(tx.with_retries(attempt), leftover["seats"], event_id, now)


def _fill_blocks(event_id: str, count: int, now: datetime) -> Signup | None:
    """One promotion on a hot event: the first in line whose party fits the free seats of all blocks."""
    _, head = line.event_and_head(event_id)
    if head is None:
        return None
    blocks = events.blocks(event_id)
    free = {int(block.block): int(block.seats_left) for block in blocks}
    seating = line.first_to_fit(event_id, sum(free.values()), max(int(block.waiting) for block in blocks), head=head)
    if seating.party is None:
        return None
    party = seating.party
    plan = rules.seat_plan(free, rules.seats(int(party.guests)), keys.home_block(party.person, count))
    if plan is None:
        return None
    seats = {k: -taken for k, taken in plan}
    writes = [*line.promotion(event_id, seating, now, block=plan[0][0]),
              *_block_writes(event_id, blocks, seats, {plan[0][0]: 1}, -1)]
    try:
        tx.commit(writes)
    except tx.Refused:
        raise tx.Retry() from None
    return line.promoted_value(party)


@tx.faults_as_busy
def change_party(event_id: str, person: str, guests: int, *, now: datetime, seen: SignupItem) -> Signup:
    """A signup's guests changed where it stands, in one transaction with the event's seats: a going party grows
    only into free seats that nobody is waiting for, a smaller one gives its seats back and the line moves up, a
    waiting one keeps its place; no party grows once sign-ups have closed (it may still shrink). `seen`: the signup
    as last read. Raises NoRoomToGrow, SignupsClosed, InvalidInput (a party larger than the event), EventOver,
    NotSignedUp."""
    party = rules.seats(guests)
    moment = keys.utc(now)
    current = {"signup": seen}
    count = keys.seat_blocks(event_id)

    def attempt() -> tuple[SignupItem, int] | None:
        mine = current["signup"]
        before = int(mine.guests)
        if before == guests:
            return None
        grows = party - rules.seats(before)
        writes = [tx.update("signup", SignupItem(*keys.signup(event_id, person)), [SignupItem.guests.set(guests)],
                            line.as_read(mine),
                            want_old=True)]
        if count is not None:
            # A hot event: a going party grows into its own block's free seats; a waiting one must fit the event.
            held = int(mine.block) if mine.block is not None else 0
            condition = SeatBlockItem.closes_at > moment
            if grows > 0:
                condition &= SeatBlockItem.open_until > moment
            if mine.status == "going":
                if grows > 0:
                    condition &= (SeatBlockItem.seats_left >= grows) & (SeatBlockItem.waiting == 0)
                writes.append(tx.update("event", _block(event_id, held), [SeatBlockItem.seats_left.add(-grows)],
                                        condition, want_old=True))
            else:
                condition &= SeatBlockItem.capacity.does_not_exist() | (SeatBlockItem.capacity >= party)
                writes.append(tx.check("event", SeatBlockItem, *keys.seat_block(event_id, held), condition,
                                       want_old=True))
        elif mine.status == "going":
            condition = _open(moment)
            if grows > 0:
                condition &= (events.taking_signups(moment) & (EventItem.seats_left >= grows)
                              & (EventItem.waitlisted == 0))
            writes.append(tx.update("event", _event_key(event_id), [EventItem.seats_left.add(-grows)], condition,
                                    want_old=True))
        else:
            # A waiting party holds no seat yet; it must still fit the whole event, or it would block the line.
            condition = _open(moment) & (EventItem.capacity.does_not_exist() | (EventItem.capacity >= party))
            if grows > 0:
                condition &= events.taking_signups(moment)
            writes.append(tx.check("event", EventItem, *keys.event(event_id), condition, want_old=True))
        try:
            tx.commit(writes)
        except tx.Refused as refused:
            if refused.failed("signup"):
                latest = refused.old("signup")
                if not isinstance(latest, SignupItem):
                    raise errors.NotSignedUp(event_id, person) from None
                current["signup"] = latest  # promoted, or changed by another request: go on from it as it is
                raise tx.Retry() from None
            event = refused.old("event")
            if not isinstance(event, (EventItem, SeatBlockItem)):
                raise errors.EventNotFound(event_id) from None
            if event.closes_at <= moment:
                raise errors.EventOver(event_id) from None
            # A block keeps when sign-ups close in UTC; the sentence tells it in the event's zone (rare: refused).
            closed = (events.get_event(event_id).signups_until if isinstance(event, SeatBlockItem)
                      else event.value().signups_until)
            if grows > 0 and closed <= now:
                raise errors.SignupsClosed(event_id, closed) from None
            rules.check_party_fits(int(event.capacity) if event.capacity is not None else None, party)
            if mine.status == "going" and grows > 0:
                waiting = event.waiting if isinstance(event, SeatBlockItem) else event.waitlisted
                raise errors.NoRoomToGrow(event_id, person, spots_left=int(event.seats_left),
                                          waiting=int(waiting), guests=before) from None
            raise tx.Retry() from None
        return mine, grows

    changed = tx.with_retries(attempt)
    if changed is None:
        return _with_position(current["signup"])
    mine, grows = changed
    # Seats given back, or a waiting party now small enough for the free ones: the line may move up.
    promoted = fill_from_waitlist(event_id, now) if grows < 0 or mine.status == "waitlisted" else []
    for signup in promoted:
        if signup.person == person:
            return signup
    return _with_position(mine)._replace(guests=guests)


def _with_position(item: SignupItem) -> Signup:
    waiting = item.status == "waitlisted"
    return item.value(line.place_in_line(item.pk, item.status_order) if waiting else None)


@tx.faults_as_busy
def get_signup(event_id: str, person: str) -> Signup:
    try:
        item = SignupItem.get(*keys.signup(event_id, person), consistent_read=True)
    except DoesNotExist:
        raise errors.NotSignedUp(event_id, person) from None
    return _with_position(item)


@tx.faults_as_busy
def cancel_signup(event_id: str, person: str, *, request_id: str | None, now: datetime,
                  fingerprint: str | None = None, note: dict[str, Any] | None = None,
                  also: Callable[[Event], list[tx.Write]] | None = None) -> Cancellation:
    """Deletes the signup and, in the same transaction, promotes the first in line whose party fits the freed seats:
    one query (the event and the head of the line) and one transaction when the head fits or nobody waits (more of
    the line is read only when the head does not fit). The signup is not read first: the delete
    assumes the usual case - going, no guests - as its condition, and when that is wrong the refusal hands the
    signup back and the cancel goes on from it. `also`: more writes for the same transaction, made from the
    event (an organizer's word to the person), so they land exactly when the cancel does."""
    blocks = keys.seat_blocks(event_id)
    if blocks is not None:
        return _cancel_on_blocks(event_id, person, blocks, request_id=request_id, now=now, fingerprint=fingerprint,
                                 note=note, also=also)
    pk, sk = keys.signup(event_id, person)
    # Seats can stay free after a promotion, or while a changed party is counted again; then the line is re-checked.
    leftover = {"seats": False}
    seen: dict[str, SignupItem] = {}

    def attempt() -> Cancellation:
        mine_item = seen.get("mine")
        guess = mine_item is None
        event, head = line.event_and_head(event_id)
        if guess and head is not None and head.person == person:
            guess, mine_item = False, head  # first in line: the query read the signup already
        # Until its delete's condition says otherwise, a cancel assumes the usual signup: going, no guests.
        # pynamodb: a UnicodeAttribute reads back as str; only a Status is ever written to a signup's status.
        mine = (Cancelled(event_id, person, cast(Status, mine_item.status), int(mine_item.guests))
                if mine_item is not None else Cancelled(event_id, person, "going", 0))
        freed = rules.seats(mine.guests)
        seats_left = int(event.seats_left)
        if mine_item is None:  # not read: a guess
            delete = tx.delete("signup", SignupItem(pk, sk), (SignupItem.status == "going") & (SignupItem.guests == 0),
                               want_old=True)
        else:
            delete = tx.delete("signup", SignupItem(pk, sk), line.as_read(mine_item), want_old=True)
        promoted: Signup | None = None
        waiting = int(event.waitlisted)
        # besides: a guess of "going" may be wrong, and a person is never seated by their own cancel.
        seating = (line.first_to_fit(event_id, seats_left + freed, waiting, head=head, besides=person)
                   if mine.status == "going"
                   else line.Seating(None, [], False))
        if mine.status == "waitlisted":
            writes = [
                delete,
                tx.update("event", _event_key(event_id), [EventItem.waitlisted.add(-1)], EventItem.waitlisted > 0),
            ]
            leftover["seats"] = seats_left > 0
        elif seating.party is not None:
            need = rules.seats(int(seating.party.guests))
            writes = [delete, *line.promotion(event_id, seating, now), tx.update(
                "event", _event_key(event_id),
                [EventItem.waitlisted.add(-1), EventItem.seats_left.add(freed - need)],
                (EventItem.waitlisted > 0) & (EventItem.seats_left >= need - freed),
            )]
            promoted = line.promoted_value(seating.party)
            # Seats still free after that party went in may fit whoever waits behind it.
            leftover["seats"] = seats_left + freed > need and waiting > 1
        else:
            leftover["seats"] = head is not None
            # Nobody takes the seat: valid only while the waitlist is exactly as it was read.
            still = (EventItem.waitlisted == 0) if head is None else (EventItem.tickets == int(event.tickets))
            writes = [delete, tx.update("event", _event_key(event_id),
                                        [EventItem.going.add(-1), EventItem.seats_left.add(freed)], still)]
        if also is not None:
            writes += also(event.value())
        replayed = _commit_cancel(writes, mine, promoted, seen=seen, reread=None,
                                  request_id=request_id, fingerprint=fingerprint, note=note, now=now)
        return replayed or Cancellation(mine, promoted, event=event.value())

    return _fill_after(tx.with_retries(attempt), leftover["seats"], event_id, now)


def _commit_cancel(writes: list[tx.Write], mine: Cancelled, promoted: Signup | None, *,
                   seen: dict[str, Any], reread: Callable[[], None] | None, request_id: str | None,
                   fingerprint: str | None, note: dict[str, Any] | None, now: datetime) -> Cancellation | None:
    """Commits a cancel's writes with its stored outcome: None when they went through, the stored answer when the
    request was made before. Any other refusal is tx.Retry, after noting the signup as the delete found it when
    it was not as assumed (the usual one, going with no guests, or as last read), and after `reread`."""
    outcome = lambda: {"kind": "cancel", "cancelled": mine._asdict(),  # noqa: E731
                       "promoted": requests.signup_json(promoted)}
    try:
        tx.commit(requests.with_request(writes, request_id, fingerprint, outcome, note, now))
    except tx.Refused as refused:
        replay = requests.replay(refused, "cancel", fingerprint)
        if replay is not None:
            return _replayed_cancellation(replay)
        if refused.failed("signup"):
            old = refused.old("signup")
            if not isinstance(old, SignupItem):
                raise errors.NotSignedUp(mine.event_id, mine.person) from None
            seen["mine"] = old  # not the usual case, or changed since it was read: go on from it as it is
        if reread is not None:
            reread()
        raise tx.Retry() from None
    return None


def _fill_after(cancellation: Cancellation, seats_left_over: bool, event_id: str, now: datetime) -> Cancellation:
    """Seats a cancel freed that its own transaction did not give to the line go to the line now."""
    if seats_left_over and not cancellation.replayed:
        filled = fill_from_waitlist(event_id, now)
        if filled and cancellation.promoted is None:
            return cancellation._replace(promoted=filled[0])
    return cancellation


def _replayed_cancellation(outcome: dict[str, Any]) -> Cancellation:
    return Cancellation(requests.cancelled_from_json(outcome["cancelled"]),
                        requests.signup_from_json(outcome["promoted"]), replayed=True, note=outcome.get("note"))


@tx.faults_as_busy
def fill_from_waitlist(event_id: str, now: datetime) -> list[Signup]:
    """Promotes waitlisted people in order for as long as anyone's party fits in the free seats (the first whose
    party fits each time): one query (the event and the head of the line) says whether the head's does, and only
    when it does not is more of the line read."""
    promoted: list[Signup] = []
    count = keys.seat_blocks(event_id)

    def attempt() -> Signup | None:
        if count is not None:
            return _fill_blocks(event_id, count, now)
        event, head = line.event_and_head(event_id)
        seating = line.first_to_fit(event_id, int(event.seats_left), int(event.waitlisted), head=head)
        if seating.party is None:
            return None
        need = rules.seats(int(seating.party.guests))
        writes = [*line.promotion(event_id, seating, now), tx.update(
            "event", _event_key(event_id),
            [EventItem.waitlisted.add(-1), EventItem.going.add(1), EventItem.seats_left.add(-need)],
            (EventItem.waitlisted > 0) & (EventItem.seats_left >= need),
        )]
        try:
            tx.commit(writes)
        except tx.Refused:
            raise tx.Retry() from None
        return line.promoted_value(seating.party)

    while (signup := tx.with_retries(attempt)) is not None:
        promoted.append(signup)
    return promoted


@tx.faults_as_busy
def check_in(event_id: str, person: str, *, now: datetime, opens_before: timedelta, request_id: str | None = None,
             fingerprint: str | None = None, note: dict[str, Any] | None = None) -> CheckIn:
    """Idempotent by its condition: a second check-in returns the first one unchanged. With a request id the
    outcome is stored under it too, so a repeated delivery is told it was a repeat."""
    event = events.read(event_id).value()
    rules.check_in_open(event, now, opens_before)
    update = tx.update(
        "signup",
        SignupItem(*keys.signup(event_id, person)),
        [SignupItem.checked_in_at.set(keys.utc(now))],
        SignupItem.pk.exists() & (SignupItem.status == "going") & SignupItem.checked_in_at.does_not_exist(),
        want_old=True,
    )
    outcome = lambda: {"kind": "check_in", "signup": None}  # noqa: E731
    try:
        tx.commit(requests.with_request([update], request_id, fingerprint, outcome, note, now))
    except tx.Refused as refused:
        replay = requests.replay(refused, "check_in", fingerprint)
        if replay is not None:
            return CheckIn(get_signup(event_id, person), replayed=True, note=replay.get("note"), event=event)
        old = refused.old("signup")
        if not isinstance(old, SignupItem):
            raise errors.NotSignedUp(event_id, person) from None
        if old.status != "going":
            raise errors.NotGoing(event_id, person) from None
        if request_id is not None:
            first = requests.store_apart(request_id, fingerprint, outcome(), note, now)
            if first is not None:
                return CheckIn(old.value(), replayed=True, note=first.get("note"), event=event)
        return CheckIn(old.value(), event=event)
    except tx.Retry:
        raise errors.Busy() from None
    return CheckIn(get_signup(event_id, person), event=event)


@tx.faults_as_busy
def list_signups(
    event_id: str, *, prefix_from: str, prefix_to: str, limit: int, after: tuple[str, str] | None,
    known: Event | None = None,
) -> tuple[Event, list[Signup], tuple[str, str] | None]:
    """The event (for its counts), a page of signups in by_status order between two sort-key bounds
    with their places in line, and the (order, sk) to continue after when more follow. One query when the
    page reaches the event item (it sorts between the going and the waitlist) or the event is `known`; else
    the event is read for its counts too."""
    pk = keys.event_partition(event_id)
    # The event item may sit inside the range, and one more tells if a page follows.
    found = TurnoutItem.by_status.query(
        pk,
        TurnoutItem.status_order.between(prefix_from, prefix_to),
        consistent_read=True,
        limit=limit + 2,
        last_evaluated_key=page_start(pk, after[1], after[0]) if after else None,
    )
    event = known
    page: list[SignupItem] = []
    for item in found:
        if isinstance(item, SignupItem):
            page.append(item)
        elif isinstance(item, EventItem) and event is None:
            event = events.counted(item)
    if event is None:
        event = events.counted(events.read(event_id))
    more = len(page) > limit
    page = page[:limit]
    # Places in line are counted by the table, never carried in a cursor, so a cursor cannot fake them; a
    # page that starts before the line needs no count at all.
    waiting = [item for item in page if item.status == "waitlisted"]
    starts_in_line = after is not None and after[0] >= keys.WAITLIST_PREFIX
    place = line.place_in_line(pk, waiting[0].status_order) if waiting and starts_in_line else 1
    signups = []
    for item in page:
        if item.status == "waitlisted":
            signups.append(item.value(place))
            place += 1
        else:
            signups.append(item.value())
    last = (page[-1].status_order, page[-1].sk) if more and page else None
    return event, signups, last
