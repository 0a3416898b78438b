"""Core store: Alexa pairing - single-use codes, the links they make, and the wrong-code counters."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable, TypeVar

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError

from core import errors, keys, rules
from core.store import transactions as tx
from core.table import TurnoutItem
from core.values import PairingCode


class PairingCodeItem(TurnoutItem, discriminator="pairing_code"):
    person = UnicodeAttribute()
    valid_until = UnicodeAttribute()


class AlexaLinkItem(TurnoutItem, discriminator="alexa_link"):
    person = UnicodeAttribute()
    linked_at = UnicodeAttribute()


class PairingMissesItem(TurnoutItem, discriminator="pairing_misses"):
    misses = NumberAttribute(default=0)
    locked_until = UnicodeAttribute(null=True)


M = TypeVar("M", PairingCodeItem, AlexaLinkItem, PairingMissesItem)


@tx.faults_as_busy
def put_pairing_code(person: str, code: str, valid_until: datetime, now: datetime) -> PairingCode | None:
    """Stores a fresh code, over an expired one; None when that code is still out for someone (draw again)."""
    item = PairingCodeItem(*keys.pairing_code(code), person=person, valid_until=keys.utc(valid_until), expires=valid_until)
    try:
        item.save(condition=PairingCodeItem.pk.does_not_exist() | (PairingCodeItem.valid_until <= keys.utc(now)))
    except PutError as exc:
        if tx.refused_by_condition(exc):
            return None
        raise
    return PairingCode(person=person, code=code, expires_at=valid_until)


def _get(model: type[M], key: tuple[str, str]) -> M | None:
    try:
        return model.get(*key, consistent_read=True)
    except DoesNotExist:
        return None


@tx.faults_as_busy
def pairing_locked_until(scopes: Iterable[str], now: datetime) -> datetime | None:
    locks = [item.locked_until for item in (_get(PairingMissesItem, keys.pairing_misses(scope)) for scope in scopes)
             if item is not None and item.locked_until]
    return rules.still_locked_until([keys.from_utc(until) for until in locks], now)


@tx.faults_as_busy
def note_pairing_miss(scope: str, now: datetime, max_misses: int, lock_for: timedelta) -> None:
    """Counts a wrong code; the max-th miss in a row locks the scope for a while."""
    item = PairingMissesItem(*keys.pairing_misses(scope))
    item.update(actions=[PairingMissesItem.misses.add(1), PairingMissesItem.expires.set(now + lock_for)])
    if rules.locks_out(int(item.misses), max_misses):
        item.update(actions=[PairingMissesItem.locked_until.set(keys.utc(now + lock_for)), PairingMissesItem.misses.set(0)])


@tx.faults_as_busy
def redeem_pairing_code(alexa_user_id: str, code: str, now: datetime) -> str | None:
    """Consumes the code and links the Alexa user in one transaction; None when the code is not valid."""
    found = _get(PairingCodeItem, keys.pairing_code(code))
    moment = keys.utc(now)
    if found is None or found.valid_until <= moment:
        return None
    person = found.person
    try:
        tx.commit([
            tx.delete("code", PairingCodeItem(*keys.pairing_code(code)),
                      (PairingCodeItem.person == person) & (PairingCodeItem.valid_until > moment)),
            tx.put("link", AlexaLinkItem(*keys.alexa_link(alexa_user_id), person=person, linked_at=moment)),
            tx.delete("misses", PairingMissesItem(*keys.pairing_misses(alexa_user_id))),
        ])
    except tx.Refused:
        return None  # used or expired in the meantime: single use holds
    except tx.Retry:
        raise errors.Busy() from None
    return person


@tx.faults_as_busy
def linked_person(alexa_user_id: str) -> str | None:
    link = _get(AlexaLinkItem, keys.alexa_link(alexa_user_id))
    return link.person if link else None
