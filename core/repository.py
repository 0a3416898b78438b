"""Core repository: domain values <-> table items; every invariant is a condition DynamoDB enforces."""
from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, Callable, Iterable, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, PynamoDBException, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition

from core import errors, keys
from core.table import (
    AlexaLinkItem,
    AnswerItem,
    DeviceItem,
    EventItem,
    PairingCodeItem,
    PairingMissesItem,
    RequestItem,
    SignupItem,
    TurnoutItem,
    connection,
)
from core.values import Cancellation, Device, Event, PairingCode, Signup, SignupOutcome

T = TypeVar("T")
P = ParamSpec("P")

ATTEMPTS = 12
REQUEST_TTL = timedelta(days=2)
RETRYABLE_CODES = frozenset(
    {
        "TransactionConflict",
        "TransactionConflictException",
        "ThrottlingError",
        "ThrottlingException",
        "ProvisionedThroughputExceeded",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "TransactionInProgressException",
    }
)
THROTTLING_CODES = frozenset(
    {
        "ThrottlingError",
        "ThrottlingException",
        "ProvisionedThroughputExceeded",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
    }
)
CONDITION_FAILED = "ConditionalCheckFailed"


# --- transactions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Op:
    label: str
    kind: str  # check | delete | put | update
    kwargs: dict[str, Any]


class _Cancelled(Exception):
    """A transaction refused by a condition; reasons are keyed by the labels given to its operations."""

    def __init__(self, reasons: dict[str, Any]) -> None:
        super().__init__(reasons)
        self.reasons = reasons

    def failed(self, label: str) -> bool:
        reason = self.reasons.get(label)
        return reason is not None and reason.code == CONDITION_FAILED

    def old(self, label: str) -> TurnoutItem | None:
        reason = self.reasons.get(label)
        if reason is None or not reason.raw_item:
            return None
        return TurnoutItem.from_raw_data(reason.raw_item)


class _Retry(Exception):
    """Contention or throttling: the same attempt may succeed a moment later."""

    def __init__(self, throttled: bool = False) -> None:
        super().__init__()
        self.throttled = throttled


def _put(label: str, item: TurnoutItem, condition: Condition | None = None, *, want_old: bool = False) -> _Op:
    return _Op(label, "put", item.get_save_kwargs_from_instance(condition=condition, return_values_on_condition_failure=ALL_OLD if want_old else None))


def _update(label: str, item: TurnoutItem, actions: list, condition: Condition | None = None, *, want_old: bool = False) -> _Op:
    return _Op(label, "update", item.get_update_kwargs_from_instance(actions=actions, condition=condition, return_values_on_condition_failure=ALL_OLD if want_old else None))


def _delete(label: str, item: TurnoutItem, condition: Condition | None = None, *, want_old: bool = False) -> _Op:
    return _Op(label, "delete", item.get_delete_kwargs_from_instance(condition=condition, return_values_on_condition_failure=ALL_OLD if want_old else None))


def _transact(ops: list[_Op]) -> None:
    groups: dict[str, list[_Op]] = {"check": [], "delete": [], "put": [], "update": []}
    for op in ops:
        groups[op.kind].append(op)
    # pynamodb sends checks, deletes, puts, updates in that order; reasons come back in the same order.
    ordered = groups["check"] + groups["delete"] + groups["put"] + groups["update"]
    try:
        connection.transact_write_items(
            condition_check_items=[op.kwargs for op in groups["check"]],
            delete_items=[op.kwargs for op in groups["delete"]],
            put_items=[op.kwargs for op in groups["put"]],
            update_items=[op.kwargs for op in groups["update"]],
        )
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons
        if reasons:
            codes = {r.code for r in reasons if r is not None}
            if codes & RETRYABLE_CODES:
                raise _Retry(throttled=bool(codes & THROTTLING_CODES)) from exc
            raise _Cancelled({op.label: reason for op, reason in zip(ordered, reasons)}) from exc
        if _response_code(exc) in RETRYABLE_CODES:
            raise _Retry(throttled=_response_code(exc) in THROTTLING_CODES) from exc
        raise


