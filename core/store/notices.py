"""Core store: notices - the changes that concern people (as the stream delivers them) and what each person was told."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.attributes import JSONAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError

from core import keys, logs
from core.member_values import Change, Notice
from core.store import transactions as tx
from core.table import EventItem, SignupItem, TurnoutItem
from core.values import Event


class NoticeItem(TurnoutItem, discriminator="notice"):
    """One thing a person was told, once: its key comes from the change it tells of (core.keys.notice)."""

    person = UnicodeAttribute()
    what = UnicodeAttribute()  # promoted | moved | deleted | cancelled | reminder
    event_id = UnicodeAttribute()
    event_name = UnicodeAttribute()
    text = UnicodeAttribute()
    at = UnicodeAttribute()  # UTC, keys.utc format: when the change happened
    delivered_at = UnicodeAttribute(null=True)  # set once SNS and the button were sent it
    read_at = UnicodeAttribute(null=True)  # set once the skill read it out


class ChangeItem(TurnoutItem, discriminator="change"):
    """An organizer's change that concerns people, kept a day for the stream (core.store.notices): an event moved or
    deleted, a signup cancelled by an organizer; or a reminder fallen due (core.reminders), `at` its due time. The event
    item's own stream records cannot say it: every sign-up changes that item too, and a filter cannot compare its old
    and new image."""

    what = UnicodeAttribute()  # moved | deleted | cancelled | reminder
    event_id = UnicodeAttribute()
    event_name = UnicodeAttribute()
    starts_at = UnicodeAttribute()  # UTC, as the change left it
    timezone = UnicodeAttribute()
    location = UnicodeAttribute(null=True)
    at = UnicodeAttribute()  # UTC
    people = JSONAttribute(null=True)  # deleted: who was signed up (the signups are gone with the event)
    person = UnicodeAttribute(null=True)  # cancelled: whose signup
    # The id of the request that made the change (core.logs): notify/ logs its notices under it.
    correlation_id = UnicodeAttribute(null=True)


# A change item only has to outlive the stream's retries (24 hours); a notice is kept a month.
CHANGE_KEPT_DAYS = 2
NOTICE_KEPT_DAYS = 30
# Handles per change item of a deleted event: well under DynamoDB's 400 KB an item.
PEOPLE_PER_CHANGE = 500


def from_image(image: dict[str, Any] | None) -> TurnoutItem | None:
    """A stream record's image (DynamoDB JSON) as its model; None for no image or an item of no known kind."""
    if not image or "kind" not in image:
        return None
    try:
        return TurnoutItem.from_raw_data(image)
    except ValueError:
        return None


def what_changed(event_name: str, old_image: dict[str, Any] | None, new_image: dict[str, Any] | None) -> Change | None:
    """What one stream record tells people, if anything: a waitlisted signup now going, or a change item an
    organizer's action left. Everything else (the stream carries every write) tells nobody anything."""
    old, new = from_image(old_image), from_image(new_image)
    if (event_name == "MODIFY" and isinstance(old, SignupItem) and isinstance(new, SignupItem)
            and old.status == "waitlisted" and new.status == "going"):
        # The going order holds the moment of the promotion: a repeated record names the same one.
        went_at = new.status_order[len(keys.GOING_PREFIX):].rpartition("#")[0]
        return Change("promoted", new.event_id, None, keys.from_utc(went_at), (new.person,))
    if event_name == "INSERT" and isinstance(new, ChangeItem):
        if new.what in ("moved", "reminder"):
            starts = keys.from_utc(new.starts_at).astimezone(ZoneInfo(new.timezone))
            return Change(new.what, new.event_id, new.event_name, keys.from_utc(new.at), None, starts, new.location)
        people = tuple(new.people or ()) if new.what == "deleted" else (new.person,)
        return Change(new.what, new.event_id, new.event_name, keys.from_utc(new.at), people)
    return None


def correlation_of(image: dict[str, Any] | None) -> str | None:
    """The id of the request that left a change item, from its stream image; None for any other item."""
    if not image or (image.get("kind") or {}).get("S") != "change":
        return None
    return (image.get(ChangeItem.correlation_id.attr_name) or {}).get("S")


def change(event: Event, what: str, at: str, part: str = "", *, people: list[str] | None = None,
           person: str | None = None) -> ChangeItem:
    """Word of an organizer's change, for the stream to carry to notify/ (`at`: keys.utc text)."""
    return ChangeItem(*keys.change(event.event_id, at, what, part), what=what, event_id=event.event_id,
                      event_name=event.name, starts_at=keys.utc(event.starts_at), timezone=event.timezone,
                      location=event.location, at=at, people=people, person=person,
                      correlation_id=logs.correlation_id(),
                      expires=keys.from_utc(at) + timedelta(days=CHANGE_KEPT_DAYS))


