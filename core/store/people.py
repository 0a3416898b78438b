"""Core store: people - a profile (display name, where to be told) and the buttons bound to them, in one partition."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from core import keys
from core.member_values import Person, Recipient
from core.store import transactions as tx
from core.table import DeviceItem, TurnoutItem


class PersonItem(TurnoutItem, discriminator="person"):
    """Who a person is: a display name, and where to be told."""

    person = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)  # E.164, as SNS sends an SMS to it
    updated_at = UnicodeAttribute()
    reminders = BooleanAttribute(null=True)  # False: never reminded; unset: reminded


class ButtonOfPersonItem(TurnoutItem, discriminator="button_of_person"):
    """A person's button, beside their profile, so notices find it; the binding itself stays the truth (a taken-over
    button leaves this behind, and whoever reads it checks the binding)."""

    person = UnicodeAttribute()
    serial = UnicodeAttribute()


_PROFILE = keys.person("x")[1]


def _value(item: PersonItem) -> Person:
    return Person(item.person, item.name, item.email, item.phone, keys.from_utc(item.updated_at),
                  reminders=item.reminders is not False)


def nobody_yet(handle: str) -> Person:
    return Person(handle, None, None, None, None)


@tx.faults_as_busy
def put_person(person: Person) -> Person:
    assert person.updated_at is not None  # a person is stored only with the time of the change
    PersonItem(*keys.person(person.person), person=person.person, name=person.name, email=person.email,
               phone=person.phone, updated_at=keys.utc(person.updated_at),
               reminders=None if person.reminders else False).save()
    return person


@tx.faults_as_busy
def get_person(handle: str) -> Person:
    """The profile; a person who never set one is just their handle."""
    try:
        return _value(PersonItem.get(*keys.person(handle), consistent_read=True))
    except DoesNotExist:
        return nobody_yet(handle)


@tx.faults_as_busy
def remember_button(handle: str, serial: str) -> None:
    ButtonOfPersonItem(*keys.button_of_person(handle, serial), person=handle, serial=serial).save()


def _profile_and_buttons(handle: str) -> tuple[Person, list[str]]:
    """One query: the profile and the serials of the buttons it remembers (some perhaps taken over since)."""
    pk, _ = keys.person(handle)
    person, serials = nobody_yet(handle), []
    for item in TurnoutItem.query(pk, TurnoutItem.sk.startswith(_PROFILE), consistent_read=True):
        if isinstance(item, PersonItem):
            person = _value(item)
        elif isinstance(item, ButtonOfPersonItem):
            serials.append(item.serial)
    return person, serials


@tx.faults_as_busy
def remembered_buttons(handle: str) -> list[str]:
    """The buttons the person ever bound; a write to one of them must still check whose it is now."""
    return _profile_and_buttons(handle)[1]


@tx.faults_as_busy
def recipient(handle: str) -> Recipient:
    """The person and the buttons bound to them now: one query for the profile and the buttons it remembers,
    one batch read of those bindings, since a button taken over by someone else must not be told."""
    person, serials = _profile_and_buttons(handle)
    bound: list[str] = []
    if serials:
        for device in DeviceItem.batch_get([keys.device(serial) for serial in serials], consistent_read=True):
            if isinstance(device, DeviceItem) and device.person == handle:
                bound.append(device.serial)
    return Recipient(person, tuple(sorted(bound)))