def _with_retries(attempt: Callable[[], T]) -> T:
    """Runs an optimistic attempt until it neither conflicts nor is throttled; then gives up with Busy."""
    throttled = False
    for n in range(ATTEMPTS):
        try:
            return attempt()
        except _Retry as retry:
            throttled = retry.throttled
            time.sleep(random.uniform(0, min(0.25, 0.004 * 2**n)))
    raise errors.Throttled() if throttled else errors.Busy()


def _response_code(exc: PynamoDBException) -> str | None:
    """DynamoDB's error code; None when no answer came back at all (pynamodb's own property then fails)."""
    response = getattr(exc.cause, "response", None) or {}
    return response.get("Error", {}).get("Code")


def _faults_as_busy(operation: Callable[P, T]) -> Callable[P, T]:
    """Throttling (as Throttled), DynamoDB's own 5xx and lost connections (as Busy) reach the edges as typed
    errors, never as a raw one."""

    @wraps(operation)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return operation(*args, **kwargs)
        except PynamoDBException as exc:
            code = _response_code(exc)
            if code in THROTTLING_CODES:
                raise errors.Throttled() from exc
            if code is None or code in RETRYABLE_CODES:
                raise errors.Busy() from exc
            raise

    return guarded


# --- conversions --------------------------------------------------------------------------------


def _local(text: str | None, tz: ZoneInfo) -> datetime | None:
    return keys.from_utc(text).astimezone(tz) if text else None


def _event(item: EventItem) -> Event:
    tz = ZoneInfo(item.timezone)
    capacity = int(item.capacity) if item.capacity is not None else None
    return Event(
        event_id=item.event_id,
        name=item.name,
        starts_at=keys.from_utc(item.starts_at).astimezone(tz),
        ends_at=_local(item.ends_at, tz),
        timezone=item.timezone,
        location=item.location,
        description=item.description,
        capacity=capacity,
        going=int(item.going),
        waitlisted=int(item.waitlisted),
        spots_left=int(item.seats_left) if capacity is not None else None,
        created_at=keys.from_utc(item.created_at).astimezone(tz),
    )


def _signup(item: SignupItem, position: int | None = None) -> Signup:
    return Signup(
        event_id=item.event_id,
        person=item.person,
        name=item.name,
        guests=int(item.guests),
        status=item.status,  # type: ignore[arg-type]
        position=position if item.status == "waitlisted" else None,
        source=item.source,  # type: ignore[arg-type]
        signed_up_at=keys.from_utc(item.signed_up_at),
        checked_in_at=keys.from_utc(item.checked_in_at) if item.checked_in_at else None,
    )


def _signup_to_json(signup: Signup | None) -> dict[str, Any] | None:
    if signup is None:
        return None
    data = asdict(signup)
    data["signed_up_at"] = keys.utc(signup.signed_up_at)
    data["checked_in_at"] = keys.utc(signup.checked_in_at) if signup.checked_in_at else None
    return data


def _signup_from_json(data: dict[str, Any] | None) -> Signup | None:
    if data is None:
        return None
    return Signup(
        **{
            **data,
            "signed_up_at": keys.from_utc(data["signed_up_at"]),
            "checked_in_at": keys.from_utc(data["checked_in_at"]) if data["checked_in_at"] else None,
        }
    )


def _seats(guests: int) -> int:
    return 1 + guests


# --- events -------------------------------------------------------------------------------------


def _event_item(event: Event) -> EventItem:
    pk, sk = keys.event(event.event_id)
    taken = 0
    return EventItem(
        pk,
        sk,
        status_order=keys.EVENT_ORDER,
        start_partition=keys.EVENTS_PARTITION,
        start_order=keys.event_start_order(event.starts_at, event.event_id),
        event_id=event.event_id,
        name=event.name,
        starts_at=keys.utc(event.starts_at),
        ends_at=keys.utc(event.ends_at) if event.ends_at else None,
        closes_at=keys.utc(event.closes_at),
        timezone=event.timezone,
        location=event.location,
        description=event.description,
        capacity=event.capacity,
        going=0,
        waitlisted=0,
        seats_left=(event.capacity if event.capacity is not None else keys.UNLIMITED_SEATS) - taken,
        tickets=0,
        created_at=keys.utc(event.created_at),
    )


