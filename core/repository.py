"""Core repository: domain values <-> table items; every invariant is a condition DynamoDB enforces."""
from __future__ import annotations

import json
import random
import time
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, Callable, Iterable, NamedTuple, ParamSpec, TypeVar

import orjson
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import (
    DeleteError,
    GetError,
    PutError,
    PynamoDBException,
    QueryError,
    TransactWriteError,
    UpdateError,
)
from pynamodb.expressions.condition import Condition

from core import errors, items, keys
from core.items import Raw
from core.table import (
    AlexaLinkItem,
    DeviceItem,
    EventItem,
    PairingCodeItem,
    PairingMissesItem,
    SignupItem,
    TurnoutItem,
    connection,
)
from core.values import Cancellation, Cancelled, CheckIn, Device, Event, EventRef, PairingCode, Signup, SignupOutcome

T = TypeVar("T")
P = ParamSpec("P")

# Optimistic attempts before Busy. Every sign-up and cancel of one event meets on its event item, so concurrent
# ones take turns: 30 cancels at once with 4 running together lost 12 rounds in a row now and then (one Busy
# in six runs of tests/integration/test_concurrency.py). At most ~2.8 s of backoff in all.
ATTEMPTS = 16
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


# --- calls -------------------------------------------------------------------------------------
# Every request goes to the botocore client of pynamodb's connection, its failures wrapped as pynamodb's; the items
# in them are DynamoDB's wire format, read and written by core.items.

TABLE = TurnoutItem.Meta.table_name
CONDITION = "ReturnValuesOnConditionCheckFailure"
ONE, ZERO = {"N": "1"}, {"N": "0"}


def _call(operation: str, params: dict[str, Any], error: type[PynamoDBException]) -> dict[str, Any]:
    """Straight to the client pynamodb built (its own dispatch adds a uuid, signals and logging per call),
    failures wrapped as pynamodb's own."""
    params["ReturnConsumedCapacity"] = "NONE"
    try:
        return connection.client._make_api_call(operation, params)
    except (BotoCoreError, ClientError) as exc:
        raise error(f"{operation} failed: {exc}", exc) from exc


def _key(pk: str, sk: str) -> Raw:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _get(pk: str, sk: str) -> Raw | None:
    """One item by its key, strongly consistent; None when there is none."""
    found = _call("GetItem", {"TableName": TABLE, "Key": _key(pk, sk), "ConsistentRead": True}, GetError)
    return found.get("Item")


def _query(params: dict[str, Any], want: int) -> tuple[list[Raw], Raw | None]:
    """Up to `want` items, page after page while a filter leaves a page short; and where the table stopped."""
    found: list[Raw] = []
    params = {"TableName": TABLE, **params}
    while True:
        params["Limit"] = want - len(found)
        page = _call("Query", params, QueryError)
        found.extend(page.get("Items", ()))
        last = page.get("LastEvaluatedKey")
        if last is None or len(found) >= want:
            return found, last
        params["ExclusiveStartKey"] = last


def _count(params: dict[str, Any]) -> int:
    total = 0
    params = {"TableName": TABLE, "Select": "COUNT", **params}
    while True:
        page = _call("Query", params, QueryError)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _values(**values: str | int) -> dict[str, dict[str, str]]:
    return {f":{name}": {"N": str(value)} if isinstance(value, int) else {"S": value} for name, value in values.items()}


# --- transactions -------------------------------------------------------------------------------


class _Op(NamedTuple):
    label: str
    kind: str  # Put | Update | Delete | ConditionCheck: the TransactItems member
    kwargs: dict[str, Any]


class _Cancelled(Exception):
    """A transaction refused by a condition; reasons are keyed by the labels given to its operations."""

    def __init__(self, reasons: dict[str, Any]) -> None:
        super().__init__(reasons)
        self.reasons = reasons

    def failed(self, label: str) -> bool:
        reason = self.reasons.get(label)
        return reason is not None and reason.code == CONDITION_FAILED

    def old(self, label: str) -> Raw | None:
        """The item as the refused condition saw it (the operation asked for ALL_OLD); None if absent."""
        reason = self.reasons.get(label)
        return reason.raw_item if reason is not None and reason.raw_item else None


class _Retry(Exception):
    """Contention or throttling: the same attempt may succeed a moment later."""

    def __init__(self, throttled: bool = False) -> None:
        super().__init__()
        self.throttled = throttled


