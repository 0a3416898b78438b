"""Core services, Alexa pairing: a person's single-use code, redeemed by an Alexa account to link the two."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from core import clock, errors
from core import validation as valid
from core.config import settings
from core.store import pairing
from core.values import PairingCode

CODE = re.compile(r"\d{6}")


def issue_pairing_code(person: str, *, now: datetime | None = None) -> PairingCode:
    """A six-digit single-use code, valid for a few minutes."""
    valid.handle(person)
    moment = clock.at(now)
    valid_until = moment + timedelta(minutes=settings.pairing_code_minutes)
    for _ in range(20):
        issued = pairing.put_pairing_code(person, f"{secrets.randbelow(10**6):06d}", valid_until, moment)
        if issued is not None:
            return issued
    raise errors.Busy()


def redeem_pairing_code(alexa_user_id: str, code: str, *, now: datetime | None = None) -> str:
    """Links the Alexa user to the code's person and returns the handle. Raises PairingCodeInvalid,
    PairingLocked (after repeated misses by the same Alexa user)."""
    if not isinstance(alexa_user_id, str) or not 1 <= len(alexa_user_id) <= 512:
        raise errors.InvalidInput("An Alexa user id is required.", "alexa_user_id")
    moment = clock.at(now)
    # Counted before the code is read and never reset by a link: neither parallel tries nor links between misses
    # give one Alexa user more than pairing_max_misses wrong codes in a window.
    counted, window_until = pairing.count_pairing_try(
        alexa_user_id, moment, settings.pairing_max_misses, timedelta(minutes=settings.pairing_lock_minutes))
    if not counted:
        raise errors.PairingLocked(max(1, int((window_until - moment).total_seconds())))
    well_formed = isinstance(code, str) and CODE.fullmatch(code)
    person = pairing.redeem_pairing_code(alexa_user_id, code, moment) if well_formed else None
    if person is None:
        raise errors.PairingCodeInvalid()
    pairing.forgive_pairing_try(alexa_user_id, window_until)
    return person


def linked_person(alexa_user_id: str) -> str:
    """Raises NotLinked."""
    person = pairing.linked_person(alexa_user_id) if isinstance(alexa_user_id, str) and alexa_user_id else None
    if person is None:
        raise errors.NotLinked()
    return person
