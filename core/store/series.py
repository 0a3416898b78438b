"""Core store: series - each series' item (what its occurrences are made from, how far it has got), the due ones
found by one query of by_start's series partition (never a scan), and its occurrences written with it in one
transaction, so two runs at once make each occurrence once."""
from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from core import errors, fields, keys, recurrence
from core.member_values import Series
from core.store import transactions as tx
from core.table import EventItem, TurnoutItem
from core.values import DEFAULT_REMINDERS, Event

# The latest occurrences a series keeps the ids of: enough for every one not yet over (a weekly series makes about
# nine within recurrence.HORIZON), so a button bound to it and a change of "this and later" find them by key.
KEPT = 16
BATCH_GET_MAX = 100
# What the next-occurrence read takes of each event: enough to choose one, not its counts.
CHOSEN = [TurnoutItem.pk.attr_name, TurnoutItem.sk.attr_name, EventItem.kind.attr_name, "event_id", "name",
          "starts_at", "ends_at", "closes_at", "signups_close_at", "timezone", "created_at", "series_id"]


class SeriesItem(TurnoutItem, discriminator="series"):
    """A series under keys.series; in by_start under keys.SERIES_DUE_PARTITION while it still has occurrences to
    make, sorted by when the next is due (keys.series_due_order)."""

    series_id = UnicodeAttribute()
    name = UnicodeAttribute()
    first = UnicodeAttribute()  # UTC, keys.utc: the first occurrence's start
    at = UnicodeAttribute()  # HH:MM, the wall-clock start of occurrences made from now on
    minutes = NumberAttribute(null=True)
    timezone = UnicodeAttribute()
    location = UnicodeAttribute(null=True)
    description = UnicodeAttribute(null=True)
    capacity = NumberAttribute(null=True)
    reminders = JSONAttribute(null=True)  # None: DEFAULT_REMINDERS
    repeat = JSONAttribute()  # recurrence.to_json
    next_index = NumberAttribute()
    occurrences = JSONAttribute()  # {"index": event id} of the latest KEPT
    created_at = UnicodeAttribute()
    ended_at = UnicodeAttribute(null=True)

    def value(self) -> Series:
        tz = ZoneInfo(self.timezone)
        hour, minute = self.at.split(":")
        return Series(
            series_id=self.series_id, **fields.texts_of(self),
            first=keys.from_utc(self.first).astimezone(tz),
            at=time(int(hour), int(minute)), minutes=int(self.minutes) if self.minutes is not None else None,
            timezone=self.timezone, capacity=int(self.capacity) if self.capacity is not None else None,
            reminders=tuple(self.reminders) if self.reminders is not None else DEFAULT_REMINDERS,
            repeat=recurrence.from_json(self.repeat), next_index=int(self.next_index),
            occurrences={int(index): event_id for index, event_id in (self.occurrences or {}).items()},
            created_at=keys.from_utc(self.created_at).astimezone(tz),
            ended_at=keys.from_utc(self.ended_at).astimezone(tz) if self.ended_at else None)


def _kept(occurrences: dict[int, str]) -> dict[str, str]:
    return {str(index): occurrences[index] for index in sorted(occurrences)[-KEPT:]}


def _due_keys(series_id: str, due: datetime | None) -> dict:
    if due is None:
        return {"start_partition": None, "start_order": None}
    return {"start_partition": keys.SERIES_DUE_PARTITION, "start_order": keys.series_due_order(due, series_id)}


@tx.faults_as_busy
def put_series(series: Series, made: list[Event], due: datetime | None) -> Series:
    """The new series and its first occurrences, in one transaction."""
    item = SeriesItem(
        *keys.series(series.series_id), **_due_keys(series.series_id, due) | fields.texts_of(series),
        series_id=series.series_id, first=keys.utc(series.first),
        at=f"{series.at:%H:%M}", minutes=series.minutes, timezone=series.timezone, capacity=series.capacity,
        reminders=list(series.reminders) if series.reminders != DEFAULT_REMINDERS else None,
        repeat=recurrence.to_json(series.repeat), next_index=series.next_index,
        occurrences=_kept(series.occurrences), created_at=keys.utc(series.created_at))
    writes = [tx.put("series", item, SeriesItem.pk.does_not_exist())]
    writes += [tx.put(f"event{n}", EventItem.of(event), EventItem.pk.does_not_exist()) for n, event in enumerate(made)]
    try:
        tx.commit(writes)
    except (tx.Refused, tx.Retry):
        raise errors.Busy() from None  # an id drawn twice: try again
    return series


