"""Core store: Alexa pairing - single-use codes, the links they make, and the counted tries of each Alexa user."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from core import errors, keys
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
    misses = NumberAttribute(default=0)  # tries counted in the window, less those that linked
    window_until = UnicodeAttribute(null=True)  # the window opens at its first try; an item without one is over


M = TypeVar("M", PairingCodeItem, AlexaLinkItem, PairingMissesItem)


@tx.faults_as_busy
def put_pairing_code(person: str, code: str, valid_until: datetime, now: datetime) -> PairingCode | None:
    """Stores a fresh code, over an expired one; None when that code is still out for someone (draw again)."""
    item = PairingCodeItem(
        *keys.pairing_code(code), person=person, valid_until=keys.utc(valid_until), expires=valid_until
    )
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
def count_pairing_try(scope: str, now: datetime, max_misses: int, window: timedelta) -> tuple[bool, datetime]:
    """Counts a try before its code is looked at: (True, the window's end) when counted, (False, the window's
    end) when max_misses are counted in the window already. The count and its limit are one conditional write,
    so parallel tries cannot all pass one read of the count, and only forgive_pairing_try takes one back."""
    key = keys.pairing_misses(scope)
    moment = keys.utc(now)
    for _ in range(tx.ATTEMPTS):
        try:
            updated = PairingMissesItem(*key)
            updated.update(
                actions=[PairingMissesItem.misses.add(1)],
                condition=(PairingMissesItem.window_until > moment) & (PairingMissesItem.misses < max_misses),
            )
            return True, keys.from_utc(updated.window_until)
        except UpdateError as exc:
            if not tx.refused_by_condition(exc):
                raise
        found = _get(PairingMissesItem, key)
        if found is not None and found.window_until and found.window_until > moment:
            if found.misses >= max_misses:
                return False, keys.from_utc(found.window_until)
            continue  # a window opened after the update was refused: count in it
        until = now + window
        try:
            PairingMissesItem(*key, misses=1, window_until=keys.utc(until), expires=until).save(
                condition=PairingMissesItem.pk.does_not_exist() | PairingMissesItem.window_until.does_not_exist()
                | (PairingMissesItem.window_until <= moment))
            return True, until
        except PutError as exc:
            if not tx.refused_by_condition(exc):
                raise
    raise errors.Busy()


@tx.faults_as_busy
def forgive_pairing_try(scope: str, window_until: datetime) -> None:
    """A try that linked was no miss: it comes off the count of the window it was counted in, and only that."""
    try:
        PairingMissesItem(*keys.pairing_misses(scope)).update(
            actions=[PairingMissesItem.misses.add(-1)],
            condition=(PairingMissesItem.window_until == keys.utc(window_until)) & (PairingMissesItem.misses > 0))
    except UpdateError as exc:
        if not tx.refused_by_condition(exc):
            raise


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