@_faults_as_busy
def put_event(event: Event) -> Event:
    item = _event_item(event)
    try:
        item.save(condition=EventItem.pk.does_not_exist())
    except PutError as exc:
        if _response_code(exc) == "ConditionalCheckFailedException":
            raise errors.InvalidInput("An event with that id already exists.", "event_id") from exc
        raise
    return _event(item)


def _get_event_item(event_id: str) -> EventItem:
    try:
        return EventItem.get(*keys.event(event_id), consistent_read=True)
    except DoesNotExist:
        raise errors.EventNotFound(event_id) from None


@_faults_as_busy
def get_event(event_id: str) -> Event:
    return _event(_get_event_item(event_id))


@_faults_as_busy
def upcoming_events(now: datetime, limit: int, after: str | None, longest: timedelta) -> tuple[list[Event], str | None]:
    """Events whose list has not closed, by start; `after` is the start order of the last one seen."""
    earliest = keys.event_start_order(now - longest, "")
    condition = EventItem.start_order > after if after else EventItem.start_order >= earliest
    results = EventItem.by_start.query(
        keys.EVENTS_PARTITION,
        condition,
        filter_condition=EventItem.closes_at > keys.utc(now),
        limit=limit + 1,
    )
    items = [item for item in results if isinstance(item, EventItem)]
    more = len(items) > limit
    items = items[:limit]
    return [_event(item) for item in items], (items[-1].start_order if more and items else None)


@_faults_as_busy
def update_event(event_id: str, apply: Callable[[Event], Event], now: datetime) -> Event:
    """Changes an event under an optimistic check of what the change was computed from."""

    def attempt() -> Event:
        item = _get_event_item(event_id)
        before = _event(item)
        after = apply(before)
        capacity_delta = _capacity_room(after.capacity) - _capacity_room(before.capacity)
        actions = [
            EventItem.name.set(after.name),
            EventItem.starts_at.set(keys.utc(after.starts_at)),
            EventItem.closes_at.set(keys.utc(after.closes_at)),
            EventItem.timezone.set(after.timezone),
            EventItem.start_order.set(keys.event_start_order(after.starts_at, event_id)),
            EventItem.ends_at.set(keys.utc(after.ends_at)) if after.ends_at else EventItem.ends_at.remove(),
            EventItem.location.set(after.location) if after.location else EventItem.location.remove(),
            EventItem.description.set(after.description) if after.description else EventItem.description.remove(),
            EventItem.capacity.set(after.capacity) if after.capacity is not None else EventItem.capacity.remove(),
        ]
        condition = EventItem.pk.exists() & (EventItem.starts_at == item.starts_at)
        condition &= EventItem.capacity == item.capacity if item.capacity is not None else EventItem.capacity.does_not_exist()
        if capacity_delta:
            actions.append(EventItem.seats_left.add(capacity_delta))
            if capacity_delta < 0:
                condition &= EventItem.seats_left >= -capacity_delta
        try:
            item.update(actions=actions, condition=condition)
        except UpdateError as exc:
            if _response_code(exc) != "ConditionalCheckFailedException":
                raise
            latest = _get_event_item(event_id)
            if capacity_delta < 0 and latest.capacity == item.capacity and latest.seats_left < -capacity_delta:
                taken = _capacity_room(before.capacity) - int(latest.seats_left)
                raise errors.CapacityBelowTaken(taken) from None
            raise _Retry() from None
        return _event(item)

    updated = _with_retries(attempt)
    if updated.waitlisted and _fill_if_room(event_id, now):
        return get_event(event_id)
    return updated