@tx.faults_as_busy
def get_series(series_id: str) -> Series:
    """Raises SeriesNotFound."""
    try:
        return SeriesItem.get(*keys.series(series_id), consistent_read=True).value()
    except DoesNotExist:
        raise errors.SeriesNotFound(series_id) from None


@tx.faults_as_busy
def due_series(now: datetime) -> list[str]:
    """The ids of the series whose next occurrence is due by `now`: one query of by_start's series partition."""
    found = TurnoutItem.by_start.query(keys.SERIES_DUE_PARTITION,
                                       TurnoutItem.start_order <= keys.series_due_order(now, "~"))
    return [item.pk.split("#", 1)[1] for item in found]


@tx.faults_as_busy
def advance(series: Series, made: list[Event | None], next_index: int, due: datetime | None) -> bool:
    """Writes the occurrences made and moves the series on past them, in one transaction: conditional on the series
    being where it was read and not ended, so a second run at the same moment makes nothing. False: refused."""
    occurrences = dict(series.occurrences)
    indexes = range(series.next_index, next_index)
    occurrences.update({index: event.event_id for index, event in zip(indexes, made, strict=False)
                        if event is not None})
    moved = _due_keys(series.series_id, due)
    actions = [SeriesItem.next_index.set(next_index), SeriesItem.occurrences.set(_kept(occurrences))]
    if due is None:
        actions += [SeriesItem.start_partition.remove(), SeriesItem.start_order.remove()]
    else:
        actions += [SeriesItem.start_partition.set(moved["start_partition"]),
                    SeriesItem.start_order.set(moved["start_order"])]
    condition = (SeriesItem.next_index == series.next_index) & SeriesItem.ended_at.does_not_exist()
    writes = [tx.update("series", SeriesItem(*keys.series(series.series_id)), actions, condition)]
    writes += [tx.put(f"event{n}", EventItem.of(event), EventItem.pk.does_not_exist())
               for n, event in enumerate(made) if event is not None]
    try:
        tx.commit(writes)
    except (tx.Refused, tx.Retry):
        return False  # made by another run, or ended meanwhile; a conflict is tried again by the next run
    return True


@tx.faults_as_busy
def change(series: Series, changed: Series) -> Series:
    """What occurrences made from now on are made from; conditional on the series not having moved on meanwhile."""
    stored = SeriesItem.get_attributes()
    actions: list[Action] = [
               *(stored[name].set(getattr(changed, name)) if getattr(changed, name) is not None
                 else stored[name].remove() for name in fields.TEXT),
               SeriesItem.at.set(f"{changed.at:%H:%M}"),
               SeriesItem.minutes.set(changed.minutes) if changed.minutes is not None else SeriesItem.minutes.remove(),
               (SeriesItem.capacity.set(changed.capacity) if changed.capacity is not None
                else SeriesItem.capacity.remove()),
               (SeriesItem.reminders.set(list(changed.reminders)) if changed.reminders != DEFAULT_REMINDERS
                else SeriesItem.reminders.remove())]
    try:
        SeriesItem(*keys.series(series.series_id)).update(
            actions=actions, condition=SeriesItem.next_index == series.next_index)
    except UpdateError as exc:
        if tx.refused_by_condition(exc):
            raise errors.Busy() from None  # a run made an occurrence meanwhile: try again
        raise
    return changed


@tx.faults_as_busy
def end(series: Series, at: datetime) -> Series:
    """No more occurrences: the series leaves the due partition. Raises SeriesNotFound."""
    try:
        SeriesItem(*keys.series(series.series_id)).update(
            actions=[SeriesItem.ended_at.set(keys.utc(at)), SeriesItem.start_partition.remove(),
                     SeriesItem.start_order.remove()],
            condition=SeriesItem.pk.exists())
    except UpdateError as exc:
        if tx.refused_by_condition(exc):
            raise errors.SeriesNotFound(series.series_id) from None
        raise
    return series._replace(ended_at=at)


@tx.faults_as_busy
def occurrence_events(series: Series) -> dict[int, Event]:
    """The series' kept occurrences that still exist, by index, as described (no counts): one BatchGetItem."""
    wanted = [keys.event(event_id) for event_id in series.occurrences.values()]
    index_of = {event_id: index for index, event_id in series.occurrences.items()}
    found: dict[int, Event] = {}
    for first in range(0, len(wanted), BATCH_GET_MAX):
        for got in EventItem.batch_get(wanted[first:first + BATCH_GET_MAX], consistent_read=True,
                                       attributes_to_get=CHOSEN):
            found[index_of[got.event_id]] = got.value(counted=False)
    return found
