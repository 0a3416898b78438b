"""Core service: series - events that repeat. A series makes its occurrences ahead (core.recurrence.HORIZON), each a
real event with the series' id; notify/schedule.py's run keeps it going. Changing one occurrence or cancelling it is
the event's own PATCH or DELETE; a change of "this and all later" and the end of a series go through here, and reuse
the event services, so everyone signed up is told as for any event."""
from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from datetime import timezone as tz_utc
from typing import Any
from zoneinfo import ZoneInfo

from core import clock, errors, fields, keys, recurrence
from core import validation as valid
from core.member_values import Series
from core.services.events import delete_event, update_event
from core.store import series as store
from core.values import DEFAULT_REMINDERS, Event

# A run makes at most this many occurrences of one series in one transaction (a weekly one makes nine at first);
# one that has more due is still due, and the next run goes on.
MAKE_MAX = 20
CHANGES = frozenset({"from_event_id", "time", "minutes", *fields.SERIES_SHARED})


def create_series(*, repeat: dict, now: datetime | None = None, **given: Any) -> tuple[Series, list[Event]]:
    """given: the event fields a series repeats (core.fields.EVENT). starts_at is the first occurrence (its wall-clock
    time is every occurrence's, in `timezone`); ends_at, if given, sets how long each lasts. The series and the
    occurrences due now are written in one transaction. Raises InvalidInput."""
    fields.unknown(given, fields.REPEATS)
    texts = fields.texts(given, new=True)
    if given.get("starts_at") is None:
        raise errors.InvalidInput("starts_at is required.", "starts_at")
    starts_at, timezone, ends_at = given["starts_at"], given.get("timezone"), given.get("ends_at")
    capacity, reminders = given.get("capacity"), given.get("reminders")
    moment = clock.at(now)
    tz = valid.timezone(timezone) if timezone is not None else valid.zone_of_offset(starts_at)
    first = valid.instant(starts_at, "starts_at", tz).replace(second=0, microsecond=0)
    end = valid.instant(ends_at, "ends_at", tz) if ends_at is not None else None
    valid.event_times(first, end)
    rule = recurrence.parse(repeat, first.date())
    series = Series(
        series_id="".join(secrets.choice(keys.ID_ALPHABET) for _ in range(10)),
        **texts,
        first=first, at=time(first.hour, first.minute),
        minutes=_minutes_between(first, end) if end is not None else None, timezone=tz,
        capacity=valid.capacity(capacity),
        reminders=valid.reminders(reminders) if reminders is not None else DEFAULT_REMINDERS,
        repeat=rule, next_index=0, occurrences={}, created_at=moment.astimezone(ZoneInfo(tz)))
    if _occurrence(series, 0, first.date(), moment).closes_at <= moment:
        raise errors.InvalidInput("The first occurrence would already be over.", "starts_at")
    made, next_index, due = _plan(series, moment)
    made_now = [event for event in made if event is not None]
    stored = store.put_series(series._replace(next_index=next_index, occurrences={
        index: event.event_id for index, event in enumerate(made) if event is not None}), made_now, due)
    return stored, made_now


def get_series(series_id: str, *, now: datetime | None = None) -> tuple[Series, list[Event]]:
    """The series and its occurrences not yet over, soonest first. Raises SeriesNotFound."""
    series = store.get_series(valid.series_id(series_id))
    return series, _ahead(series, clock.at(now))


def make_due_occurrences(*, now: datetime | None = None) -> list[str]:
    """Every series whose next occurrence is due gets it (and any others due): one query finds them, then one read
    and one transaction each. The ids of the events made."""
    moment = clock.at(now)
    made_ids: list[str] = []
    for series_id in store.due_series(moment):
        try:
            series = store.get_series(series_id)
        except errors.SeriesNotFound:
            continue
        if series.ended_at is not None:
            continue
        made, next_index, due = _plan(series, moment)
        if store.advance(series, made, next_index, due):
            made_ids += [event.event_id for event in made if event is not None]
    return made_ids