def _capacity_room(capacity: int | None) -> int:
    return capacity if capacity is not None else keys.UNLIMITED_SEATS


@_faults_as_busy
def delete_event(event_id: str) -> None:
    pk, sk = keys.event(event_id)
    try:
        EventItem(pk, sk).delete(condition=EventItem.pk.exists())
    except DeleteError as exc:
        if _response_code(exc) == "ConditionalCheckFailedException":
            raise errors.EventNotFound(event_id) from None
        raise
    # The event item is gone first, so no new signup can land; then the rest of the partition.
    with TurnoutItem.batch_write() as batch:
        for item in TurnoutItem.query(pk, attributes_to_get=["pk", "sk"]):
            batch.delete(item)


# --- signups ------------------------------------------------------------------------------------


def _request_item(request_id: str, outcome: dict[str, Any], now: datetime) -> RequestItem:
    pk, sk = keys.request(request_id)
    return RequestItem(pk, sk, outcome=json.dumps(outcome), expires=now + REQUEST_TTL)


def _replay(cancelled: _Cancelled, kind: str) -> dict[str, Any] | None:
    """The stored outcome when this transaction's request id was already used."""
    if not cancelled.failed("request"):
        return None
    old = cancelled.old("request")
    if not isinstance(old, RequestItem):
        raise errors.Busy()
    outcome = json.loads(old.outcome)
    if outcome.get("kind") != kind:
        raise errors.InvalidInput("That request id was already used for another action.", "request_id")
    return outcome


def _with_request(ops: list[_Op], request_id: str | None, outcome: dict[str, Any], now: datetime) -> list[_Op]:
    if request_id is None:
        return ops
    item = _request_item(request_id, outcome, now)
    return ops + [_put("request", item, RequestItem.pk.does_not_exist(), want_old=True)]


@_faults_as_busy
def sign_up(
    event_id: str,
    person: str,
    *,
    name: str | None,
    guests: int,
    source: str,
    waitlist: bool,
    request_id: str | None,
    now: datetime,
) -> SignupOutcome:
    """One transaction when a seat is free; a full event reads the event once to take a waitlist ticket."""
    seats = _seats(guests)
    pk, sk = keys.signup(event_id, person)
    known: dict[str, EventItem] = {}

    def attempt() -> SignupOutcome:
        event = known.get("event")
        full = event is not None and (int(event.seats_left) < seats or int(event.waitlisted) > 0)
        if full and not waitlist:
            raise errors.EventFull(event_id)
        if full:
            status, order = "waitlisted", keys.waitlist_order(now, person)
            # Joining the line only needs the event to still be full (or the line non-empty): concurrent
            # joins never conflict over a counter. `tickets` only changes, so a cancel can tell the line moved.
            actions = [EventItem.waitlisted.add(1), EventItem.tickets.add(1)]
            room = (EventItem.seats_left < seats) | (EventItem.waitlisted > 0)
            position = int(event.waitlisted) + 1  # exact unless others join or leave meanwhile; counted after
        else:
            status, order = "going", keys.going_order(now, person)
            actions = [EventItem.going.add(1), EventItem.seats_left.add(-seats)]
            room = (EventItem.seats_left >= seats) & (EventItem.waitlisted == 0)
            position = None
        item = SignupItem(
            pk, sk, event_id=event_id, person=person, name=name, guests=guests, status=status,
            source=source, signed_up_at=keys.utc(now), status_order=order,
        )
        event_update = _update(
            "event",
            EventItem(*keys.event(event_id)),
            actions,
            EventItem.pk.exists() & (EventItem.closes_at > keys.utc(now)) & room,
        )
        signup = _signup(item, position)
        outcome = {"kind": "sign_up", "created": True, "signup": _signup_to_json(signup)}
        ops = [_put("signup", item, SignupItem.pk.does_not_exist(), want_old=True), event_update]
        try:
            _transact(_with_request(ops, request_id, outcome, now))
        except _Cancelled as cancelled:
            replay = _replay(cancelled, "sign_up")
            if replay is not None:
                return SignupOutcome(_signup_from_json(replay["signup"]), replay["created"], replayed=True)
            if cancelled.failed("signup"):
                existing = cancelled.old("signup")
                if not isinstance(existing, SignupItem):
                    raise _Retry() from None
                return SignupOutcome(_with_position(existing), created=False)
            latest = _get_event_item(event_id)
            if latest.closes_at <= keys.utc(now):
                raise errors.EventOver(event_id) from None
            if latest.capacity is not None and seats > int(latest.capacity):
                raise errors.InvalidInput(
                    f"The event has {int(latest.capacity)} places; a party of {seats} cannot fit.", "guests"
                ) from None
            known["event"] = latest
            raise _Retry() from None
        return SignupOutcome(_with_position(item) if item.status == "waitlisted" else signup, created=True)

    return _with_retries(attempt)


