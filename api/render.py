"""API edge, last step: domain values and errors become API Gateway HTTP API (payload 2.0) responses."""
from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from api.request import InvalidJson, MethodNotAllowed, PayloadTooLarge, RequestRejected, RouteNotFound
from core import errors, fields, lines
from core.values import Cancellation, Device, Event, InLine, PairingCode, Signup, SignupOutcome

if TYPE_CHECKING:  # rendered only by the routes that read them: a sign-up's cold start defines none of them
    from core.member_values import Feed, Notice, Person, Series

JSON_TYPE = "application/json; charset=utf-8"
BUSY_RETRY_SECONDS = 1

# The one place an error becomes an HTTP status. Looked up along the class's MRO, so a family
# (NotFound, Conflict) maps all its members and InvalidCursor answers as the InvalidInput it is.
ERROR_STATUS: dict[type[Exception], int] = {
    errors.InvalidInput: 400,
    errors.PairingCodeInvalid: 400,
    InvalidJson: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotLinked: 403,
    errors.NotFound: 404,
    RouteNotFound: 404,
    MethodNotAllowed: 405,
    errors.Conflict: 409,
    PayloadTooLarge: 413,
    errors.PairingLocked: 429,
    errors.Throttled: 429,
    errors.Busy: 503,
}


def status_of(error_class: type[Exception]) -> int | None:
    for cls in error_class.__mro__:
        status = ERROR_STATUS.get(cls)
        if status is not None:
            return status
    return None


def respond(status: int, payload: object, headers: dict[str, str] | None = None) -> dict:
    """payload: JSON values, and datetimes, which orjson writes as isoformat() does (RFC 3339, the value's own
    offset, microseconds only when there are some) in every zone today (tests/unit/test_api_render.py). It writes
    an offset to the minute: the last offsets with seconds ended in 1972 (Liberia), before any event here."""
    all_headers = {"content-type": JSON_TYPE}
    if headers:
        all_headers.update(headers)
    return {"statusCode": status, "headers": all_headers, "body": body(payload), "isBase64Encoded": False}


def body(payload: object) -> str:
    # orjson: compact, UTF-8 rather than \u escapes, and datetimes written as isoformat() would, without the
    # json module's per-value hooks. A newline ends it, as a text file ends, so a terminal's prompt after `curl`
    # starts on a line of its own.
    return orjson.dumps(payload, option=orjson.OPT_APPEND_NEWLINE).decode()


# On every answer, whichever route or failure rendered it: no browser takes a JSON or calendar body for a page or
# a script, whatever it holds.
COMMON_HEADERS = {"x-content-type-options": "nosniff"}


def with_common_headers(response: dict) -> dict:
    return {**response, "headers": {**COMMON_HEADERS, **response["headers"]}}


def no_content() -> dict:
    return {"statusCode": 204, "headers": {}, "body": "", "isBase64Encoded": False}


def error(err: errors.TurnoutError | RequestRejected, status: int) -> dict:
    detail = {"code": err.code, "message": err.message}
    field = getattr(err, "field", None)
    if field:
        detail["field"] = field
    headers = None
    if isinstance(err, errors.PairingLocked):
        headers = {"retry-after": str(err.retry_after_seconds)}
    elif isinstance(err, errors.Busy):
        headers = {"retry-after": str(BUSY_RETRY_SECONDS)}
    elif isinstance(err, errors.Unauthorized):
        headers = {"www-authenticate": "Bearer"}
    elif isinstance(err, MethodNotAllowed):
        headers = {"allow": ", ".join(err.allowed)}
    return respond(status, {"error": detail}, headers)


def internal_error() -> dict:
    return respond(
        500, {"error": {"code": "InternalError", "message": "Something went wrong on our side; it has been logged."}}
    )


