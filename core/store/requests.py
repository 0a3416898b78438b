"""Core store: a request's stored outcome under its request id, so a repeated delivery gets the first answer
and a reused id with another request is refused (RequestIdReused)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, overload

from core import errors, keys
from core.store import transactions as tx
from core.table import RequestItem
from core.values import Cancelled, Signup

REQUEST_TTL = timedelta(days=2)


class RequestUsed(errors.InvalidInput):
    """The request id holds this request's outcome, of another kind of action (`outcome`, as stored): a click
    that was refused the first time and took another path on a repeated delivery."""

    def __init__(self, outcome: dict[str, Any]) -> None:
        super().__init__("That request id was already used for another action.", "request_id")
        self.outcome = outcome


def write(request_id: str, fingerprint: str | None, outcome: dict[str, Any], now: datetime) -> tx.Write:
    """The outcome's item, put only if the id holds none; the one in the way comes back on refusal."""
    stored = {**outcome, "request": fingerprint} if fingerprint is not None else outcome
    item = RequestItem(*keys.request(request_id), outcome=stored, expires=now + REQUEST_TTL)
    return tx.put("request", item, RequestItem.pk.does_not_exist(), want_old=True)


def with_request(writes: list[tx.Write], request_id: str | None, fingerprint: str | None,
                 outcome: Callable[[], dict[str, Any]], note: dict[str, Any] | None, now: datetime) -> list[tx.Write]:
    """The transaction, plus - with a request id - its outcome stored under that id (built only then)."""
    if request_id is None:
        return writes
    return writes + [write(request_id, fingerprint, noted(outcome(), note), now)]


def noted(outcome: dict[str, Any], note: dict[str, Any] | None) -> dict[str, Any]:
    return {**outcome, "note": note} if note else outcome


def _same_request(item: RequestItem, fingerprint: str | None) -> dict[str, Any]:
    """The stored outcome, if it answers this very request; RequestIdReused if the id came with another one.
    Outcomes stored before fingerprints were (they expire within REQUEST_TTL) are taken as this request's."""
    outcome = item.outcome
    if outcome.get("request", fingerprint) != fingerprint:
        raise errors.RequestIdReused()
    return outcome


def replay(refused: tx.Refused, kind: str, fingerprint: str | None) -> dict[str, Any] | None:
    """The stored outcome when this transaction's request id was already used (None when it was not)."""
    if not refused.failed("request"):
        return None
    item = refused.old("request")
    if not isinstance(item, RequestItem):
        raise errors.Busy()
    outcome = _same_request(item, fingerprint)
    if outcome.get("kind") != kind:
        raise RequestUsed(outcome)
    return outcome


def store_apart(request_id: str, fingerprint: str | None, outcome: dict[str, Any], note: dict[str, Any] | None,
                now: datetime) -> dict[str, Any] | None:
    """An outcome that changed nothing, so no transaction stored it, stored under its request id on its own:
    None when stored now, else the one stored first (RequestUsed when that was another kind of action)."""
    first = store_outcome(request_id, noted(outcome, note), now, fingerprint)
    if first is not None and first.get("kind") != outcome["kind"]:
        raise RequestUsed(first)
    return first


@tx.faults_as_busy
def store_outcome(request_id: str, outcome: dict[str, Any], now: datetime,
                  fingerprint: str | None = None) -> dict[str, Any] | None:
    """Stores an outcome no transaction wrote (a refusal) under its request id, unless one is there already:
    None when stored now, else the outcome stored first (RequestIdReused when it answered another request)."""
    try:
        tx.commit([write(request_id, fingerprint, outcome, now)])
    except tx.Refused as refused:
        item = refused.old("request")
        if not isinstance(item, RequestItem):
            raise errors.Busy() from None
        return _same_request(item, fingerprint)
    except tx.Retry:
        raise errors.Busy() from None
    return None


def signup_json(signup: Signup | None) -> dict[str, Any] | None:
    if signup is None:
        return None
    return {
        "event_id": signup.event_id, "person": signup.person, "name": signup.name, "guests": signup.guests,
        "status": signup.status, "position": signup.position, "source": signup.source,
        "signed_up_at": keys.utc(signup.signed_up_at),
        "checked_in_at": keys.utc(signup.checked_in_at) if signup.checked_in_at else None,
    }


@overload
def signup_from_json(data: dict[str, Any]) -> Signup: ...
@overload
def signup_from_json(data: None) -> None: ...
def signup_from_json(data: dict[str, Any] | None) -> Signup | None:
    if data is None:
        return None
    return Signup(**{
        **data,
        "signed_up_at": keys.from_utc(data["signed_up_at"]),
        "checked_in_at": keys.from_utc(data["checked_in_at"]) if data["checked_in_at"] else None,
    })


def cancelled_from_json(data: dict[str, Any]) -> Cancelled:
    """Outcomes stored before cancels stopped reading the signup hold all of it; Cancelled's fields are in both."""
    return Cancelled(*(data[name] for name in Cancelled._fields))