def _with_position(item: SignupItem) -> Signup:
    return _signup(item, place_in_line(item) if item.status == "waitlisted" else None)


@_faults_as_busy
def place_in_line(item: SignupItem) -> int:
    """1-based place of a waitlisted signup: one count over the line up to it."""
    return TurnoutItem.by_status.count(
        item.pk,
        TurnoutItem.status_order.between(keys.WAITLIST_PREFIX, item.status_order),
        consistent_read=True,
    )


@_faults_as_busy
def get_signup(event_id: str, person: str) -> Signup:
    try:
        item = SignupItem.get(*keys.signup(event_id, person), consistent_read=True)
    except DoesNotExist:
        raise errors.NotSignedUp(event_id, person) from None
    return _with_position(item)


def _event_and_head(event_id: str) -> tuple[EventItem, SignupItem | None]:
    """One strongly consistent query: the event item, then the first waitlisted signup if any."""
    found = list(
        TurnoutItem.by_status.query(
            keys.event_partition(event_id),
            TurnoutItem.status_order >= keys.EVENT_ORDER,
            limit=2,
            consistent_read=True,
        )
    )
    if not found or not isinstance(found[0], EventItem):
        raise errors.EventNotFound(event_id)
    head = found[1] if len(found) > 1 and isinstance(found[1], SignupItem) else None
    return found[0], head


def _promotion_ops(event: EventItem, head: SignupItem, now: datetime) -> list[_Op]:
    promoted = SignupItem(*keys.signup(event.event_id, head.person))
    return [
        _update(
            "promoted",
            promoted,
            [SignupItem.status.set("going"), SignupItem.status_order.set(keys.going_order(now, head.person))],
            (SignupItem.status == "waitlisted") & (SignupItem.status_order == head.status_order),
        )
    ]


def _promoted_value(head: SignupItem, now: datetime) -> Signup:
    head.status = "going"
    head.status_order = keys.going_order(now, head.person)
    return _signup(head)


