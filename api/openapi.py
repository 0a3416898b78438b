"""API edge, self-description: the OpenAPI 3.1 document, built from the very route table and checks the handler uses."""
from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple

from api import render
from api.request import BODY_LIMIT, STATUSES, InvalidJson, PayloadTooLarge
from api.routing import (
    ASSET_FILE,
    ASSET_VERSION,
    FEED_FILE,
    ORGANIZER,
    OWN,
    PATH_PARAMS,
    PUBLIC,
    READ,
    ROUTES,
    SELF,
    SIGNED_IN,
    Route,
)
from core import config, errors, fields, recurrence, validation
from core.fields import Field
from core.values import SOURCES

SERVERS = [{"url": "http://127.0.0.1:3000", "description": "The local stack (`make run`)."}]

_TIME = {"type": "string", "format": "date-time"}
_MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}
_COUNT = {"type": "integer", "minimum": 0}
_SIGNUPS_GOING = {**_COUNT, "description": "People who signed up and are going (their guests not counted)."}
_SIGNUPS_WAITING = {**_COUNT, "description": "Signups on the waitlist."}
_SEATS_TAKEN = {**_COUNT, "description": "Seats the going signups hold: each of them and their guests."}
_REMINDERS = {"type": "array", "maxItems": validation.REMINDERS_MAX, "uniqueItems": True,
              "items": {"type": "integer", "minimum": validation.REMINDER_MIN, "maximum": validation.REMINDER_MAX}}
_CURSOR = {"type": ["string", "null"], "description": "Pass as `cursor` for the next page; null on the last page."}


def _anchored(pattern: str) -> str:
    return f"^{pattern}$"


_PATH_PARAM_SCHEMAS: dict[str, dict[str, Any]] = {
    "event_id": {"type": "string", "pattern": _anchored(validation.EVENT_ID.pattern)},
    "series_id": {"type": "string", "pattern": _anchored(validation.EVENT_ID.pattern)},
    "person": {"type": "string", "maxLength": 40, "pattern": _anchored(validation.HANDLE.pattern),
               "description": "A handle: 1 to 40 lowercase letters, digits and '-', not starting or ending with '-'."},
    "serial": {"type": "string", "pattern": _anchored(validation.SERIAL.pattern)},
    "version": {"type": "string", "pattern": _anchored(ASSET_VERSION.pattern),
                "description": "The page's current version, as the page served at / names it."},
    "file": {"type": "string", "pattern": _anchored(ASSET_FILE.pattern)},
    "feed": {"type": "string", "pattern": _anchored(FEED_FILE.pattern),
             "description": "The feed's secret and .ics, as its address gives it."},
}