def change_series(series_id: str, changes: dict[str, Any], *,
                  now: datetime | None = None) -> tuple[Series, list[Event], list[tuple[str, errors.TurnoutError]]]:
    """Changes this occurrence and all later ones: those made already that have not started, from `from_event_id`
    on (left out: every one not yet started), each through the event's own change (people signed up are told when
    it moves), and the ones made from now on. `time` is the new wall-clock start (HH:MM), `minutes` the length.
    Returns the series, the occurrences ahead, and each occurrence the change was refused for (a capacity below
    its seats taken) with why. Raises InvalidInput, SeriesNotFound, NotInSeries."""
    if not isinstance(changes, dict):
        raise errors.InvalidInput("The changes must be a JSON object.")
    unknown = sorted(set(changes) - CHANGES)
    if unknown:
        raise errors.InvalidInput(f"Unknown field {unknown[0]!r}.", unknown[0])
    if not set(changes) - {"from_event_id"}:
        raise errors.InvalidInput("Give at least one change besides from_event_id.")
    moment = clock.at(now)
    series = store.get_series(valid.series_id(series_id))
    changed = _changed(series, changes)
    from_index = 0
    if changes.get("from_event_id") is not None:
        wanted = valid.event_id(changes["from_event_id"])
        indexes = [index for index, event_id in series.occurrences.items() if event_id == wanted]
        if not indexes:
            raise errors.NotInSeries(series.series_id, wanted)
        from_index = indexes[0]
    store.change(series, changed)
    patch: dict[str, Any] = {name: changes[name] for name in fields.SERIES_SHARED if name in changes}
    refused: list[tuple[str, errors.TurnoutError]] = []
    for index, event in sorted(store.occurrence_events(series).items()):
        if index < from_index or event.starts_at <= moment:
            continue
        event_patch: dict[str, Any] = dict(patch)
        if "time" in changes or "minutes" in changes:
            starts = (recurrence.start(event.starts_at.date(), changed.at, event.timezone) if "time" in changes
                      else event.starts_at)
            event_patch["starts_at"] = starts.isoformat()
            event_patch["ends_at"] = (_after(starts, changed.minutes).isoformat()
                                      if changed.minutes is not None else None)
        try:
            update_event(event.event_id, event_patch, now=moment)
        except errors.EventNotFound:
            continue  # cancelled meanwhile
        except (errors.Conflict, errors.InvalidInput) as refusal:
            refused.append((event.event_id, refusal))
    return changed, _ahead(changed, moment), refused


def end_series(series_id: str, *, now: datetime | None = None) -> tuple[Series, list[str]]:
    """No more occurrences are made, and those made that have not started are cancelled (everyone signed up is
    told, as for any deleted event). Returns the series and the ids cancelled. Raises SeriesNotFound."""
    moment = clock.at(now)
    series = store.end(store.get_series(valid.series_id(series_id)), moment)
    cancelled = []
    for _, event in sorted(store.occurrence_events(series).items()):
        if event.starts_at <= moment:
            continue
        try:
            delete_event(event.event_id, now=moment)
        except errors.EventNotFound:
            continue
        cancelled.append(event.event_id)
    return series, cancelled


def _changed(series: Series, changes: dict[str, Any]) -> Series:
    given: dict[str, Any] = fields.texts(changes)
    if "time" in changes:
        hour, minute = valid.clock_time(changes["time"]).split(":")
        given["at"] = time(int(hour), int(minute))
    if "minutes" in changes:
        given["minutes"] = valid.minutes(changes["minutes"])
    if "capacity" in changes:
        given["capacity"] = valid.capacity(changes["capacity"])
    if "reminders" in changes:
        chosen = changes["reminders"]
        given["reminders"] = valid.reminders(chosen) if chosen is not None else DEFAULT_REMINDERS
    return series._replace(**given)


def _plan(series: Series, now: datetime) -> tuple[list[Event | None], int, datetime | None]:
    """The occurrences due by `now` from the series' next one on (None for one already over: skipped, never made),
    the index after them, and when the next is due (None: the series has no more)."""
    first, index = series.first.date(), series.next_index
    made: list[Event | None] = []
    while len(made) < MAKE_MAX:
        day = recurrence.occurrence(series.repeat, first, index)
        if day is None:
            break
        if index >= recurrence.AHEAD_MIN:
            due = recurrence.due(series.repeat, first, series.at, series.timezone, index)
            if due is not None and due > now:
                break
        event = _occurrence(series, index, day, now)
        made.append(event if event.closes_at > now else None)
        index += 1
    return made, index, recurrence.due(series.repeat, first, series.at, series.timezone, index)


def _occurrence(series: Series, index: int, day: date, now: datetime) -> Event:
    starts = recurrence.start(day, series.at, series.timezone)
    return Event(
        event_id=keys.occurrence(series.series_id, index), **fields.texts_of(series),
        starts_at=starts, ends_at=_after(starts, series.minutes) if series.minutes is not None else None,
        timezone=series.timezone,
        capacity=series.capacity, going=0, waitlisted=0, spots_left=series.capacity, seats_taken=0,
        created_at=now.astimezone(starts.tzinfo), reminders=series.reminders, series_id=series.series_id)


def _minutes_between(start: datetime, end: datetime) -> int:
    """Real minutes (two aware times in one zone subtract as wall-clock readings, an hour off on a night the clocks
    change)."""
    return int((end.astimezone(tz_utc.utc) - start.astimezone(tz_utc.utc)).total_seconds() // 60)


def _after(starts: datetime, minutes: int) -> datetime:
    """The end `minutes` of real time after the start (not of wall-clock time: a night the clocks change)."""
    return (starts.astimezone(tz_utc.utc) + timedelta(minutes=minutes)).astimezone(starts.tzinfo)


def _ahead(series: Series, now: datetime) -> list[Event]:
    return sorted((event for event in store.occurrence_events(series).values() if event.closes_at > now),
                  key=lambda event: event.starts_at)