@_faults_as_busy
def cancel_signup(event_id: str, person: str, *, request_id: str | None, now: datetime) -> Cancellation:
    """Deletes the signup and, in the same transaction, promotes the head of the waitlist into the seat."""
    pk, sk = keys.signup(event_id, person)
    # Seats can stay free behind a head of the line too big for them; then the line is re-checked.
    leftover = {"seats": False}

    def attempt() -> Cancellation:
        try:
            mine = SignupItem.get(pk, sk, consistent_read=True)
        except DoesNotExist:
            replay = _stored_outcome(request_id, "cancel") if request_id else None
            if replay is None:
                raise errors.NotSignedUp(event_id, person) from None
            return _cancellation(replay, replayed=True)
        event, head = _event_and_head(event_id)
        freed = _seats(int(mine.guests))
        delete = _delete("signup", SignupItem(pk, sk), SignupItem.status_order == mine.status_order)
        event_key = EventItem(*keys.event(event_id))
        promoted: Signup | None = None
        if mine.status == "waitlisted":
            ops = [delete, _update("event", event_key, [EventItem.waitlisted.add(-1)], EventItem.waitlisted > 0)]
            leftover["seats"] = int(event.seats_left) > 0
        elif head is not None and _seats(int(head.guests)) <= int(event.seats_left) + freed:
            need = _seats(int(head.guests))
            ops = [delete] + _promotion_ops(event, head, now) + [
                _update(
                    "event",
                    event_key,
                    [EventItem.waitlisted.add(-1), EventItem.seats_left.add(freed - need)],
                    (EventItem.waitlisted > 0) & (EventItem.seats_left >= need - freed),
                )
            ]
            promoted = _promoted_value(head, now)
            leftover["seats"] = freed > need
        else:
            leftover["seats"] = head is not None
            # Nobody takes the seat: valid only while the waitlist is exactly as it was read.
            still = (EventItem.waitlisted == 0) if head is None else (EventItem.tickets == event.tickets)
            ops = [delete, _update("event", event_key, [EventItem.going.add(-1), EventItem.seats_left.add(freed)], still)]
        cancelled_value = _signup(mine)
        outcome = {"kind": "cancel", "cancelled": _signup_to_json(cancelled_value), "promoted": _signup_to_json(promoted)}
        try:
            _transact(_with_request(ops, request_id, outcome, now))
        except _Cancelled as cancelled:
            replay = _replay(cancelled, "cancel")
            if replay is not None:
                return _cancellation(replay, replayed=True)
            raise _Retry() from None
        return Cancellation(cancelled_value, promoted)

    cancellation = _with_retries(attempt)
    if leftover["seats"] and not cancellation.replayed:
        filled = _fill_if_room(event_id, now)
        if filled and cancellation.promoted is None:
            return Cancellation(cancellation.cancelled, filled[0])
    return cancellation


def _cancellation(outcome: dict[str, Any], *, replayed: bool) -> Cancellation:
    return Cancellation(_signup_from_json(outcome["cancelled"]), _signup_from_json(outcome["promoted"]), replayed=replayed)


def _stored_outcome(request_id: str, kind: str) -> dict[str, Any] | None:
    try:
        stored = RequestItem.get(*keys.request(request_id), consistent_read=True)
    except DoesNotExist:
        return None
    outcome = json.loads(stored.outcome)
    if outcome.get("kind") != kind:
        raise errors.InvalidInput("That request id was already used for another action.", "request_id")
    return outcome


def _fill_if_room(event_id: str, now: datetime) -> list[Signup]:
    event = _get_event_item(event_id)
    if int(event.waitlisted) > 0 and int(event.seats_left) > 0:
        return fill_from_waitlist(event_id, now)
    return []


@_faults_as_busy
def fill_from_waitlist(event_id: str, now: datetime) -> list[Signup]:
    """Promotes waitlisted people in order for as long as the head fits in the free seats."""
    promoted: list[Signup] = []

    def attempt() -> Signup | None:
        event, head = _event_and_head(event_id)
        if head is None or _seats(int(head.guests)) > int(event.seats_left):
            return None
        need = _seats(int(head.guests))
        ops = _promotion_ops(event, head, now) + [
            _update(
                "event",
                EventItem(*keys.event(event_id)),
                [EventItem.waitlisted.add(-1), EventItem.going.add(1), EventItem.seats_left.add(-need)],
                (EventItem.waitlisted > 0) & (EventItem.seats_left >= need),
            )
        ]
        try:
            _transact(ops)
        except _Cancelled:
            raise _Retry() from None
        return _promoted_value(head, now)

    while (signup := _with_retries(attempt)) is not None:
        promoted.append(signup)
    return promoted