def _want_old(kwargs: dict[str, Any], want_old: bool) -> dict[str, Any]:
    if want_old:
        kwargs[CONDITION] = ALL_OLD
    return kwargs


def _put(label: str, item: TurnoutItem, condition: Condition | None = None, *, want_old: bool = False) -> _Op:
    return _Op(label, "Put", _want_old(item.get_save_kwargs_from_instance(condition=condition), want_old))


def _update(label: str, item: TurnoutItem, actions: list, condition: Condition | None = None, *, want_old: bool = False) -> _Op:
    return _Op(label, "Update", _want_old(item.get_update_kwargs_from_instance(actions=actions, condition=condition), want_old))


def _delete(label: str, item: TurnoutItem, condition: Condition | None = None, *, want_old: bool = False) -> _Op:
    return _Op(label, "Delete", _want_old(item.get_delete_kwargs_from_instance(condition=condition), want_old))


def _put_new(label: str, raw: Raw) -> _Op:
    """A wire-format item, only if no item has its key; the one in the way comes back on refusal."""
    return _Op(label, "Put", {"TableName": TABLE, "Item": raw, "ConditionExpression": "attribute_not_exists(#pk)",
                              "ExpressionAttributeNames": {"#pk": "pk"}, CONDITION: ALL_OLD})


class _Reason(NamedTuple):
    code: str
    raw_item: Raw | None


def _reasons(exc: TransactWriteError) -> list[_Reason | None]:
    """Why each operation was refused, in the order they were sent (None: not a reason)."""
    response = getattr(exc.cause, "response", None) or {}
    return [None if r.get("Code") in (None, "None") else _Reason(r["Code"], r.get("Item"))
            for r in response.get("CancellationReasons", ())]


def _transact(ops: list[_Op]) -> None:
    try:
        _call("TransactWriteItems", {"TransactItems": [{op.kind: op.kwargs} for op in ops]}, TransactWriteError)
    except TransactWriteError as exc:
        reasons = _reasons(exc)
        if reasons:
            codes = {r.code for r in reasons if r is not None}
            if codes & RETRYABLE_CODES:
                raise _Retry(throttled=bool(codes & THROTTLING_CODES)) from exc
            # Reasons come back in the order the operations were sent.
            raise _Cancelled({op.label: reason for op, reason in zip(ops, reasons)}) from exc
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


def _signup_to_json(signup: Signup | None) -> dict[str, Any] | None:
    if signup is None:
        return None
    return {
        "event_id": signup.event_id, "person": signup.person, "name": signup.name, "guests": signup.guests,
        "status": signup.status, "position": signup.position, "source": signup.source,
        "signed_up_at": keys.utc(signup.signed_up_at),
        "checked_in_at": keys.utc(signup.checked_in_at) if signup.checked_in_at else None,
    }


def signup_from_json(data: dict[str, Any] | None) -> Signup | None:
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
        seats_left=event.capacity if event.capacity is not None else keys.UNLIMITED_SEATS,
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
    return items.event(item.serialize())


def _event_raw(event_id: str) -> Raw:
    raw = _get(*keys.event(event_id))
    if raw is None:
        raise errors.EventNotFound(event_id)
    return raw


@_faults_as_busy
def get_event(event_id: str) -> Event:
    return items.event(_event_raw(event_id))


_UPCOMING_NAMES = {"#p": "gsi1pk", "#o": "gsi1sk", "#c": "closes_at"}


@_faults_as_busy
def upcoming_events(now: datetime, limit: int, after: str | None, longest: timedelta) -> tuple[list[Event], str | None]:
    """Events whose list has not closed, by start; `after` is the start order of the last one seen."""
    bound = after if after else keys.event_start_order(now - longest, "")
    found, _ = _query({
        "IndexName": "by_start",
        "KeyConditionExpression": "#p = :p AND #o > :o" if after else "#p = :p AND #o >= :o",
        "FilterExpression": "#c > :now",
        "ExpressionAttributeNames": _UPCOMING_NAMES,
        "ExpressionAttributeValues": _values(p=keys.EVENTS_PARTITION, o=bound, now=keys.utc(now)),
    }, limit + 1)
    events = [raw for raw in found if items.kind(raw) == items.EVENT]
    more = len(events) > limit
    events = events[:limit]
    return [items.event(raw) for raw in events], (events[-1]["gsi1sk"]["S"] if more and events else None)


