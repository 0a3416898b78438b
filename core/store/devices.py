"""Core store: button bindings - whose button it is, its event, and what it remembers of that event."""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from core import errors, keys
from core.store import transactions as tx
from core.table import DeviceItem, EventItem, TurnoutItem
from core.values import Device, Event


class ButtonOfEventItem(TurnoutItem, discriminator="button_of_event"):
    """A button bound to one event, in that event's partition; the binding stays the truth (a button bound elsewhere
    since leaves this behind, and forget_event checks the binding)."""

    serial = UnicodeAttribute()


@tx.faults_as_busy
def put_device(device: Device, *, takeover: bool) -> Device:
    """Without takeover, only a free button or one already bound to the same person is (re)bound, in one write.
    A binding to an event keeps the event's name, start and time zone for the button's answers, and is one
    transaction with the event's note of the button, on condition that the event is still there: deleting the event
    either comes first and refuses the binding (EventNotFound), or comes after and finds the note and re-points the
    button. Two separate writes let a delete between them leave a button bound to an event that is gone."""
    condition = None if takeover else DeviceItem.pk.does_not_exist() | (DeviceItem.person == device.person)
    if device.event_id is None:
        try:
            DeviceItem.of(device).save(condition=condition)
        except PutError as exc:
            if tx.refused_by_condition(exc):
                raise _taken(device.serial) from None
            raise
        return device
    event_id = device.event_id
    writes = [
        tx.put("binding", DeviceItem.of(device), condition),
        tx.put("note", ButtonOfEventItem(*keys.button_of_event(event_id, device.serial), serial=device.serial)),
        tx.check("event", EventItem, *keys.event(event_id), EventItem.pk.exists()),
    ]

    def attempt() -> Device:
        try:
            tx.commit(writes)
        except tx.Refused as refused:
            if refused.failed("event"):
                raise errors.EventNotFound(event_id) from None
            if refused.failed("binding"):
                raise _taken(device.serial) from None
            raise
        return device

    return tx.with_retries(attempt)


def _taken(serial: str) -> errors.Forbidden:
    return errors.Forbidden("That button is bound to someone else.", serial=serial)


@tx.faults_as_busy
def remember_event(serial: str, event: Event) -> None:
    """Refreshes what a binding remembers of its event, if the button is still bound to it."""
    try:
        DeviceItem(*keys.device(serial)).update(
            actions=[DeviceItem.event_name.set(event.name), DeviceItem.event_starts_at.set(keys.utc(event.starts_at)),
                     DeviceItem.event_timezone.set(event.timezone)],
            condition=DeviceItem.event_id == event.event_id,
        )
    except UpdateError as exc:
        if not tx.refused_by_condition(exc):
            raise


@tx.faults_as_busy
def remember_person(serial: str, person: str, name: str | None) -> None:
    """Refreshes the display name a binding carries, if the button is still bound to that person."""
    try:
        DeviceItem(*keys.device(serial)).update(
            actions=[DeviceItem.person_name.set(name) if name else DeviceItem.person_name.remove()],
            condition=DeviceItem.person == person,
        )
    except UpdateError as exc:
        if not tx.refused_by_condition(exc):
            raise


@tx.faults_as_busy
def get_device(serial: str) -> Device:
    try:
        return DeviceItem.get(*keys.device(serial), consistent_read=True).value()
    except DoesNotExist:
        raise errors.DeviceNotFound(serial) from None


@tx.faults_as_busy
def delete_device(serial: str) -> None:
    try:
        DeviceItem(*keys.device(serial)).delete(condition=DeviceItem.pk.exists())
    except DeleteError as exc:
        if tx.refused_by_condition(exc):
            raise errors.DeviceNotFound(serial) from None
        raise


@tx.faults_as_busy
def forget_event(serial: str, event_id: str) -> None:
    """The button's event is gone: it means the next event from now on, if it is still bound to that event."""
    try:
        DeviceItem(*keys.device(serial)).update(
            actions=[DeviceItem.event_id.remove(), DeviceItem.event_name.remove(),
                     DeviceItem.event_starts_at.remove(), DeviceItem.event_timezone.remove()],
            condition=DeviceItem.event_id == event_id,
        )
    except UpdateError as exc:
        if not tx.refused_by_condition(exc):
            raise
