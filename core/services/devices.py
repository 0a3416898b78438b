"""Core services, buttons and Alexa: bind a button to a person and event, and pair an Alexa account by code."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from core import clock, errors
from core import validation as valid
from core.config import settings
from core.store import devices, events, pairing, people
from core.values import (
    Device,
    PairingCode,
)

CODE = re.compile(r"\d{6}")


def bind_device(serial: str, person: str, event_id: str | None = None, *, series_id: str | None = None,
                takeover: bool = True, now: datetime | None = None) -> Device:
    """Binds a button to a person and optionally one event or one series (which must exist; a series' button
    signs up for its next occurrence). takeover=False binds only a free button or the person's own, decided by
    the write itself; otherwise raises Forbidden."""
    valid.serial(serial)
    valid.handle(person)
    if series_id is not None:
        if event_id is not None:
            raise errors.InvalidInput("Bind a button to an event or to a series, not both.", "series_id")
        from core.store import series as series_store  # here: binding a button to a series is rare

        series_store.get_series(valid.series_id(series_id))  # raises SeriesNotFound
    event = events.get_event(valid.event_id(event_id)) if event_id is not None else None
    # On binding only (rare), the profile is read, so that a press carries the person's name without reading it.
    device = Device(serial=serial, person=person, event_id=event_id, bound_at=clock.at(now),
                    event_name=event.name if event else None, event_starts_at=event.starts_at if event else None,
                    person_name=people.get_person(person).name, series_id=series_id)
    bound = devices.put_device(device, takeover=takeover)
    if event_id is not None:
        devices.remember_button_of_event(event_id, serial)  # so deleting the event re-points the button
    # One more write, on binding only (rare): notices find the person's buttons without a scan of every binding.
    people.remember_button(person, serial)
    return bound


def get_device(serial: str) -> Device:
    """Raises DeviceNotFound."""
    return devices.get_device(valid.serial(serial))


def list_devices(person: str) -> list[Device]:
    """The buttons bound to the person now (a button taken over by someone since is not theirs)."""
    return [devices.get_device(serial) for serial in people.recipient(valid.handle(person)).serials]


def unbind_device(serial: str) -> None:
    """Raises DeviceNotFound."""
    devices.delete_device(valid.serial(serial))


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