def cancel_told(person: str, at: str) -> Callable[[Event], list[tx.Write]]:
    """Word of an organizer's cancel of `person`'s signup, for the cancel's own transaction to write."""
    return lambda event: [tx.put("change", change(event, "cancelled", at, person, person=person))]


@tx.faults_as_busy
def put_change(event: Event, what: str, at: str, part: str = "", *, people: list[str] | None = None) -> None:
    """A change left on its own, after the change it tells of (an event moved or deleted)."""
    change(event, what, at, part, people=people).save()


@tx.faults_as_busy
def event_now(event_id: str) -> Event | None:
    """The event as it is now (what it is called, when and where; not its counts), or None once it is gone."""
    try:
        return EventItem.get(*keys.event(event_id), consistent_read=True).value(counted=False)
    except EventItem.DoesNotExist:
        return None


@tx.faults_as_busy
def moved_later(event_id: str, at: datetime) -> bool:
    """Whether the event was moved again after the move made at `at`: that later move's own change item is on
    the stream (it is written after the move it tells of), and its notice tells the state both left."""
    pk, sk = keys.change(event_id, keys.utc(at), "moved")
    later = ChangeItem.query(pk, ChangeItem.sk > sk, filter_condition=ChangeItem.what == "moved",
                             consistent_read=True, attributes_to_get=["kind", "pk", "sk", "what"])
    return any(True for _ in later)


@tx.faults_as_busy
def signed_up(event_id: str) -> list[str]:
    """Everyone signed up for the event, going then waiting."""
    found = TurnoutItem.by_status.query(keys.event_partition(event_id),
                                        TurnoutItem.status_order.between(keys.GOING_PREFIX, keys.AFTER_WAITLIST),
                                        consistent_read=True, attributes_to_get=["kind", "pk", "sk", "person"])
    return [item.person for item in found if isinstance(item, SignupItem)]


@tx.faults_as_busy
def store_notice(notice: Notice) -> bool:
    """Stores the notice unless it is stored already; True when it still has to be sent (new, or stored by a
    delivery that failed before it was sent)."""
    pk, sk = keys.notice(notice.person, keys.utc(notice.at), notice.what, notice.event_id)
    item = NoticeItem(pk, sk, person=notice.person, what=notice.what, event_id=notice.event_id,
                      event_name=notice.event_name, text=notice.text, at=keys.utc(notice.at),
                      expires=notice.at + timedelta(days=NOTICE_KEPT_DAYS))
    try:
        item.save(condition=NoticeItem.pk.does_not_exist())
        return True
    except PutError as exc:
        if not tx.refused_by_condition(exc):
            raise
    stored = NoticeItem.get(pk, sk, consistent_read=True)
    return stored.delivered_at is None


@tx.faults_as_busy
def mark_delivered(notice: Notice, at: str) -> None:
    NoticeItem(*keys.notice(notice.person, keys.utc(notice.at), notice.what, notice.event_id)).update(
        actions=[NoticeItem.delivered_at.set(at)])


def _value(item: NoticeItem) -> Notice:
    return Notice(item.person, item.what, item.event_id, item.event_name, item.text, keys.from_utc(item.at),
                  read=item.read_at is not None, notice_id=item.sk[len(keys.NOTICE_PREFIX):])


@tx.faults_as_busy
def list_notices(handle: str, limit: int, *, unread_only: bool = False) -> list[Notice]:
    """Newest first."""
    pk, _ = keys.person(handle)
    condition = NoticeItem.read_at.does_not_exist() if unread_only else None
    found = NoticeItem.query(pk, NoticeItem.sk.startswith(keys.NOTICE_PREFIX), filter_condition=condition,
                             scan_index_forward=False, limit=limit, consistent_read=True)
    return [_value(item) for item in found if isinstance(item, NoticeItem)]


@tx.faults_as_busy
def mark_read(handle: str, notice_ids: list[str], at: str) -> None:
    pk, _ = keys.person(handle)
    for notice_id in notice_ids:
        try:
            NoticeItem(pk, keys.NOTICE_PREFIX + notice_id).update(actions=[NoticeItem.read_at.set(at)],
                                                                  condition=NoticeItem.pk.exists())
        except UpdateError as exc:
            if not tx.refused_by_condition(exc):  # expired in the meantime: nothing left to mark
                raise