def event(value: Event) -> dict:
    """The event: what the organizer gave (core.fields.EVENT), then what the table counts and keeps."""
    return {
        "event_id": value.event_id,
        **{name: getattr(value, name) for name in fields.EVENT},
        "going": value.going,
        "waitlisted": value.waitlisted,
        "seats_taken": value.seats_taken,
        "spots_left": value.spots_left,
        "signups_until": value.signups_until,
        "created_at": value.created_at,
        "sequence": value.sequence,
        "series_id": value.series_id,
    }


def series(value: Series, occurrences: list[Event]) -> dict:
    """A series with its occurrences not yet over (each a whole event, counts read as a listing reads them not)."""
    from core import recurrence  # on first use, like the series routes: a cold start pays for no series

    rule = value.repeat
    return {
        "series_id": value.series_id,
        **fields.texts_of(value),
        "starts_at": value.first,
        "time": f"{value.at:%H:%M}",
        "minutes": value.minutes,
        "timezone": value.timezone,
        "capacity": value.capacity,
        "reminders": value.reminders,
        "repeat": recurrence.to_json(rule),
        "repeats": recurrence.describe(rule, value.first.date()),
        "made": value.next_index,
        "created_at": value.created_at,
        "ended_at": value.ended_at,
        "occurrences": [{"event_id": event.event_id, "starts_at": event.starts_at, "ends_at": event.ends_at,
                         "sequence": event.sequence} for event in occurrences],
    }


def signup(value: Signup, *, check_in_shown: bool = True) -> dict:
    """check_in_shown: whether the reader may see when the person checked in (core.access.sees_check_in)."""
    return {
        "event_id": value.event_id,
        "person": value.person,
        "name": value.name,
        "guests": value.guests,
        "status": value.status,
        "position": value.position,
        "source": value.source,
        "signed_up_at": value.signed_up_at,
        "checked_in_at": value.checked_in_at if check_in_shown else None,
    }


def signed_up(value: SignupOutcome) -> dict:
    """A sign-up's answer: the signup, and what happened in a sentence for people (why it waits, when it does)."""
    return {**signup(value.signup), "message": signed_up_message(value)}


def signed_up_message(value: SignupOutcome) -> str:
    why = lines.why_in_line(value)
    if why is None:
        return "You're going." if value.created else "You were already going."
    if not value.created:
        return f"You're already number {why.position} in line."
    return in_line(why)


def in_line(why: InLine) -> str:
    """ "2 places are left; your party of 3 doesn't fit, so you're number 1 in line." """
    place = f"you're number {why.position} in line"
    left = f"{why.places_left} {'place is' if why.places_left == 1 else 'places are'} left"
    if why.reason == "too_big":
        return f"{left}; your party of {why.party} doesn't fit, so {place}."
    if why.reason == "behind":
        return f"{left}, but they go first to those ahead of you in line, so {place}."
    if why.reason == "full":
        return f"The event is full, so {place}."
    return f"You're number {why.position} in line."


def cancellation(value: Cancellation) -> dict:
    return {
        "cancelled": value.cancelled._asdict(),  # its fields are the answer's, as OpenAPI's Cancelled names them
        "promoted": None if value.promoted is None else signup(value.promoted),
    }


def device(value: Device) -> dict:
    return {
        "serial": value.serial,
        "person": value.person,
        "event_id": value.event_id,
        "series_id": value.series_id,
        "bound_at": value.bound_at,
    }


def pairing_code(value: PairingCode) -> dict:
    return {"code": value.code, "expires_at": value.expires_at}


def person(value: Person) -> dict:
    return {"person": value.person, "name": value.name, "email": value.email, "phone": value.phone,
            "updated_at": value.updated_at, "reminders": value.reminders}


def notice(value: Notice) -> dict:
    return {"what": value.what, "event_id": value.event_id, "event_name": value.event_name, "text": value.text,
            "at": value.at, "read": value.read}


def feed(value: Feed, https: str) -> dict:
    """A feed's address as a calendar app subscribes to it (webcal://) and as a browser or Google reads it."""
    return {"person": value.person, "url": "webcal://" + https.split("://", 1)[1], "https_url": https,
            "created_at": value.created_at}