@_faults_as_busy
def update_event(event_id: str, apply: Callable[[Event], Event], now: datetime) -> Event:
    """Changes an event under an optimistic check of what the change was computed from."""
    pk, sk = keys.event(event_id)

    def attempt() -> Event:
        raw = _event_raw(event_id)
        before = items.event(raw)
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
        condition = EventItem.pk.exists() & (EventItem.starts_at == raw["starts_at"]["S"])
        condition &= EventItem.capacity == before.capacity if before.capacity is not None else EventItem.capacity.does_not_exist()
        if capacity_delta:
            actions.append(EventItem.seats_left.add(capacity_delta))
            if capacity_delta < 0:
                condition &= EventItem.seats_left >= -capacity_delta
        try:
            changed = EventItem(pk, sk).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if _response_code(exc) != "ConditionalCheckFailedException":
                raise
            latest = _event_raw(event_id)
            left = int(latest["seats_left"]["N"])
            if capacity_delta < 0 and items.event(latest).capacity == before.capacity and left < -capacity_delta:
                taken = _capacity_room(before.capacity) - left
                raise errors.CapacityBelowTaken(taken) from None
            raise _Retry() from None
        return items.event(changed["Attributes"])

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


# --- requests: a retried delivery gets the first outcome ----------------------------------------


class RequestUsed(errors.InvalidInput):
    """The request id already carries the outcome of another kind of action (`outcome`, as stored)."""

    def __init__(self, outcome: dict[str, Any]) -> None:
        super().__init__("That request id was already used for another action.", "request_id")
        self.outcome = outcome


def _request_op(request_id: str, fingerprint: str | None, outcome: dict[str, Any], now: datetime) -> _Op:
    pk, sk = keys.request(request_id)
    stored = {**outcome, "request": fingerprint} if fingerprint is not None else outcome
    return _put_new("request", {
        "pk": {"S": pk}, "sk": {"S": sk}, "kind": {"S": items.REQUEST},
        "outcome": {"S": orjson.dumps(stored).decode()},
        "expires_at_epoch": {"N": str(int((now + REQUEST_TTL).timestamp()))},
    })


def _with_request(ops: list[_Op], request_id: str | None, fingerprint: str | None,
                  outcome: Callable[[], dict[str, Any]], note: dict[str, Any] | None, now: datetime) -> list[_Op]:
    """The transaction, plus - with a request id - its outcome stored under that id (built only then)."""
    if request_id is None:
        return ops
    return ops + [_request_op(request_id, fingerprint, _noted(outcome(), note), now)]


def _noted(outcome: dict[str, Any], note: dict[str, Any] | None) -> dict[str, Any]:
    return {**outcome, "note": note} if note else outcome


def _same_request(outcome: dict[str, Any], fingerprint: str | None) -> dict[str, Any]:
    """The stored outcome, if it answers this very request; RequestIdReused if the id came with another one.
    Outcomes stored before fingerprints were (they expire within REQUEST_TTL) are taken as this request's."""
    if outcome.get("request", fingerprint) != fingerprint:
        raise errors.RequestIdReused()
    return outcome


def _store_apart(request_id: str, fingerprint: str | None, outcome: dict[str, Any], note: dict[str, Any] | None,
                 now: datetime) -> dict[str, Any] | None:
    """An outcome that changed nothing, so no transaction stored it, stored under its request id on its own:
    None when stored now, else the one stored first (RequestUsed when that was another kind of action)."""
    first = store_outcome(request_id, _noted(outcome, note), now, fingerprint)
    if first is not None and first.get("kind") != outcome["kind"]:
        raise RequestUsed(first)
    return first


def _stored(raw: Raw | None, kind: str, fingerprint: str | None) -> dict[str, Any]:
    if raw is None or items.kind(raw) != items.REQUEST:
        raise errors.Busy()
    outcome = _same_request(json.loads(raw["outcome"]["S"]), fingerprint)
    if outcome.get("kind") != kind:
        raise RequestUsed(outcome)
    return outcome


def _replay(cancelled: _Cancelled, kind: str, fingerprint: str | None) -> dict[str, Any] | None:
    """The stored outcome when this transaction's request id was already used."""
    return _stored(cancelled.old("request"), kind, fingerprint) if cancelled.failed("request") else None


@_faults_as_busy
def store_outcome(request_id: str, outcome: dict[str, Any], now: datetime,
                  fingerprint: str | None = None) -> dict[str, Any] | None:
    """Stores an outcome no transaction wrote (a refusal) under its request id, unless one is there already:
    None when stored now, else the outcome stored first (RequestIdReused when it answered another request)."""
    try:
        _transact([_request_op(request_id, fingerprint, outcome, now)])
    except _Cancelled as cancelled:
        old = cancelled.old("request")
        if old is None:
            raise errors.Busy() from None
        return _same_request(json.loads(old["outcome"]["S"]), fingerprint)
    except _Retry:
        raise errors.Busy() from None
    return None


