"""Core services, signups: sign up (with guests), cancel, check in, and read who is going and who waits."""
from __future__ import annotations

from datetime import datetime, timedelta

from core import clock, errors, keys, metrics, rules
from core import cursor as cursors
from core import validation as valid
from core.config import settings
from core.store import signups
from core.values import (
    SOURCES,
    Cancellation,
    Event,
    Signup,
    SignupOutcome,
    SignupPage,
    Source,
)

SIGNUPS_PAGE = 50


# Each range takes in the event item too (it sorts between the going and the waitlist): a page that reaches
# it reads the counts in the same query.
STATUS_RANGES = {
    None: (keys.GOING_PREFIX, keys.AFTER_WAITLIST),
    "going": (keys.GOING_PREFIX, keys.EVENT_ORDER),
    "waitlisted": (keys.EVENT_ORDER, keys.AFTER_WAITLIST),
}


def sign_up(event_id: str, person: str, *, name: str | None = None, guests: int | None = None, source: Source = "api",
            waitlist: bool = True, request_id: str | None = None, now: datetime | None = None) -> SignupOutcome:
    """Idempotent: signing up again returns the existing signup with created=False, its party changed to
    `guests` when they are given and differ (None: as it is; a new signup brings none). request_id makes a
    retried delivery return the first outcome. Raises InvalidInput, EventNotFound, EventOver, EventFull,
    NoRoomToGrow."""
    if source not in SOURCES:
        raise errors.InvalidInput(f"source is one of {', '.join(SOURCES)}.", "source")
    if not isinstance(waitlist, bool):
        raise errors.InvalidInput("waitlist must be true or false.", "waitlist")
    event_id, person = valid.event_id(event_id), valid.handle(person)
    resize = guests is not None
    name, guests = valid.text(name, "name", max_length=valid.PERSON_NAME_MAX), valid.guests(guests)
    given = name
    if name is None and source == "alexa":
        # A voice says no name: the signup carries the person's display name (one read of their profile). A retry
        # is still the same request when the profile changed meanwhile: the fingerprint holds what was asked.
        from core.store import people  # here: a sign-up through the API builds no profile items at a cold start

        name = people.get_person(person).name
    outcome = signups.sign_up(
        event_id, person, name=name, guests=guests, source=source, waitlist=waitlist, resize=resize,
        request_id=valid.request_id(request_id), now=clock.at(now),
        fingerprint=rules.request("sign_up", event_id, person, name=given, guests=guests if resize else None,
                                  source=source, waitlist=waitlist),
    )
    metrics.signed_up(outcome)
    return outcome


def cancel_signup(event_id: str, person: str, *, request_id: str | None = None,
                  now: datetime | None = None) -> Cancellation:
    """Cancels and, in the same transaction, promotes the first waitlisted person. Raises NotSignedUp."""
    return _cancel(event_id, person, request_id=request_id, now=now, tell=False)


def cancel_signup_for(event_id: str, person: str, *, request_id: str | None = None,
                      now: datetime | None = None) -> Cancellation:
    """An organizer cancels someone else's signup: the same cancel, with word left for that person in its
    transaction (a person's own cancel leaves none, since they know)."""
    return _cancel(event_id, person, request_id=request_id, now=now, tell=True)


def _cancel(event_id: str, person: str, *, request_id: str | None, now: datetime | None, tell: bool) -> Cancellation:
    event_id, person = valid.event_id(event_id), valid.handle(person)
    moment = clock.at(now)
    word = None
    if tell:
        from core.store import notices  # here: only an organizer's cancel leaves word, so only it builds notice items

        word = notices.cancel_told(person, keys.utc(moment))
    cancellation = signups.cancel_signup(event_id, person, request_id=valid.request_id(request_id), now=moment,
                                         fingerprint=rules.request("cancel", event_id, person), also=word)
    metrics.done(metrics.CANCELS, cancellation)
    return cancellation


def check_in(event_id: str, person: str, *, request_id: str | None = None, now: datetime | None = None) -> Signup:
    """Idempotent (a repeated check-in, with or without request_id, returns the first one unchanged).
    Raises NotSignedUp, NotGoing, CheckInNotOpen, EventOver."""
    event_id, person = valid.event_id(event_id), valid.handle(person)
    checked = signups.check_in(
        event_id, person, now=clock.at(now), opens_before=timedelta(minutes=settings.check_in_opens_minutes),
        request_id=valid.request_id(request_id), fingerprint=rules.request("check_in", event_id, person),
    )
    metrics.done(metrics.CHECK_INS, checked)
    return checked.signup


def get_signup(event_id: str, person: str) -> Signup:
    """Raises NotSignedUp."""
    return signups.get_signup(valid.event_id(event_id), valid.handle(person))


def list_signups(event_id: str, *, status: str | None = None, limit: int | str | None = None,
                 cursor: str | None = None, event: Event | None = None) -> SignupPage:
    """Going first, then the waitlist in order. Raises EventNotFound, InvalidInput, InvalidCursor.

    `event`: the event as the caller read it moments ago (the skill, from its list of what is coming up);
    its counts are answered and the event is not read again."""
    valid.event_id(event_id)
    if event is not None and event.event_id != event_id:
        raise errors.InvalidInput("The event given is not the one asked about.", "event")
    if status not in STATUS_RANGES:
        raise errors.InvalidInput("status is 'going' or 'waitlisted'.", "status")
    size = valid.page_size(limit, SIGNUPS_PAGE)
    scope = f"signups:{event_id}:{status or 'all'}"
    low, high = STATUS_RANGES[status]
    after: tuple[str, str] | None = None
    if cursor is not None:
        position = cursors.decode(cursor, scope)
        order = cursors.text_field(position, "order")
        if not low <= order <= high:
            raise errors.InvalidCursor()
        after = (order, cursors.text_field(position, "sk", "SIGNUP#"))
    counted, page, last = signups.list_signups(event_id, prefix_from=low, prefix_to=high,
                                                           limit=size, after=after, known=event)
    next_cursor = cursors.encode(scope, {"order": last[0], "sk": last[1]}) if last else None
    return SignupPage(page, counted.going, counted.waitlisted, next_cursor, counted.seats_taken)