@_faults_as_busy
def check_in(event_id: str, person: str, *, now: datetime, opens_before: timedelta) -> Signup:
    """Idempotent by its condition: a second check-in returns the first one unchanged."""
    event = _get_event_item(event_id)
    if keys.utc(now) >= event.closes_at:
        raise errors.EventOver(event_id)
    opens_at = keys.from_utc(event.starts_at) - opens_before
    if now < opens_at:
        raise errors.CheckInNotOpen(event_id, opens_at.astimezone(ZoneInfo(event.timezone)).isoformat())
    item = SignupItem(*keys.signup(event_id, person))
    try:
        item.update(
            actions=[SignupItem.checked_in_at.set(keys.utc(now))],
            condition=SignupItem.pk.exists() & (SignupItem.status == "going") & SignupItem.checked_in_at.does_not_exist(),
        )
    except UpdateError as exc:
        if _response_code(exc) != "ConditionalCheckFailedException":
            raise
        try:
            old = SignupItem.get(*keys.signup(event_id, person), consistent_read=True)
        except DoesNotExist:
            raise errors.NotSignedUp(event_id, person) from None
        if old.status != "going":
            raise errors.NotGoing(event_id, person) from None
        return _signup(old)
    return _signup(item)


@_faults_as_busy
def list_signups(
    event_id: str, *, prefix_from: str, prefix_to: str, limit: int, after: tuple[str, str] | None,
    known: Event | None = None,
) -> tuple[Event, list[SignupItem], bool]:
    """The event (for its counts; read unless `known`) and a page of signups in by_status order between two
    sort-key bounds."""
    event = known if known is not None else _event(_get_event_item(event_id))
    pk = keys.event_partition(event_id)
    kwargs: dict[str, Any] = {}
    if after is not None:
        kwargs["last_evaluated_key"] = {
            "pk": {"S": pk},
            "sk": {"S": after[1]},
            "lsi1sk": {"S": after[0]},
        }
    results = TurnoutItem.by_status.query(
        pk,
        TurnoutItem.status_order.between(prefix_from, prefix_to),
        limit=limit + 2,  # the event item may sit inside the range, and one more tells if a page follows
        consistent_read=True,
        **kwargs,
    )
    items = [item for item in results if isinstance(item, SignupItem)]
    more = len(items) > limit
    return event, items[:limit], more


def signup_value(item: SignupItem, position: int | None) -> Signup:
    return _signup(item, position)


# --- devices ------------------------------------------------------------------------------------


def _device(item: DeviceItem) -> Device:
    return Device(serial=item.serial, person=item.person, event_id=item.event_id, bound_at=keys.from_utc(item.bound_at))


@_faults_as_busy
def put_device(device: Device, *, takeover: bool) -> Device:
    """Without takeover, only a free button or one already bound to the same person is (re)bound, in one write."""
    pk, sk = keys.device(device.serial)
    item = DeviceItem(pk, sk, serial=device.serial, person=device.person, event_id=device.event_id, bound_at=keys.utc(device.bound_at))
    condition = None if takeover else DeviceItem.pk.does_not_exist() | (DeviceItem.person == device.person)
    try:
        item.save(condition=condition)
    except PutError as exc:
        if _response_code(exc) == "ConditionalCheckFailedException":
            raise errors.Forbidden("That button is bound to someone else.", serial=device.serial) from None
        raise
    return _device(item)


@_faults_as_busy
def get_device(serial: str) -> Device:
    try:
        return _device(DeviceItem.get(*keys.device(serial), consistent_read=True))
    except DoesNotExist:
        raise errors.DeviceNotFound(serial) from None


@_faults_as_busy
def delete_device(serial: str) -> None:
    try:
        DeviceItem(*keys.device(serial)).delete(condition=DeviceItem.pk.exists())
    except DeleteError as exc:
        if _response_code(exc) == "ConditionalCheckFailedException":
            raise errors.DeviceNotFound(serial) from None
        raise


# --- pairing codes and Alexa links ---------------------------------------------------------------