# --- signups ------------------------------------------------------------------------------------

# A sign-up is one transaction: the signup put if the person has none, and the event's counts moved if the
# condition for its path still holds. Written out once here rather than built per request by the models'
# expression objects (which cost more than the whole request's own work: make bench).
_TAKE_SEAT = ("ADD #going :one, #left :taken",
              "attribute_exists(#pk) AND #closes > :now AND #left >= :seats AND #waitlisted = :zero",
              {"#pk": "pk", "#going": "going", "#left": "seats_left", "#closes": "closes_at", "#waitlisted": "waitlisted"})
_JOIN_LINE = ("ADD #waitlisted :one, #tickets :one",
              "attribute_exists(#pk) AND #closes > :now AND (#left < :seats OR #waitlisted > :zero)",
              {"#pk": "pk", "#waitlisted": "waitlisted", "#tickets": "tickets", "#closes": "closes_at", "#left": "seats_left"})
# What a button's binding remembers of its event must still be true, or the press answers with stale news.
_AS_REMEMBERED = " AND #name = :name AND #starts = :starts AND #tz = :tz"
_REMEMBERED_NAMES = {"#name": "name", "#starts": "starts_at", "#tz": "timezone"}


class StaleCopy(Exception):
    """The event no longer matches the copy the caller expected; `event` is what it is now."""

    def __init__(self, event: Event) -> None:
        super().__init__(event.event_id)
        self.event = event


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
    fingerprint: str | None = None,
    note: dict[str, Any] | None = None,
    expect: EventRef | None = None,
) -> SignupOutcome:
    """One transaction when a seat is free (or the line is known to be long); a refused condition hands back
    the event as it was, so the other path is tried at once. `expect`: the event as the caller remembers it
    (name, start, time zone); StaleCopy when it changed."""
    seats = _seats(guests)
    pk, sk = keys.signup(event_id, person)
    event_pk, event_sk = keys.event(event_id)
    moment = keys.utc(now)
    known: dict[str, Raw] = {}

    def attempt() -> SignupOutcome:
        event = known.get("event")
        waiting = int(event["waitlisted"]["N"]) if event else 0
        full = event is not None and (int(event["seats_left"]["N"]) < seats or waiting > 0)
        if full and not waitlist:
            raise errors.EventFull(event_id)
        if full:
            status, order = "waitlisted", keys.waitlist_order(moment, person)
            update, condition, names = _JOIN_LINE
            values = {":one": ONE, ":now": {"S": moment}, ":seats": {"N": str(seats)}, ":zero": ZERO}
            position = waiting + 1  # exact unless others join or leave meanwhile; counted after
        else:
            status, order = "going", keys.going_order(moment, person)
            update, condition, names = _TAKE_SEAT
            values = {":one": ONE, ":taken": {"N": str(-seats)}, ":now": {"S": moment}, ":seats": {"N": str(seats)},
                      ":zero": ZERO}
            position = None
        if expect is not None:
            condition += _AS_REMEMBERED
            names = {**names, **_REMEMBERED_NAMES}
            values.update(_values(name=expect.name, starts=keys.utc(expect.starts_at), tz=_zone(expect.starts_at)))
        signup = Signup(event_id=event_id, person=person, name=name, guests=guests, status=status, position=position,  # type: ignore[arg-type]
                        source=source, signed_up_at=now, checked_in_at=None)  # type: ignore[arg-type]
        ops = [
            _put_new("signup", items.signup_item(signup, order, moment)),
            _Op("event", "Update", {"TableName": TABLE, "Key": _key(event_pk, event_sk), "UpdateExpression": update,
                                    "ConditionExpression": condition, "ExpressionAttributeNames": names,
                                    "ExpressionAttributeValues": values, CONDITION: ALL_OLD}),
        ]
        outcome = lambda: {"kind": "sign_up", "created": True, "signup": _signup_to_json(signup)}  # noqa: E731
        try:
            _transact(_with_request(ops, request_id, fingerprint, outcome, note, now))
        except _Cancelled as cancelled:
            replay = _replay(cancelled, "sign_up", fingerprint)
            if replay is not None:
                return SignupOutcome(signup_from_json(replay["signup"]), replay["created"], replayed=True,
                                     note=replay.get("note"))
            if cancelled.failed("signup"):
                existing = cancelled.old("signup")
                if existing is None or items.kind(existing) != items.SIGNUP:
                    raise _Retry() from None
                already = SignupOutcome(_with_position(existing), created=False)
                if request_id is None:
                    return already
                first = _store_apart(request_id, fingerprint, {"kind": "sign_up", "created": False,
                                                  "signup": _signup_to_json(already.signup)}, note, now)
                if first is None:
                    return already
                return SignupOutcome(signup_from_json(first["signup"]), first["created"], replayed=True,
                                     note=first.get("note"))
            latest_raw = cancelled.old("event")
            if latest_raw is None:
                raise errors.EventNotFound(event_id) from None
            latest = items.event(latest_raw)
            if latest_raw["closes_at"]["S"] <= moment:
                raise errors.EventOver(event_id) from None
            if latest.capacity is not None and seats > latest.capacity:
                raise errors.InvalidInput(
                    f"The event has {latest.capacity} places; a party of {seats} cannot fit.", "guests"
                ) from None
            if expect is not None and not expect.names(latest):
                raise StaleCopy(latest) from None
            known["event"] = latest_raw
            raise _Retry() from None
        if status == "waitlisted":
            signup = signup._replace(position=place_in_line(event_pk, order))
        return SignupOutcome(signup, created=True)

    return _with_retries(attempt)


