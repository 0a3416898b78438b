"""Core, the button's part of the services: a click answered - signed up, cancelled or checked in - with its outcome
stored once under its click id. The IoT function imports this module and not core.services, so its cold start
builds none of the models and values only the API, the skill and the notifier use (people, notices, pairing)."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from core import clock, errors, lines, metrics, rules, topics
from core import validation as valid
from core.config import settings
from core.store import devices, events, requests, signups
from core.values import Cancelled, Device, Event, EventRef, Press, Signup, SignupOutcome


def next_event(*, now: datetime | None = None, taking_signups: bool = False) -> Event:
    """The soonest event not yet over; with taking_signups, the soonest whose sign-ups are still open (one that
    has started is listed until it ends, but takes no new signups). As described, without its counts
    (Event.counted). Raises NoUpcomingEvent."""
    found, _ = events.upcoming_events(clock.at(now), 1, None, valid.EVENT_LENGTH_MAX + timedelta(days=1),
                                      only_taking_signups=taking_signups, counts=False)
    if not found:
        raise errors.NoUpcomingEvent()
    return found[0]


def next_occurrence(series_id: str, *, now: datetime | None = None, taking_signups: bool = False) -> Event:
    """The soonest occurrence of the series not yet over (with taking_signups, whose sign-ups are open), as
    described: the series' item, then one batch read of its latest occurrences. Raises SeriesNotFound,
    NoUpcomingEvent."""
    from core.store import series as series_store  # here: only a series' button pays its import at a cold start

    moment = clock.at(now)
    found = [event for event in series_store.occurrence_events(series_store.get_series(series_id)).values()
             if event.closes_at > moment and (not taking_signups or event.signups_until > moment)]
    if not found:
        raise errors.NoUpcomingEvent()
    return min(found, key=lambda event: event.starts_at)


CLICKS = topics.CLICK_TYPES


def press_button(serial: str, click: str, *, request_id: str, invocation: str | None = None,
                 now: datetime | None = None) -> Press:
    """One click of a button: SINGLE signs its person up for its event (the next one when it has none; a button
    bound to a series, the series' next occurrence),
    DOUBLE cancels that signup, LONG checks in. Its outcome - a refusal too - is stored once under
    request_id with the click's effect, so a repeated delivery changes nothing and gets the first outcome
    with answer=False, unless it comes from the same invocation (Lambda's own retry of a delivery that failed
    before it answered). A button bound to an event costs two table calls: its binding, one transaction (the binding
    carries its person's display name, for the signup).
    Raises Busy (the delivery should be retried); a domain refusal is an outcome, never raised."""
    moment = clock.at(now)
    request_id = valid.request_id(request_id)
    # A click is the request, whichever event it comes to: a repeated delivery replays it even after a rebinding.
    fingerprint = rules.request("press", serial, click)
    note: dict[str, Any] = {"by": invocation}
    try:
        if click not in CLICKS:
            raise errors.InvalidInput(f"A click is one of {', '.join(CLICKS)}.", "click")
        device = devices.get_device(valid.serial(serial))
        if device.series_id is not None:  # the series' next occurrence, whichever that is now
            found = next_occurrence(device.series_id, now=moment, taking_signups=click == "SINGLE")
            event, remembered = EventRef.of(found), False
        elif device.event_id is not None and device.event_name is not None and device.event_starts_at is not None:
            event = EventRef(device.event_id, device.event_name, device.event_starts_at)
            remembered = True
        else:
            found = (
                events.get_event(device.event_id)
                if device.event_id
                else next_event(now=moment, taking_signups=click == "SINGLE")
            )
            event, remembered = EventRef.of(found), False
        note["event"] = _ref_json(event)
        if click == "SINGLE":
            outcome, event = _sign_up_button(device, event, remembered, request_id, fingerprint, note, moment)
            metrics.signed_up(outcome)
            name = _signed_up(outcome.created, outcome.signup)
            if outcome.replayed:
                return _replayed(click, outcome.note, name, outcome.signup, invocation)
            return Press(click, name, event, *_standing(outcome.signup), None, True, lines.why_in_line(outcome))
        if click == "DOUBLE":
            cancellation = signups.cancel_signup(event.event_id, device.person, request_id=request_id, now=moment,
                                                    fingerprint=fingerprint, note=note)
            metrics.done(metrics.CANCELS, cancellation)
            if cancellation.replayed:
                return _replayed(click, cancellation.note, "cancelled", cancellation.cancelled, invocation)
            event = _as_read(device, event, remembered, cancellation.event)
            return Press(click, "cancelled", event, *_standing(cancellation.cancelled), None, True)
        checked = signups.check_in(event.event_id, device.person, now=moment, request_id=request_id, note=note,
                                      fingerprint=fingerprint,
                                      opens_before=timedelta(minutes=settings.check_in_opens_minutes))
        metrics.done(metrics.CHECK_INS, checked)
        if checked.replayed:
            return _replayed(click, checked.note, "checked_in", checked.signup, invocation)
        event = _as_read(device, event, remembered, checked.event)
        return Press(click, "checked_in", event, *_standing(checked.signup), None, True)
    except requests.RequestUsed as used:
        return _from_stored(click, used.outcome, invocation)
    except errors.Busy:
        raise
    except errors.TurnoutError as refusal:
        return refuse_click(click, refusal, request_id=request_id, invocation=invocation, now=moment, note=note,
                            serial=serial)


def refuse_click(click: str | None, refusal: errors.TurnoutError, *, request_id: str, invocation: str | None = None,
                 now: datetime | None = None, note: dict[str, Any] | None = None, serial: str | None = None) -> Press:
    """A click that is refused (a message its edge could not read, or a domain refusal) stores the refusal as
    its outcome, once, like any other; answer as in press_button."""
    return _refuse(click, refusal, valid.request_id(request_id), rules.request("press", serial, click),
                   invocation, clock.at(now), note)


def _refuse(click: str | None, refusal: errors.TurnoutError, request_id: str, fingerprint: str,
            invocation: str | None, now: datetime, note: dict[str, Any] | None, *, apart: bool = False) -> Press:
    stored = {"kind": "refused", "error": {"code": refusal.code, "message": refusal.message},
              "note": note or {"by": invocation}}
    try:
        first = requests.store_outcome(request_id, stored, now, fingerprint)
    except errors.RequestIdReused as reused:
        if apart:  # the id kept apart is taken too: answered, not kept
            return Press(click, "error", None, None, None, (reused.code, reused.message), True)
        # The click id holds another click's outcome: this click's refusal is kept under the id and what this
        # click asked, so its own repeated deliveries are answered once too.
        kept_apart = f"{request_id}:reused:{hashlib.sha256(fingerprint.encode()).hexdigest()[:16]}"
        return _refuse(click, reused, kept_apart, fingerprint, invocation, now, note, apart=True)
    return _from_stored(click, stored if first is None else first, invocation, answer=first is None)


def _sign_up_button(device: Device, event: EventRef, remembered: bool, request_id: str, fingerprint: str,
                    note: dict[str, Any], moment: datetime) -> tuple[SignupOutcome, EventRef]:
    """A sign-up checked against what the binding remembers of its event; a stale memory is refreshed once."""
    # The signup carries the person's display name, as the binding remembers it (set_person keeps it current).
    name = device.person_name
    try:
        return signups.sign_up(event.event_id, device.person, name=name, guests=0, source="iot", waitlist=True,
                                  request_id=request_id, now=moment, fingerprint=fingerprint, note=note,
                                  expect=event if remembered else None), event
    except signups.StaleCopy as stale:
        devices.remember_event(device.serial, stale.event)
        fresh = EventRef.of(stale.event)
        note["event"] = _ref_json(fresh)
        return signups.sign_up(fresh.event_id, device.person, name=name, guests=0, source="iot", waitlist=True,
                                  request_id=request_id, now=moment, fingerprint=fingerprint, note=note,
                                  expect=fresh), fresh


def _as_read(device: Device, remembered: EventRef, was_remembered: bool, read: Event | None) -> EventRef:
    """A cancel or check-in read the event anyway: its answer names the event as it is now, and a binding
    that remembered it otherwise is brought up to date."""
    if read is None:
        return remembered
    if was_remembered and not remembered.names(read):
        devices.remember_event(device.serial, read)
    return EventRef.of(read)


def _standing(signup: Signup | Cancelled) -> tuple[str, int | None]:
    """Status and place of a signup (a cancelled one's place is not known)."""
    return signup.status, signup.position if isinstance(signup, Signup) else None


def _signed_up(created: bool, signup: Signup) -> str:
    if not created:
        return "already_signed_up"
    return "waitlisted" if signup.status == "waitlisted" else "signed_up"


def _answers(note: dict[str, Any], invocation: str | None) -> bool:
    """A replayed outcome is answered only by the invocation that stored it (Lambda's retry of it)."""
    return invocation is not None and note.get("by") == invocation


def _ref_json(event: EventRef) -> dict[str, str]:
    return {"event_id": event.event_id, "name": event.name, "starts_at": event.starts_at.isoformat()}


def _ref(data: dict[str, str] | None) -> EventRef | None:
    if not data:
        return None
    return EventRef(data["event_id"], data["name"], datetime.fromisoformat(data["starts_at"]))


def _replayed(click: str, note: dict[str, Any] | None, outcome: str, signup: Signup | Cancelled,
              invocation: str | None) -> Press:
    note = note or {}
    return Press(click, outcome, _ref(note.get("event")), *_standing(signup), None, _answers(note, invocation))


def _from_stored(
    click: str | None, stored: dict[str, Any], invocation: str | None, *, answer: bool | None = None
) -> Press:
    """A press rebuilt from the outcome its click stored (whichever delivery stored it)."""
    note = stored.get("note") or {}
    kind = stored.get("kind")
    mine = answer if answer is not None else _answers(note, invocation)
    if kind == "refused":
        error = stored["error"]
        return Press(click, "error", _ref(note.get("event")), None, None, (error["code"], error["message"]), mine)
    if kind == "sign_up":
        signup = requests.signup_from_json(stored["signup"])
        return Press(
            click, _signed_up(stored["created"], signup), _ref(note.get("event")), *_standing(signup), None, mine
        )
    if kind == "cancel":
        return Press(
            click,
            "cancelled",
            _ref(note.get("event")),
            *_standing(requests.cancelled_from_json(stored["cancelled"])),
            None,
            mine,
        )
    return Press(click, "checked_in", _ref(note.get("event")), "going", None, None, mine)
