"""Core services, buttons: bind a button to a person and an event or a series, read and unbind it."""
from __future__ import annotations

from datetime import datetime

from core import clock, errors
from core import validation as valid
from core.store import devices, events, people
from core.values import Device


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
    bound = devices.put_device(device, takeover=takeover)  # with the event's note of it, which a delete reads
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