def _zone(moment: datetime) -> str:
    return moment.tzinfo.key  # type: ignore[union-attr]  # core's times carry their event's ZoneInfo


def _with_position(raw: Raw) -> Signup:
    waiting = raw["status"]["S"] == "waitlisted"
    return items.signup(raw, place_in_line(raw["pk"]["S"], raw["lsi1sk"]["S"]) if waiting else None)


_LINE_UP_TO = {"IndexName": "by_status", "KeyConditionExpression": "#pk = :pk AND #o BETWEEN :first AND :me",
               "ExpressionAttributeNames": {"#pk": "pk", "#o": "lsi1sk"}, "ConsistentRead": True}


@_faults_as_busy
def place_in_line(partition: str, order: str) -> int:
    """1-based place of a waitlisted signup (by its order key): one count over the line up to it."""
    return _count({**_LINE_UP_TO, "ExpressionAttributeValues": _values(pk=partition, first=keys.WAITLIST_PREFIX, me=order)})


@_faults_as_busy
def get_signup(event_id: str, person: str) -> Signup:
    raw = _get(*keys.signup(event_id, person))
    if raw is None:
        raise errors.NotSignedUp(event_id, person)
    return _with_position(raw)


_FROM_EVENT = {"IndexName": "by_status", "KeyConditionExpression": "#pk = :pk AND #o >= :event",
               "ExpressionAttributeNames": {"#pk": "pk", "#o": "lsi1sk"}, "ConsistentRead": True}


def _event_and_head(event_id: str) -> tuple[Raw, Raw | None]:
    """One strongly consistent query: the event item, then the first waitlisted signup if any."""
    found, _ = _query({**_FROM_EVENT, "ExpressionAttributeValues": _values(pk=keys.event_partition(event_id), event=keys.EVENT_ORDER)}, 2)
    if not found or items.kind(found[0]) != items.EVENT:
        raise errors.EventNotFound(event_id)
    head = found[1] if len(found) > 1 and items.kind(found[1]) == items.SIGNUP else None
    return found[0], head


def _promotion_ops(event_id: str, head: Raw, now: datetime) -> list[_Op]:
    person = head["person"]["S"]
    promoted = SignupItem(*keys.signup(event_id, person))
    return [
        _update(
            "promoted",
            promoted,
            [SignupItem.status.set("going"), SignupItem.status_order.set(keys.going_order(now, person))],
            (SignupItem.status == "waitlisted") & (SignupItem.status_order == head["lsi1sk"]["S"]),
        )
    ]


def _promoted_value(head: Raw) -> Signup:
    return items.signup(head)._replace(status="going", position=None)


