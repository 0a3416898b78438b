"""Core services, people and notices: profiles, the notices kept for each person, and what a change tells whom."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from core import clock, errors, keys
from core import reminders as reminding
from core import validation as valid
from core.member_values import Change, Notice, Person, Recipient
from core.moments import told
from core.store import devices, notices, people

NOTICES_PAGE = 20


# The skill reads out at most this many at once, newest first: a listener keeps about three in mind.
NOTICES_SPOKEN = 3


def set_person(person: str, *, name: str | None = None, email: str | None = None, phone: str | None = None,
               reminders: bool | None = None, now: datetime | None = None) -> Person:
    """Sets a person's whole profile (a field left out is cleared; reminders left out are on), and the name their
    buttons carry into the signups they make. Raises InvalidInput."""
    if reminders is not None and not isinstance(reminders, bool):
        raise errors.InvalidInput("reminders must be true or false.", "reminders")
    stored = people.put_person(Person(valid.handle(person), valid.text(name, "name", max_length=valid.PERSON_NAME_MAX),
                                      valid.email(email), valid.phone(phone), clock.at(now),
                                      reminders=reminders is not False))
    # Each update is conditioned on the button still being theirs, so the bindings need no read first.
    for serial in people.remembered_buttons(stored.person):
        devices.remember_person(serial, stored.person, stored.name)
    return stored


def get_person(person: str) -> Person:
    """A person who never set a profile is their handle alone."""
    return people.get_person(valid.handle(person))


def list_notices(person: str, *, limit: int | str | None = None) -> list[Notice]:
    """What a person was told, newest first. Raises InvalidInput."""
    return notices.list_notices(valid.handle(person), valid.page_size(limit, NOTICES_PAGE))


def read_out_notices(person: str, *, now: datetime | None = None) -> list[Notice]:
    """The person's unread notices, oldest first, marked read: the skill says them before its answer. One query,
    and one write per notice read out."""
    unread = notices.list_notices(valid.handle(person), NOTICES_SPOKEN, unread_only=True)
    if unread:
        notices.mark_read(person, [notice.notice_id for notice in unread], keys.utc(clock.at(now)))
    return list(reversed(unread))


def notices_for_change(record: str, old_image: dict[str, Any] | None, new_image: dict[str, Any] | None) -> list[Notice]:
    """Who one stream record tells what (`record`: INSERT, MODIFY or REMOVE; images as DynamoDB JSON). Empty
    when it tells nobody anything, or the event it names is gone by now (its deletion tells its own)."""
    change = notices.what_changed(record, old_image, new_image)
    if change is None:
        return []
    if change.what == "moved":
        change = _as_the_event_is_now(change)
        if change is None:
            return []
    name = change.event_name
    if name is None:
        event = notices.event_now(change.event_id)
        if event is None:
            return []
        name = event.name
    if change.people is not None:
        persons = change.people
    elif change.what == "reminder":
        persons = tuple(reminding.going_before(change.event_id, change.at))
    else:
        persons = tuple(notices.signed_up(change.event_id))
    text = _notice_text(change._replace(event_name=name))
    return [Notice(person, change.what, change.event_id, name, text, change.at) for person in persons]


def _as_the_event_is_now(change: Change) -> Change | None:
    """Changes that arrive together tell one notice of the state they left: a move followed by another tells
    nothing (the later one tells), and the latest tells the event as it is now. None: a later move will tell, or
    the event is gone (its deletion tells)."""
    if notices.moved_later(change.event_id, change.at):
        return None
    event = notices.event_now(change.event_id)
    if event is None:
        return None
    return change._replace(event_name=event.name, starts_at=event.starts_at, location=event.location)


def change_correlation(record: dict[str, Any]) -> str | None:
    """The id of the request that made the change one stream record tells of, when its item keeps it."""
    return notices.correlation_of((record.get("dynamodb") or {}).get("NewImage"))


def _notice_text(change) -> str:
    if change.what == "promoted":
        return f"Good news: you got a seat on {change.event_name}."
    if change.what == "moved":
        starts = change.starts_at
        where = f", at {change.location}" if change.location else ""
        return f"{change.event_name} has changed: it now starts {told(starts)}{where}."
    if change.what == "deleted":
        return f"{change.event_name} is called off."
    if change.what == "reminder":
        return reminding.text(change.event_name, change.starts_at, change.location)
    return f"An organizer cancelled your signup for {change.event_name}."


def store_notice(notice: Notice) -> Recipient | None:
    """Keeps the notice once; who to send it to and on which channels, or None when it was sent already (a
    repeated stream record, or a retried batch), or a reminder for someone who turned reminders off."""
    if notice.what == "reminder":
        recipient = people.recipient(notice.person)
        return recipient if recipient.person.reminders and notices.store_notice(notice) else None
    if not notices.store_notice(notice):
        return None
    return people.recipient(notice.person)


def notice_sent(notice: Notice, *, now: datetime | None = None) -> None:
    """Marks the notice sent, so a retried record does not send it again."""
    notices.mark_delivered(notice, keys.utc(clock.at(now)))