_QUERY_PARAMS = {
    "limit": {"type": "integer", "minimum": 1, "maximum": validation.PAGE_MAX,
              "description": "Page size; the service picks one when left out."},
    "cursor": {"type": "string",
               "description": "The `next_cursor` of the previous page, as it was handed out; "
                              "anything else is 400 InvalidCursor."},
    "status": {"type": "string", "enum": list(STATUSES), "description": "Only signups with this status."},
    # The page's sign-in callback (OAuth 2.0): read by the page's script, not by the API.
    "code": {"type": "string", "description": "An authorization code the identity provider sends the page back with."},
    "state": {"type": "string", "description": "The page's own value, returned with the code."},
    "error": {"type": "string", "description": "Why the identity provider did not sign the person in."},
    "error_description": {"type": "string", "description": "The same, in words."},
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _closed(properties: dict, description: str | None = None) -> dict:
    """An object whose every property is always present and nothing else is."""
    schema = {"type": "object", "required": list(properties), "additionalProperties": False,
              "properties": properties}
    if description:
        schema["description"] = description
    return schema


_SIGNUP = {
    "event_id": _PATH_PARAM_SCHEMAS["event_id"],
    "person": _PATH_PARAM_SCHEMAS["person"],
    "name": {"type": ["string", "null"]},
    "guests": {"type": "integer", "minimum": 0, "maximum": validation.GUESTS_MAX},
    "status": {"type": "string", "enum": list(STATUSES)},
    "position": {"type": ["integer", "null"], "minimum": 1, "description": "Place on the waitlist; null when going."},
    "source": {"type": "string", "enum": list(SOURCES)},
    "signed_up_at": _TIME,
    "checked_in_at": {**_MAYBE_TIME, "description": "Shown to the person themself and organizers; null to others."},
}

# What an event answers for each kind of field it was given (core.fields.EVENT), and whether it may be null there:
# reminders are always a list in an answer, though null asks for the defaults.
_GIVEN_BY_KIND: dict[str, tuple[dict[str, Any], bool]] = {
    "text": ({"type": "string"}, True),
    "time": (_TIME, True),
    "timezone": ({"type": "string", "description": "IANA time zone; times are given in it."}, True),
    "capacity": ({"type": "integer", "minimum": 1, "description": "null is unlimited."}, True),
    "reminders": ({**_REMINDERS, "description": "Minutes before the start at which everyone going is reminded, "
                   "latest first; [] sends none."}, False),
    "seat_blocks": ({"type": "integer", "minimum": validation.SEAT_BLOCKS_MIN, "maximum": validation.SEAT_BLOCKS_MAX,
                     "description": "A hot event's seats split over this many blocks; null: one."}, True),
}


def _given_schema(spec: Field) -> dict[str, Any]:
    schema, may_be_null = _GIVEN_BY_KIND[spec.kind]
    if may_be_null and spec.nullable:
        return {**schema, "type": [schema["type"], "null"]}
    return schema


SCHEMAS = {
    "Event": _closed({
        "event_id": _PATH_PARAM_SCHEMAS["event_id"],
        **{name: _given_schema(spec) for name, spec in fields.EVENT.items()},
        "going": _SIGNUPS_GOING,
        "waitlisted": _SIGNUPS_WAITING,
        "seats_taken": _SEATS_TAKEN,
        "spots_left": {"type": ["integer", "null"], "minimum": 0, "description": "null when unlimited."},
        "signups_until": {**_TIME, "description": "When new sign-ups stop: signups_close_at, else the start."},
        "created_at": _TIME,
        "sequence": {**_COUNT, "description": "Grows with each change of time or place: the calendar files' SEQUENCE."},
        "series_id": {"type": ["string", "null"], "pattern": _anchored(validation.EVENT_ID.pattern),
                      "description": "The series this event is an occurrence of; null: a single event."},
    }),
    "Series": _closed({
        "series_id": _PATH_PARAM_SCHEMAS["series_id"],
        **{name: _given_schema(fields.EVENT[name]) for name in fields.TEXT},
        "starts_at": {**_TIME, "description": "The first occurrence's start."},
        "time": {"type": "string", "pattern": _anchored(validation.CLOCK_TIME),
                 "description": "The wall-clock start, in the series' zone, of occurrences made from now on."},
        "minutes": {"type": ["integer", "null"], "minimum": 1, "maximum": validation.MINUTES_MAX,
                    "description": "How long each occurrence lasts; null: no end given."},
        "timezone": {"type": "string", "description": "IANA time zone; every occurrence keeps its wall-clock time."},
        "capacity": {"type": ["integer", "null"], "minimum": 1, "description": "Each occurrence's; null is unlimited."},
        "reminders": _REMINDERS,
        "repeat": _closed({
            "every": {"type": "string", "enum": list(recurrence.EVERY)},
            "interval": {"type": "integer", "minimum": 1, "maximum": recurrence.INTERVAL_MAX},
            "until": {"type": ["string", "null"], "format": "date"},
            "count": {"type": ["integer", "null"], "minimum": 1, "maximum": recurrence.COUNT_MAX},
        }),
        "repeats": {"type": "string", "description": "The rule in words: \"monthly on the second Friday\"."},
        "made": {**_COUNT, "description": "How many occurrences have been made so far."},
        "created_at": _TIME,
        "ended_at": {**_MAYBE_TIME, "description": "When an organizer ended it; null: still going."},
        "occurrences": {"type": "array", "description": "Those made and not yet over, soonest first; each is an "
                        "event (GET /events/{event_id}).", "items": _closed({
                            "event_id": _PATH_PARAM_SCHEMAS["event_id"], "starts_at": _TIME, "ends_at": _MAYBE_TIME,
                            "sequence": _COUNT})},
    }, "Events that repeat (docs/SERIES.md)."),
    "SeriesChange": _closed({
        "series": _ref("Series"),
        "not_changed": {"type": "array", "description": "Occurrences the change was refused for, and why.",
                        "items": _closed({"event_id": _PATH_PARAM_SCHEMAS["event_id"], "code": {"type": "string"},
                                          "message": {"type": "string"}})},
    }),
    "SeriesEnded": _closed({
        "series": _ref("Series"),
        "cancelled": {"type": "array", "items": _PATH_PARAM_SCHEMAS["event_id"],
                      "description": "The occurrences not yet started, now cancelled."},
    }),
    "Signup": _closed(_SIGNUP),
    "SignedUp": _closed({**_SIGNUP, "message": {
        "type": "string", "description": "What happened, in a sentence for people: going, or why the party waits "
        "(\"2 places are left; your party of 3 doesn't fit, so you're number 1 in line.\")."}}),
    "Cancelled": _closed({
        "event_id": _PATH_PARAM_SCHEMAS["event_id"],
        "person": _PATH_PARAM_SCHEMAS["person"],
        "status": {"type": "string", "enum": list(STATUSES), "description": "Where the person stood until now."},
        "guests": {"type": "integer", "minimum": 0, "maximum": validation.GUESTS_MAX},
    }),
    "Cancellation": _closed({
        "cancelled": {**_ref("Cancelled"), "description": "Whose signup was removed, and what it held. The rest of "
                      "it (name, source, times) is not read back: a cancel costs two table calls."},
        "promoted": {"anyOf": [_ref("Signup"), {"type": "null"}],
                     "description": "Who moved up from the waitlist in the same step, if anyone."},
    }),
    "MovedUp": _closed({
        "signup": {**_ref("Signup"), "description": "The signup, going now."},
        "places_added": {"type": "integer", "minimum": 0,
                         "description": "How far the capacity was raised so the whole party fits (0: there was room)."},
    }),
    "Device": _closed({
        "serial": _PATH_PARAM_SCHEMAS["serial"],
        "person": _PATH_PARAM_SCHEMAS["person"],
        "event_id": {"type": ["string", "null"], "pattern": _anchored(validation.EVENT_ID.pattern),
                     "description": "The event the button signs up for; null means the next upcoming one."},
        "series_id": {"type": ["string", "null"], "pattern": _anchored(validation.EVENT_ID.pattern),
                      "description": "The series whose next occurrence the button signs up for, if bound to one."},
        "bound_at": _TIME,
    }),
    "Unbound": _closed({"serial": _PATH_PARAM_SCHEMAS["serial"], "unbound": {"const": True}}),
    "DeviceList": _closed({"devices": {"type": "array", "items": _ref("Device")}}),
    "Organizers": _closed({"organizers": {"type": "array", "items": _PATH_PARAM_SCHEMAS["person"]}}),
    "Organizer": _closed({"person": _PATH_PARAM_SCHEMAS["person"], "organizer": {"type": "boolean"}}),
    "PairingCode": _closed({"code": {"type": "string", "pattern": "^[0-9]{6}$"}, "expires_at": _TIME}),
    "EventPage": _closed({"events": {"type": "array", "items": _ref("Event")}, "next_cursor": _CURSOR}),
    "SignupPage": _closed({
        "signups": {"type": "array", "items": _ref("Signup")},
        "going": _SIGNUPS_GOING,
        "waitlisted": _SIGNUPS_WAITING,
        "seats_taken": _SEATS_TAKEN,
        "next_cursor": _CURSOR,
    }),
    "Person": _closed({
        "person": _PATH_PARAM_SCHEMAS["person"],
        "name": {"type": ["string", "null"], "description": "The display name a button or voice sign-up carries."},
        "email": {"type": ["string", "null"]},
        "phone": {"type": ["string", "null"], "description": "E.164, for SMS."},
        "updated_at": {**_MAYBE_TIME, "description": "null: never set."},
        "reminders": {"type": "boolean", "description": "false: never reminded of an event."},
    }),
    "Notice": _closed({
        "what": {"type": "string", "enum": ["promoted", "moved", "deleted", "cancelled", "reminder"]},
        "event_id": _PATH_PARAM_SCHEMAS["event_id"],
        "event_name": {"type": "string"},
        "text": {"type": "string", "description": "What the person was told, in one sentence."},
        "at": {**_TIME, "description": "When the change happened."},
        "read": {"type": "boolean", "description": "The skill has read it out."},
    }),
    "CalendarFeed": _closed({
        "person": {"type": ["string", "null"], "description": "Whose feed; null: the group's."},
        "url": {"type": "string", "pattern": "^webcal://", "description": "Subscribe to this (Apple, Outlook)."},
        "https_url": {"type": "string", "pattern": "^https?://",
                      "description": "The same feed for Google's 'From URL'."},
        "created_at": _TIME,
    }, "A secret address: anyone who has it reads the feed, so renew or revoke it if it leaks."),
    "NoticeList": _closed({"notices": {"type": "array", "items": _ref("Notice")}}),
    "Health": _closed({"status": {"const": "ok"}}),
    "OpenApi": {"type": "object", "required": ["openapi", "paths"]},
}


def _field_schema(spec: Field) -> dict:
    if spec.kind == "text":
        schema = {
            "type": "string",
            "maxLength": spec.max_length,
            "description": "Trimmed; no control characters" + (" except newline and tab." if spec.multiline else "."),
        }
        if not spec.nullable:
            schema["minLength"] = 1
    elif spec.kind == "time":
        schema = {"type": "string", "maxLength": 40, "examples": ["2026-12-04T07:00:00+01:00"],
                  "description": "ISO 8601; a time without an offset is read in the event's own time zone."}
    elif spec.kind == "timezone":
        schema = {"type": "string", "pattern": _anchored(validation.ZONE_NAME),
                  "description": "An IANA time zone such as Europe/Oslo (a slip of case or spacing, 'europe/oslo ', is "
                                 "taken as the zone it names; an abbreviation such as CET or EST is refused, naming "
                                 "zones that keep daylight saving). Left out when creating an event: the fixed "
                                 "zone of the offset starts_at is written with (Etc/GMT-1 for +01:00), or UTC."}
    elif spec.kind == "capacity":
        schema = {
            "type": "integer",
            "minimum": 1,
            "maximum": validation.CAPACITY_MAX,
            "description": "People including guests, written as a whole number (12, not 12.0); null is unlimited.",
        }
    elif spec.kind == "seat_blocks":
        schema = {"type": "integer", "minimum": validation.SEAT_BLOCKS_MIN, "maximum": validation.SEAT_BLOCKS_MAX,
                  "description": "For an event expecting a crowd: its seats split over this many blocks, so sign-ups "
                                 "do not take turns on one item (docs/SCALING.md); no more than its capacity. The "
                                 "capacity then stays as created. null: one."}
    elif spec.kind == "reminders":
        schema = {**_REMINDERS, "description": "Minutes before the start at which everyone going is reminded "
                  f"(each {validation.REMINDER_MIN} to {validation.REMINDER_MAX}); [] sends none, null the default "
                  "(a day and two hours before)."}
    elif spec.kind == "repeat":
        schema = {"type": "object", "additionalProperties": False, "required": ["every"],
                  "examples": [{"every": "week", "count": 10}, {"every": "month", "until": "2027-06-30"}],
                  "description": "How the series repeats: every `interval` weeks on the first occurrence's weekday, "
                                 "or monthly on its place in the month (the second Friday; a fifth-Friday series "
                                 "skips months without one). Exactly one of until (a local date, the last day an "
                                 f"occurrence may fall on, within {recurrence.YEARS_MAX} years) and count.",
                  "properties": {
                      "every": {"type": "string", "enum": list(recurrence.EVERY)},
                      "interval": {"type": "integer", "minimum": 1, "maximum": recurrence.INTERVAL_MAX, "default": 1,
                                   "description": "Weeks between occurrences (weekly series only)."},
                      "until": {"type": "string", "format": "date"},
                      "count": {"type": "integer", "minimum": 1, "maximum": recurrence.COUNT_MAX}}}
    elif spec.kind == "clock_time":
        schema = {"type": "string", "pattern": _anchored(validation.CLOCK_TIME), "examples": ["19:00"],
                  "description": "A wall-clock time, HH:MM, in the series' zone."}
    elif spec.kind == "minutes":
        schema = {"type": "integer", "minimum": 1, "maximum": validation.MINUTES_MAX,
                  "description": "How long each occurrence lasts; null: no end."}
    elif spec.kind == "guests":
        schema = {"type": "integer", "minimum": 0, "maximum": validation.GUESTS_MAX, "default": 0,
                  "description": "People coming along, written as a whole number (1, not 1.0)."}
    elif spec.kind == "flag":
        schema = {"type": "boolean"}
    elif spec.kind == "email":
        schema = {"type": "string", "maxLength": validation.EMAIL_MAX, "pattern": _anchored(validation.EMAIL),
                  "examples": ["melvin@example.com"]}
    elif spec.kind == "phone":
        schema = {"type": "string", "pattern": _anchored(validation.PHONE), "examples": ["+4712345678"],
                  "description": "E.164: '+' and 7 to 15 digits."}
    else:
        schema = dict(_PATH_PARAM_SCHEMAS["person" if spec.kind == "handle" else spec.kind])
    if spec.nullable:
        schema["type"] = [schema["type"], "null"]
    return schema


_FIELD_NOTES = {
    "waitlist": "false refuses a waitlist place: a full event answers 409 EventFull instead.",
    "event_id": "null: the button signs up for the next upcoming event.",
    "series_id": "A series: the button signs up for its next occurrence. Not with event_id.",
    "from_event_id": "The occurrence the change starts from (it and every later one); left out: every one not yet "
                     "started.",
}


# One body per route that the route accepts as it stands: a reader's first try, and the case Schemathesis sends
# before it generates others (most generated times fall outside an event's own, so few changes would pass).
_BODY_EXAMPLES = {
    ("PATCH", "/events/{event_id}"): {"location": "Hemsedal, the lodge at the top of the lift"},
    ("PATCH", "/series/{series_id}"): {"time": "19:30"},
    ("PUT", "/events/{event_id}/signups/{person}"): {"name": "Melvin Moose", "guests": 1},
    ("PUT", "/people/{person}"): {"name": "Melvin Moose", "email": "melvin@example.com", "phone": "+4712345678"},
}


def _request_body(route: Route) -> dict:
    body = route.body
    assert body is not None  # asked only of a route that takes a body
    properties = {}
    for name, spec in body.fields.items():
        properties[name] = _field_schema(spec)
        if name in _FIELD_NOTES:
            properties[name]["description"] = _FIELD_NOTES[name]
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": properties}
    required = [name for name, spec in body.fields.items() if spec.required]
    if required:
        schema["required"] = required
    if body.at_least_one:
        schema["minProperties"] = 1
    media: dict = {"schema": schema}
    example = _BODY_EXAMPLES.get((route.method, route.template))
    if example is not None:
        media["example"] = example
    return {
        "required": not body.optional,
        "description": f"A JSON object of at most {BODY_LIMIT} bytes; unknown fields are refused.",
        "content": {"application/json": media},
    }


SECURITY_SCHEMES = {"bearer": {
    "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
    "description": "A JWT from the identity provider the deployment trusts (issuer and audience are template "
                   "parameters); API Gateway verifies it. Locally, with TURNOUT_AUTH=on, "
                   "`python -m local.token PERSON [--organizer]` prints one.",
}}


class Mode(NamedTuple):
    """What the running API checks, which the document must say: config.settings' two switches."""

    auth_open: bool  # TURNOUT_AUTH=off, the local stack's default: no token checked, every caller an organizer
    public_reads: bool


def _open_to_anyone(route: Route, mode: Mode) -> bool:
    return mode.auth_open or route.access == PUBLIC or (route.access == READ and mode.public_reads)


def _error_codes(route: Route, mode: Mode) -> list[type[Exception] | str]:
    """Every error this route can answer with, as the handler really produces them."""
    raised: list[type[Exception] | str] = []
    if not _open_to_anyone(route, mode):
        raised.append(errors.Unauthorized)
    if route.access in (SIGNED_IN, SELF, OWN, ORGANIZER) and not mode.auth_open:
        raised.append(errors.Forbidden)
    if "{" in route.template or route.query or route.body:
        raised.append(errors.InvalidInput)
    if "cursor" in route.query:
        raised.append(errors.InvalidCursor)
    if route.body:
        raised += [InvalidJson, PayloadTooLarge]
    raised += route.raises
    if route.uses_table:
        raised += [errors.Busy, errors.Throttled, "InternalError"]
    else:
        raised.append("InternalError")
    return raised


def _error_responses(route: Route, mode: Mode) -> dict:
    by_status: dict[int, list[str]] = {}
    for raised in _error_codes(route, mode):
        if isinstance(raised, str):
            by_status.setdefault(500, []).append(raised)
        else:
            status = render.status_of(raised)
            assert status is not None, raised  # every domain error a route raises has its status
            by_status.setdefault(status, []).append(raised.__name__)
    responses = {}
    for status, codes in sorted(by_status.items()):
        detail = {"code": {"type": "string", "enum": codes}, "message": {"type": "string"},
                  "field": {"type": "string", "description": "The input at fault, when there is one."}}
        schema: dict[str, Any] = {"type": "object", "required": ["error"], "additionalProperties": False,
                                  "properties": {"error": {"type": "object", "required": ["code", "message"],
                                                           "additionalProperties": False, "properties": detail}}}
        if status == 401:
            # API Gateway's authorizer refuses a missing or bad token itself, in its own shape.
            schema["properties"]["message"] = {"const": "Unauthorized"}
            schema.update(required=[], minProperties=1, maxProperties=1)
        response: dict[str, Any] = {"description": " or ".join(codes),
                                    "content": {"application/json": {"schema": schema}}}
        if status == 401:
            response["description"] = ('Unauthorized: no valid bearer token. API Gateway answers {"message": '
                                       '"Unauthorized"} itself; the function answers the error object.')
            response["headers"] = {"WWW-Authenticate": {"description": "Bearer, and why the token was refused.",
                                                        "schema": {"type": "string"}}}
        if status == 503:
            response["headers"] = {"Retry-After": {"description": "Seconds to wait before retrying.",
                                                   "schema": {"type": "integer"}}}
        responses[str(status)] = response
    return responses


def _operation(route: Route, mode: Mode) -> dict:
    operation: dict[str, Any] = {"operationId": route.serve.__name__, "summary": route.summary,
                 "tags": [route.template.split("/")[1]]}
    if not mode.auth_open and _open_to_anyone(route, mode):
        operation["security"] = []  # the document's default is the bearer token
    parameters = [{"name": name, "in": "path", "required": True, "schema": _PATH_PARAM_SCHEMAS[name]}
                  for name in PATH_PARAMS if "{" + name + "}" in route.template]
    parameters += [{"name": name, "in": "query", "required": False, "schema": _QUERY_PARAMS[name]}
                   for name in route.query]
    if parameters:
        operation["parameters"] = parameters
    if route.body:
        operation["requestBody"] = _request_body(route)
    responses = {}
    for status, (schema, description) in route.ok.items():
        response: dict[str, Any] = {"description": description}
        if schema:
            response["content"] = {"application/json": {"schema": _ref(schema)}}
        elif status != 204:
            response["content"] = {media: {"schema": {"type": "string"}} for media in route.media}
        if status == 201 and route.location:
            response["headers"] = {"Location": {"description": "The new event's path.",
                                                "schema": {"type": "string"}}}
        responses[str(status)] = response
    responses.update(_error_responses(route, mode))
    operation["responses"] = responses
    return operation


_DESCRIPTION = f"""Sign up for events by button, by voice or by curl.

Every error is `{{"error": {{"code": "...", "message": "..."}}}}` (plus `field` when one input is at fault)
with a 4xx status; a 5xx only for infrastructure failures: 503 `Busy` with `Retry-After`, or 500
`InternalError`. A path no route serves answers 404 `RouteNotFound`; a method a path does not take
answers 405 `MethodNotAllowed` with an `Allow` header. Bodies are read as JSON whatever their
content type, at most {BODY_LIMIT} bytes (413 `PayloadTooLarge`), and unknown fields or query
parameters are refused with 400 `InvalidInput` naming them. Times are ISO 8601 with offset."""

_CHECKED = """

Who may do what: the operations marked with the bearer scheme need a token (reading may not, per
deployment). A person signs up, cancels, checks in, binds a button and asks for a pairing code only for
themselves; a profile (name, where to be told) is set by that person alone. Organizers create, change and
remove events, manage buttons and anyone's signups. No valid
token answers 401 `Unauthorized`; someone else's business answers 403 `Forbidden`."""

_OPEN = """

This server runs in open mode (`TURNOUT_AUTH=off`, the local stack's default): no token is checked and
every caller acts as an organizer, so no operation needs one and none answers 401 or 403. In AWS, and
locally with `TURNOUT_AUTH=on`, a bearer token is required and this document says so."""


def mode() -> Mode:
    """The running API's mode, as core.config read it; inside Lambda, auth is never open."""
    return Mode(auth_open=config.settings.auth_open, public_reads=config.settings.public_reads)


def document() -> dict:
    """The document for this deployment: whether tokens are checked and reads need one are its settings."""
    return build(mode())


@cache
def build(mode: Mode) -> dict:
    """The document of an API running in this mode, of the routes api/routes.py registered."""
    if not ROUTES:
        raise RuntimeError("no routes registered: api.routes registers them when imported")
    paths: dict[str, dict] = {}
    for each in ROUTES:
        paths.setdefault(each.template, {})[each.method.lower()] = _operation(each, mode)
    built: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Turnout", "version": "1.0.0",
                 "description": _DESCRIPTION + (_OPEN if mode.auth_open else _CHECKED)},
        "servers": SERVERS,
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": SECURITY_SCHEMES},
    }
    if mode.auth_open:
        # Declaring a scheme nothing checks would tell clients (and Schemathesis) a token is required.
        del built["security"], built["components"]["securitySchemes"]
    return built


@cache
def _body(mode: Mode) -> str:
    return render.body(build(mode))


def response() -> dict:
    return {"statusCode": 200, "headers": {"content-type": render.JSON_TYPE},
            "body": _body(mode()), "isBase64Encoded": False}