@_faults_as_busy
def cancel_signup(event_id: str, person: str, *, request_id: str | None, now: datetime,
                  fingerprint: str | None = None, note: dict[str, Any] | None = None) -> Cancellation:
    """Deletes the signup and, in the same transaction, promotes the head of the waitlist into the seat: one
    query (the event and the head of the line) and one transaction. The signup is not read first: the delete
    assumes the usual case - going, no guests - as its condition, and when that is wrong the refusal hands the
    signup back and the cancel goes on from it."""
    pk, sk = keys.signup(event_id, person)
    # Seats can stay free behind a head of the line too big for them; then the line is re-checked.
    leftover = {"seats": False}
    seen: dict[str, Raw] = {}

    def attempt() -> Cancellation:
        mine = seen.get("mine")
        guess = mine is None
        event, head = _event_and_head(event_id)
        if guess and head is not None and head["person"]["S"] == person:
            guess, mine = False, head  # first in line: the query read the signup already
        if mine is None:
            mine = _USUAL_SIGNUP
        freed = _seats(int(mine["guests"]["N"]))
        seats_left = int(event["seats_left"]["N"])
        if guess:
            delete = _delete("signup", SignupItem(pk, sk), (SignupItem.status == "going") & (SignupItem.guests == 0),
                             want_old=True)
        else:
            delete = _delete("signup", SignupItem(pk, sk), SignupItem.status_order == mine["lsi1sk"]["S"])
        event_key = EventItem(*keys.event(event_id))
        promoted: Signup | None = None
        if mine["status"]["S"] == "waitlisted":
            ops = [delete, _update("event", event_key, [EventItem.waitlisted.add(-1)], EventItem.waitlisted > 0)]
            leftover["seats"] = seats_left > 0
        elif head is not None and _seats(int(head["guests"]["N"])) <= seats_left + freed:
            need = _seats(int(head["guests"]["N"]))
            ops = [delete] + _promotion_ops(event_id, head, now) + [
                _update(
                    "event",
                    event_key,
                    [EventItem.waitlisted.add(-1), EventItem.seats_left.add(freed - need)],
                    (EventItem.waitlisted > 0) & (EventItem.seats_left >= need - freed),
                )
            ]
            promoted = _promoted_value(head)
            leftover["seats"] = freed > need
        else:
            leftover["seats"] = head is not None
            # Nobody takes the seat: valid only while the waitlist is exactly as it was read.
            still = (EventItem.waitlisted == 0) if head is None else (EventItem.tickets == int(event["tickets"]["N"]))
            ops = [delete, _update("event", event_key, [EventItem.going.add(-1), EventItem.seats_left.add(freed)], still)]
        cancelled_value = Cancelled(event_id, person, mine["status"]["S"], int(mine["guests"]["N"]))
        outcome = lambda: {"kind": "cancel", "cancelled": cancelled_value._asdict(),  # noqa: E731
                           "promoted": _signup_to_json(promoted)}
        try:
            _transact(_with_request(ops, request_id, fingerprint, outcome, note, now))
        except _Cancelled as cancelled:
            replay = _replay(cancelled, "cancel", fingerprint)
            if replay is not None:
                return _cancellation(replay)
            if guess and cancelled.failed("signup"):
                old = cancelled.old("signup")
                if old is None or items.kind(old) != items.SIGNUP:
                    raise errors.NotSignedUp(event_id, person) from None
                seen["mine"] = old  # not the usual case: go on from the signup as it is
            raise _Retry() from None
        return Cancellation(cancelled_value, promoted, event=items.event(event))

    cancellation = _with_retries(attempt)
    if leftover["seats"] and not cancellation.replayed:
        filled = _fill_if_room(event_id, now)
        if filled and cancellation.promoted is None:
            return cancellation._replace(promoted=filled[0])
    return cancellation


# What a cancel assumes of the signup until its delete's condition says otherwise.
_USUAL_SIGNUP: Raw = {"status": {"S": "going"}, "guests": {"N": "0"}}


def cancelled_from_json(data: dict[str, Any]) -> Cancelled:
    """Outcomes stored before cancels stopped reading the signup hold all of it; Cancelled's fields are in both."""
    return Cancelled(*(data[name] for name in Cancelled._fields))


def _cancellation(outcome: dict[str, Any]) -> Cancellation:
    return Cancellation(cancelled_from_json(outcome["cancelled"]), signup_from_json(outcome["promoted"]), replayed=True,
                        note=outcome.get("note"))


def _fill_if_room(event_id: str, now: datetime) -> list[Signup]:
    event = _event_raw(event_id)
    if int(event["waitlisted"]["N"]) > 0 and int(event["seats_left"]["N"]) > 0:
        return fill_from_waitlist(event_id, now)
    return []