@_faults_as_busy
def put_pairing_code(person: str, code: str, valid_until: datetime) -> PairingCode | None:
    """Stores a fresh code; None when that code is already out for someone (the caller draws again)."""
    pk, sk = keys.pairing_code(code)
    item = PairingCodeItem(pk, sk, person=person, valid_until=keys.utc(valid_until), expires=valid_until)
    try:
        item.save(condition=PairingCodeItem.pk.does_not_exist() | (PairingCodeItem.valid_until < keys.utc(datetime.now(valid_until.tzinfo))))
    except PutError as exc:
        if _response_code(exc) == "ConditionalCheckFailedException":
            return None
        raise
    return PairingCode(person=person, code=code, expires_at=valid_until)


@_faults_as_busy
def pairing_locked_until(scopes: Iterable[str], now: datetime) -> datetime | None:
    latest: datetime | None = None
    for scope in scopes:
        try:
            item = PairingMissesItem.get(*keys.pairing_misses(scope), consistent_read=True)
        except DoesNotExist:
            continue
        if item.locked_until and item.locked_until > keys.utc(now):
            until = keys.from_utc(item.locked_until)
            latest = until if latest is None or until > latest else latest
    return latest


@_faults_as_busy
def note_pairing_miss(scope: str, now: datetime, max_misses: int, lock_for: timedelta) -> None:
    """Counts a wrong code; the max-th miss in a row locks the scope for a while."""
    pk, sk = keys.pairing_misses(scope)
    item = PairingMissesItem(pk, sk)
    item.update(actions=[PairingMissesItem.misses.add(1), PairingMissesItem.expires.set(now + lock_for)])
    if int(item.misses) >= max_misses:
        item.update(actions=[PairingMissesItem.locked_until.set(keys.utc(now + lock_for)), PairingMissesItem.misses.set(0)])


@_faults_as_busy
def redeem_pairing_code(alexa_user_id: str, code: str, now: datetime) -> str | None:
    """Consumes the code and links the Alexa user in one transaction; None when the code is not valid."""
    try:
        item = PairingCodeItem.get(*keys.pairing_code(code), consistent_read=True)
    except DoesNotExist:
        return None
    if item.valid_until <= keys.utc(now):
        return None
    link = AlexaLinkItem(*keys.alexa_link(alexa_user_id), person=item.person, linked_at=keys.utc(now))
    try:
        _transact(
            [
                _delete("code", PairingCodeItem(*keys.pairing_code(code)), (PairingCodeItem.person == item.person) & (PairingCodeItem.valid_until > keys.utc(now))),
                _put("link", link),
                _delete("misses", PairingMissesItem(*keys.pairing_misses(alexa_user_id))),
            ]
        )
    except _Cancelled:
        return None  # used or expired in the meantime: single use holds
    except _Retry:
        raise errors.Busy() from None
    return item.person


@_faults_as_busy
def linked_person(alexa_user_id: str) -> str | None:
    try:
        return AlexaLinkItem.get(*keys.alexa_link(alexa_user_id), consistent_read=True).person
    except DoesNotExist:
        return None


# --- answers to requests ------------------------------------------------------------------------


@_faults_as_busy
def claim_answer(request_id: str, now: datetime, hold: timedelta) -> bool:
    pk, sk = keys.request_answer(request_id)
    item = AnswerItem(pk, sk, held_until=keys.utc(now + hold), expires=now + REQUEST_TTL)
    try:
        item.save(condition=AnswerItem.pk.does_not_exist()
                  | (AnswerItem.answered_at.does_not_exist() & (AnswerItem.held_until < keys.utc(now))))
    except PutError as exc:
        if _response_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


@_faults_as_busy
def settle_answer(request_id: str, now: datetime, answered: bool) -> None:
    pk, sk = keys.request_answer(request_id)
    if answered:
        # A whole item, whatever happened to the hold meanwhile: answered is final.
        AnswerItem(pk, sk, held_until=keys.utc(now), answered_at=keys.utc(now), expires=now + REQUEST_TTL).save()
        return
    try:
        AnswerItem(pk, sk).delete(condition=AnswerItem.answered_at.does_not_exist())
    except DeleteError as exc:
        if _response_code(exc) != "ConditionalCheckFailedException":
            raise