@_faults_as_busy
def fill_from_waitlist(event_id: str, now: datetime) -> list[Signup]:
    """Promotes waitlisted people in order for as long as the head fits in the free seats."""
    promoted: list[Signup] = []

    def attempt() -> Signup | None:
        event, head = _event_and_head(event_id)
        if head is None or _seats(int(head["guests"]["N"])) > int(event["seats_left"]["N"]):
            return None
        need = _seats(int(head["guests"]["N"]))
        ops = _promotion_ops(event_id, head, now) + [
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
        return _promoted_value(head)

    while (signup := _with_retries(attempt)) is not None:
        promoted.append(signup)
    return promoted


@_faults_as_busy
def check_in(event_id: str, person: str, *, now: datetime, opens_before: timedelta, request_id: str | None = None,
             fingerprint: str | None = None, note: dict[str, Any] | None = None) -> CheckIn:
    """Idempotent by its condition: a second check-in returns the first one unchanged. With a request id the
    outcome is stored under it too, so a repeated delivery is told it was a repeat."""
    event = items.event(_event_raw(event_id))
    if now >= event.closes_at:
        raise errors.EventOver(event_id)
    opens_at = event.starts_at - opens_before
    if now < opens_at:
        raise errors.CheckInNotOpen(event_id, opens_at.isoformat())
    pk, sk = keys.signup(event_id, person)
    update = _update("signup", SignupItem(pk, sk), [SignupItem.checked_in_at.set(keys.utc(now))],
                     SignupItem.pk.exists() & (SignupItem.status == "going") & SignupItem.checked_in_at.does_not_exist(),
                     want_old=True)
    outcome = lambda: {"kind": "check_in", "signup": None}  # noqa: E731
    try:
        _transact(_with_request([update], request_id, fingerprint, outcome, note, now))
    except _Cancelled as cancelled:
        replay = _replay(cancelled, "check_in", fingerprint)
        if replay is not None:
            return CheckIn(get_signup(event_id, person), replayed=True, note=replay.get("note"), event=event)
        old = cancelled.old("signup")
        if old is None:
            raise errors.NotSignedUp(event_id, person) from None
        if old["status"]["S"] != "going":
            raise errors.NotGoing(event_id, person) from None
        if request_id is not None:
            first = _store_apart(request_id, fingerprint, outcome(), note, now)
            if first is not None:
                return CheckIn(items.signup(old), replayed=True, note=first.get("note"), event=event)
        return CheckIn(items.signup(old), event=event)
    except _Retry:
        raise errors.Busy() from None
    return CheckIn(get_signup(event_id, person), event=event)


_PAGE = {"IndexName": "by_status", "KeyConditionExpression": "#pk = :pk AND #o BETWEEN :low AND :high",
         "ExpressionAttributeNames": {"#pk": "pk", "#o": "lsi1sk"}, "ConsistentRead": True}


@_faults_as_busy
def list_signups(
    event_id: str, *, prefix_from: str, prefix_to: str, limit: int, after: tuple[str, str] | None,
    known: Event | None = None,
) -> tuple[tuple[int, int], list[Signup], tuple[str, str] | None]:
    """The event's counts (going, waitlisted), a page of signups in by_status order between two sort-key bounds
    with their places in line, and the (order, sk) to continue after when more follow. One query when the
    page reaches the event item (it sorts between the going and the waitlist) or the event is `known`; else
    the event is read for its counts too."""
    pk = keys.event_partition(event_id)
    params: dict[str, Any] = {**_PAGE, "ExpressionAttributeValues": _values(pk=pk, low=prefix_from, high=prefix_to)}
    if after is not None:
        params["ExclusiveStartKey"] = {"pk": {"S": pk}, "sk": {"S": after[1]}, "lsi1sk": {"S": after[0]}}
    # The event item may sit inside the range, and one more tells if a page follows.
    found, _ = _query(params, limit + 2)
    counts = (known.going, known.waitlisted) if known is not None else None
    page = []
    for raw in found:
        kind = items.kind(raw)
        if kind == items.SIGNUP:
            page.append(raw)
        elif kind == items.EVENT and counts is None:
            counts = (int(raw["going"]["N"]), int(raw["waitlisted"]["N"]))
    if counts is None:
        event = _event_raw(event_id)  # raises EventNotFound
        counts = (int(event["going"]["N"]), int(event["waitlisted"]["N"]))
    more = len(page) > limit
    page = page[:limit]
    # Places in line are counted by the table, never carried in a cursor, so a cursor cannot fake them; a
    # page that starts before the line needs no count at all.
    waiting = [raw for raw in page if raw["status"]["S"] == "waitlisted"]
    starts_in_line = after is not None and after[0] >= keys.WAITLIST_PREFIX
    place = place_in_line(pk, waiting[0]["lsi1sk"]["S"]) if waiting and starts_in_line else 1
    signups = []
    for raw in page:
        if raw["status"]["S"] == "waitlisted":
            signups.append(items.signup(raw, place))
            place += 1
        else:
            signups.append(items.signup(raw))
    last = (page[-1]["lsi1sk"]["S"], page[-1]["sk"]["S"]) if more and page else None
    return counts, signups, last


# --- devices ------------------------------------------------------------------------------------


@_faults_as_busy
def put_device(device: Device, *, takeover: bool) -> Device:
    """Without takeover, only a free button or one already bound to the same person is (re)bound, in one write.
    A binding to an event keeps the event's name, start and time zone for the button's answers."""
    pk, sk = keys.device(device.serial)
    starts = device.event_starts_at
    item = DeviceItem(pk, sk, serial=device.serial, person=device.person, event_id=device.event_id,
                      bound_at=keys.utc(device.bound_at), event_name=device.event_name,
                      event_starts_at=keys.utc(starts) if starts else None,
                      event_timezone=_zone(starts) if starts else None)
    condition = None if takeover else DeviceItem.pk.does_not_exist() | (DeviceItem.person == device.person)
    try:
        item.save(condition=condition)
    except PutError as exc:
        if _response_code(exc) == "ConditionalCheckFailedException":
            raise errors.Forbidden("That button is bound to someone else.", serial=device.serial) from None
        raise
    return device


@_faults_as_busy
def remember_event(serial: str, event: Event) -> None:
    """Refreshes what a binding remembers of its event, if the button is still bound to it."""
    try:
        DeviceItem(*keys.device(serial)).update(
            actions=[DeviceItem.event_name.set(event.name), DeviceItem.event_starts_at.set(keys.utc(event.starts_at)),
                     DeviceItem.event_timezone.set(event.timezone)],
            condition=DeviceItem.event_id == event.event_id,
        )
    except UpdateError as exc:
        if _response_code(exc) != "ConditionalCheckFailedException":
            raise


@_faults_as_busy
def get_device(serial: str) -> Device:
    raw = _get(*keys.device(serial))
    if raw is None:
        raise errors.DeviceNotFound(serial)
    return items.device(raw)


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
def put_pairing_code(person: str, code: str, valid_until: datetime, now: datetime) -> PairingCode | None:
    """Stores a fresh code, over an expired one; None when that code is still out for someone (draw again)."""
    pk, sk = keys.pairing_code(code)
    item = PairingCodeItem(pk, sk, person=person, valid_until=keys.utc(valid_until), expires=valid_until)
    try:
        item.save(condition=PairingCodeItem.pk.does_not_exist() | (PairingCodeItem.valid_until <= keys.utc(now)))
    except PutError as exc:
        if _response_code(exc) == "ConditionalCheckFailedException":
            return None
        raise
    return PairingCode(person=person, code=code, expires_at=valid_until)


@_faults_as_busy
def pairing_locked_until(scopes: Iterable[str], now: datetime) -> datetime | None:
    latest: datetime | None = None
    for scope in scopes:
        raw = _get(*keys.pairing_misses(scope))
        locked = raw.get("locked_until") if raw else None
        if locked and locked["S"] > keys.utc(now):
            until = keys.from_utc(locked["S"])
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
    raw = _get(*keys.pairing_code(code))
    if raw is None or raw["valid_until"]["S"] <= keys.utc(now):
        return None
    person = raw["person"]["S"]
    link = AlexaLinkItem(*keys.alexa_link(alexa_user_id), person=person, linked_at=keys.utc(now))
    try:
        _transact(
            [
                _delete("code", PairingCodeItem(*keys.pairing_code(code)), (PairingCodeItem.person == person) & (PairingCodeItem.valid_until > keys.utc(now))),
                _put("link", link),
                _delete("misses", PairingMissesItem(*keys.pairing_misses(alexa_user_id))),
            ]
        )
    except _Cancelled:
        return None  # used or expired in the meantime: single use holds
    except _Retry:
        raise errors.Busy() from None
    return person


@_faults_as_busy
def linked_person(alexa_user_id: str) -> str | None:
    raw = _get(*keys.alexa_link(alexa_user_id))
    return raw["person"]["S"] if raw else None
