"""API edge, step two: the route table; each route takes checked inputs, calls one core service, renders the result."""
from __future__ import annotations

import re
from typing import Callable, NamedTuple
from urllib.parse import unquote

from api import render
from api.request import Body, Field, MethodNotAllowed, RouteNotFound, cursor, limit, status
from core import access, config, errors, organizers, services, validation
from core.access import Caller

Serve = Callable[[dict, dict, dict, Caller], dict]

# Who may call a route. The handler admits the caller before it reads any input; a route whose answer
# depends on whose record it is (a button's binding) checks that itself with core.access.
PUBLIC = "public"  # anyone, with a token or without (API Gateway: its own route, Authorizer NONE)
READ = "read"  # anyone when reads are public (TURNOUT_PUBLIC_READS), otherwise anyone signed in
SIGNED_IN = "signed-in"  # anyone signed in; the route decides the rest once it knows whose record it is
SELF = "self"  # the {person} in the path themselves, or an organizer
OWN = "own"  # the {person} in the path themselves only
ORGANIZER = "organizer"


class Route(NamedTuple):
    """One method on one path, with everything api.openapi needs to describe it truthfully."""

    method: str
    template: str
    serve: Serve
    summary: str
    ok: dict[int, tuple[str | None, str]]  # success status -> (response schema, description)
    raises: tuple[type[Exception], ...]  # what the service may raise; the edge's own are derived
    query: tuple[str, ...]
    body: Body | None
    uses_table: bool
    location: bool  # its 201 names the new resource in a Location header
    access: str  # PUBLIC, READ, SIGNED_IN, SELF, OWN or ORGANIZER
    media: tuple[str, ...] = ("application/json",)  # what a success answers with; the page and calendar are not JSON
    origin: bool = False  # the route is handed the API's own origin (params["origin"]) to write absolute links


JSON_MEDIA = ("application/json",)
HTML_MEDIA = ("text/html",)
CALENDAR_MEDIA = ("text/calendar",)
ASSET_MEDIA = ("text/javascript", "text/css", "image/svg+xml")
ROUTES: list[Route] = []

# The page's files: /web/{version}/{file}, where version names the whole set (api.web) so a file may be cached.
ASSET_VERSION = re.compile(r"[0-9a-f]{1,16}")
ASSET_FILE = re.compile(r"[a-z0-9-]{1,40}\.(?:js|css|svg)")


class AssetNotFound(errors.NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"The page has no file {name!r}.", file=name)


def _asset_version(value: str) -> str:
    if not ASSET_VERSION.fullmatch(value):
        raise errors.InvalidInput("version is 1 to 16 lowercase hex digits.", "version")
    return value


def _asset_file(value: str) -> str:
    if not ASSET_FILE.fullmatch(value):
        raise errors.InvalidInput("file is a name like app.js, style.css or icon.svg.", "file")
    return value


FEED_FILE = re.compile(r"([A-Za-z0-9_-]{32})\.ics")


def _feed_file(value: str) -> str:
    """A feed's address ends in its secret and .ics, which calendar apps look for."""
    if not FEED_FILE.fullmatch(value):
        raise errors.InvalidInput("feed is the 32-character secret of a calendar feed, then .ics.", "feed")
    return value


# Path parameters are checked by name wherever they appear, so one name has one meaning.
PATH_PARAMS: dict[str, Callable[[str], str]] = {
    "event_id": validation.event_id,
    "person": validation.handle,
    "serial": validation.serial,
    "version": _asset_version,
    "file": _asset_file,
    "feed": _feed_file,
}


def route(method: str, template: str, *, access: str, summary: str, ok: dict[int, tuple[str | None, str]],
          raises: tuple[type[Exception], ...] = (), query: tuple[str, ...] = (), body: Body | None = None,
          uses_table: bool = True, location: bool = False, media: tuple[str, ...] = JSON_MEDIA,
          origin: bool = False) -> Callable[[Serve], Serve]:
    # `access` has no default: a new route states who may call it, or it does not load.
    def register(serve: Serve) -> Serve:
        ROUTES.append(Route(method, template, serve, summary, ok, raises, query, body, uses_table, location, access,
                            media, origin))
        return serve
    return register


def admit(chosen: Route, caller: Caller, params: dict[str, str]) -> None:
    """Raises Unauthorized or Forbidden unless this caller may call this route for these path parameters."""
    if chosen.access == PUBLIC:
        return
    if chosen.access == READ:
        access.require_reader(caller, public_reads=config.settings.public_reads)
    elif chosen.access == SELF:
        access.require_self_or_organizer(caller, params["person"])
    elif chosen.access == OWN:
        access.require_self(caller, params["person"])
    elif chosen.access == ORGANIZER:
        access.require_organizer(caller)
    else:
        access.require_signed_in(caller)


EVENT_FIELDS = {
    "name": Field("text", required=True, nullable=False, max_length=validation.NAME_MAX),
    "starts_at": Field("time", required=True, nullable=False),
    "ends_at": Field("time"),
    "timezone": Field("timezone", nullable=False),
    "location": Field("text", max_length=validation.LOCATION_MAX),
    "description": Field("text", max_length=validation.DESCRIPTION_MAX, multiline=True),
    "capacity": Field("capacity"),
    "signups_close_at": Field("time"),
    "reminders": Field("reminders"),
}
NEW_EVENT = Body({**EVENT_FIELDS, "seat_blocks": Field("seat_blocks")})  # fixed once created
EVENT_CHANGES = Body({name: spec._replace(required=False) for name, spec in EVENT_FIELDS.items()}, at_least_one=True)
SIGNUP = Body({
    "name": Field("text", max_length=validation.PERSON_NAME_MAX),
    "guests": Field("guests", nullable=False),
    "waitlist": Field("flag", nullable=False),
}, optional=True)
PROFILE = Body({
    "name": Field("text", max_length=validation.PERSON_NAME_MAX),
    "email": Field("email"),
    "phone": Field("phone"),
    "reminders": Field("flag"),
}, optional=True)
BINDING = Body({
    "person": Field("handle", required=True, nullable=False),
    "event_id": Field("event_id"),
})


@route("GET", "/health", access=PUBLIC, summary="Liveness.", ok={200: ("Health", "The function is up.")},
       uses_table=False)
def health(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    return render.respond(200, {"status": "ok"})


@route("GET", "/openapi.json", access=PUBLIC, summary="This document.",
       ok={200: ("OpenApi", "The OpenAPI 3.1 document.")}, uses_table=False)
def openapi_document(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    # Imported on first use: most containers never serve the document, so none pays to build it at start.
    from api import openapi
    return openapi.response()


@route("GET", "/", access=PUBLIC, summary="The web page: upcoming events, one event, sign up, organize.",
       ok={200: (None, "index.html, never cached without asking again.")}, uses_table=False, media=HTML_MEDIA,
       # The page is the sign-in's callback: the provider sends the person back with these, for the page to read.
       query=("code", "state", "error", "error_description"))
def web_page(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    # Imported on first use, like the document: an API call never pays for reading the page's files.
    from api import web
    return web.page()


@route("GET", "/web/{version}/{file}", access=PUBLIC, summary="One of the page's scripts, styles or images.",
       raises=(AssetNotFound,), ok={200: (None, "The file; cached for a year when version is the current one.")},
       uses_table=False, media=ASSET_MEDIA)
def web_asset(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    from api import web
    return web.asset(params["version"], params["file"])


@route("POST", "/events", access=ORGANIZER, summary="Create an event.", body=NEW_EVENT, location=True,
       ok={201: ("Event", "The new event.")})
def create_event(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    event = services.create_event(**body)
    return render.respond(201, render.event(event), {"location": f"/events/{event.event_id}"})


@route("GET", "/events", access=READ, summary="Upcoming events, soonest first.", query=("limit", "cursor"),
       ok={200: ("EventPage", "One page of events.")})
def list_events(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    page = services.list_events(limit=limit(query), cursor=cursor(query))
    return render.respond(200, {"events": [render.event(event) for event in page.items],
                                "next_cursor": page.next_cursor})


@route("GET", "/events/{event_id}", access=READ, summary="One event with its going and waitlisted counts.",
       raises=(errors.EventNotFound,), ok={200: ("Event", "The event.")})
def get_event(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    return render.respond(200, render.event(services.get_event(params["event_id"])))


@route("GET", "/events/{event_id}/calendar.ics", access=READ, summary="The event as an iCalendar file.",
       raises=(errors.EventNotFound,), ok={200: (None, "An RFC 5545 calendar holding this one event.")},
       media=CALENDAR_MEDIA, origin=True)
def event_calendar(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    # icalendar is imported here only: building a calendar is rare, and no cold start should load it.
    from api import ics
    return ics.response(services.get_event(params["event_id"]), params["origin"])


@route("PATCH", "/events/{event_id}", access=ORGANIZER,
       summary="Change an event; null clears an optional field. A new timezone keeps the times not given with it at "
               "the same wall-clock reading (19:00 stays 19:00), and people signed up are told when the start moves.",
       body=EVENT_CHANGES, raises=(errors.EventNotFound, errors.CapacityBelowTaken, errors.NotWithSeatBlocks),
       ok={200: ("Event", "The changed event.")})
def update_event(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    return render.respond(200, render.event(services.update_event(params["event_id"], body)))


@route("DELETE", "/events/{event_id}", access=ORGANIZER, summary="Remove an event and its signups.",
       raises=(errors.EventNotFound,), ok={204: (None, "The event is gone.")})
def delete_event(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    services.delete_event(params["event_id"])
    return render.no_content()


@route("GET", "/events/{event_id}/signups", access=READ, summary="Who is going, then the waitlist in order.",
       query=("status", "limit", "cursor"), raises=(errors.EventNotFound,),
       ok={200: ("SignupPage", "One page of signups and the event's counts.")})
def list_signups(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    page = services.list_signups(params["event_id"], status=status(query), limit=limit(query), cursor=cursor(query))
    shown = [render.signup(signup, check_in_shown=access.sees_check_in(caller, signup.person)) for signup in page.signups]
    return render.respond(200, {"signups": shown,
                                "going": page.going, "waitlisted": page.waitlisted,
                                "seats_taken": page.seats_taken, "next_cursor": page.next_cursor})


@route("PUT", "/events/{event_id}/signups/{person}", access=SELF, summary="Sign a person up, or change their party.",
       body=SIGNUP, raises=(errors.EventNotFound, errors.EventOver, errors.SignupsClosed, errors.EventFull,
                            errors.NoRoomToGrow),
       ok={201: ("SignedUp", "Signed up now: going, or on the waitlist."),
           200: ("SignedUp", "Already signed up: unchanged, or with the party changed to the guests given.")})
def sign_up(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    outcome = services.sign_up(params["event_id"], params["person"], source="api", **body)
    return render.respond(201 if outcome.created else 200, render.signed_up(outcome))


@route("GET", "/events/{event_id}/signups/{person}", access=READ, summary="One signup.",
       raises=(errors.NotSignedUp,), ok={200: ("Signup", "The signup.")})
def get_signup(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    found = services.get_signup(params["event_id"], params["person"])
    return render.respond(200, render.signup(found, check_in_shown=access.sees_check_in(caller, found.person)))


@route("DELETE", "/events/{event_id}/signups/{person}", access=SELF,
       summary="Cancel a signup; the first on the waitlist is promoted in the same step.",
       raises=(errors.NotSignedUp, errors.EventNotFound),
       ok={200: ("Cancellation", "The cancelled signup and whoever was promoted.")})
def cancel_signup(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    # An organizer cancelling someone else's signup leaves that person word of it.
    cancel = services.cancel_signup_for if access.acts_for_someone_else(caller, params["person"]) else services.cancel_signup
    return render.respond(200, render.cancellation(cancel(params["event_id"], params["person"])))


@route("POST", "/events/{event_id}/signups/{person}/check-in", access=SELF,
       summary="Check in at the event (going only).",
       raises=(errors.EventNotFound, errors.NotSignedUp, errors.NotGoing, errors.CheckInNotOpen, errors.EventOver),
       ok={200: ("Signup", "The signup, checked in.")})
def check_in(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    return render.respond(200, render.signup(services.check_in(params["event_id"], params["person"])))


@route("PUT", "/devices/{serial}", access=SIGNED_IN, summary="Bind a button to a person and optionally one event.",
       body=BINDING, raises=(errors.EventNotFound,), ok={200: ("Device", "The binding.")})
def bind_device(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    access.require_self_or_organizer(caller, body["person"])
    # A person may take a free button, or move their own to another event, but not someone else's.
    device = services.bind_device(params["serial"], **body, takeover=caller.organizer)
    return render.respond(200, render.device(device))


@route("GET", "/devices/{serial}", access=SIGNED_IN, summary="A button's binding.", raises=(errors.DeviceNotFound,),
       ok={200: ("Device", "The binding.")})
def get_device(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    device = services.get_device(params["serial"])
    access.require_self_or_organizer(caller, device.person)
    return render.respond(200, render.device(device))


@route("DELETE", "/devices/{serial}", access=ORGANIZER, summary="Unbind a button.", raises=(errors.DeviceNotFound,),
       ok={200: ("Unbound", "The button is no longer bound.")})
def unbind_device(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    services.unbind_device(params["serial"])
    return render.respond(200, {"serial": params["serial"], "unbound": True})


@route("POST", "/people/{person}/alexa-code", access=SELF,
       summary="A short-lived code that links an Alexa user to this person.",
       ok={201: ("PairingCode", "The code and when it expires.")})
def issue_alexa_code(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    return render.respond(201, render.pairing_code(services.issue_pairing_code(params["person"])))


@route("PUT", "/people/{person}", access=OWN, summary="Set who you are: a display name, and where to be told.",
       body=PROFILE, ok={200: ("Person", "The profile; a field left out is cleared.")})
def set_person(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    return render.respond(200, render.person(services.set_person(params["person"], **body)))


@route("GET", "/people/{person}", access=SELF, summary="A person's profile.",
       ok={200: ("Person", "The profile; a person who never set one has only the handle.")})
def get_person(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    return render.respond(200, render.person(services.get_person(params["person"])))


@route("GET", "/people/{person}/notices", access=SELF, summary="What a person was told, newest first.",
       query=("limit",), ok={200: ("NoticeList", "The latest notices.")})
def list_notices(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    found = services.list_notices(params["person"], limit=limit(query))
    return render.respond(200, {"notices": [render.notice(notice) for notice in found]})


def _feed_answer(status: int, feed, origin: str) -> dict:
    # webcal:// asks the device to subscribe (Apple, Outlook, and Google by its "From URL" with https).
    https = f"{origin}/feeds/{feed.token}.ics"
    return render.respond(status, render.feed(feed, https))


@route("PUT", "/people/{person}/feed", access=SELF, summary="Make or renew a person's secret calendar feed.",
       ok={201: ("CalendarFeed", "The new address; any earlier one stops working.")}, origin=True)
def renew_person_feed(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    from core import feeds
    return _feed_answer(201, feeds.renew_feed(params["person"]), params["origin"])


@route("GET", "/people/{person}/feed", access=SELF, summary="A person's calendar feed address.",
       raises=(errors.FeedNotFound,), ok={200: ("CalendarFeed", "The current address.")}, origin=True)
def get_person_feed(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    from core import feeds
    return _feed_answer(200, feeds.get_feed(params["person"]), params["origin"])


@route("DELETE", "/people/{person}/feed", access=SELF, summary="Revoke a person's calendar feed.",
       raises=(errors.FeedNotFound,), ok={204: (None, "The address no longer works.")})
def revoke_person_feed(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    from core import feeds
    feeds.revoke_feed(params["person"])
    return render.no_content()


@route("PUT", "/group/feed", access=ORGANIZER, summary="Make or renew the group's calendar feed of every event.",
       ok={201: ("CalendarFeed", "The new address; any earlier one stops working.")}, origin=True)
def renew_group_feed(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    from core import feeds
    return _feed_answer(201, feeds.renew_feed(None), params["origin"])


@route("GET", "/group/feed", access=ORGANIZER, summary="The group's calendar feed address.",
       raises=(errors.FeedNotFound,), ok={200: ("CalendarFeed", "The current address.")}, origin=True)
def get_group_feed(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    from core import feeds
    return _feed_answer(200, feeds.get_feed(None), params["origin"])


@route("DELETE", "/group/feed", access=ORGANIZER, summary="Revoke the group's calendar feed.",
       raises=(errors.FeedNotFound,), ok={204: (None, "The address no longer works.")})
def revoke_group_feed(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    from core import feeds
    feeds.revoke_feed(None)
    return render.no_content()


@route("GET", "/feeds/{feed}", access=PUBLIC, summary="A calendar feed, for calendar apps to subscribe to.",
       raises=(errors.FeedNotFound,), ok={200: (None, "RFC 5545: the feed's events; deleted ones CANCELLED.")},
       media=CALENDAR_MEDIA, origin=True)
def read_feed(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    # Public: a calendar app sends no token, so the secret in the address is the key (revoke or renew to change it).
    from api import ics
    from core import feeds
    feed, entries = feeds.read_feed(FEED_FILE.fullmatch(params["feed"])[1])
    return ics.feed_response(feed, entries, params["origin"])


@route("GET", "/people/{person}/devices", access=SELF, summary="The buttons bound to a person now.",
       ok={200: ("DeviceList", "The bindings, by serial.")})
def list_devices(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    return render.respond(200, {"devices": [render.device(d) for d in services.list_devices(params["person"])]})


@route("GET", "/organizers", access=ORGANIZER, summary="Who organizes: the identity provider's organizers group.",
       raises=(organizers.OrganizersElsewhere,), ok={200: ("Organizers", "Their handles, in order.")},
       uses_table=False)
def list_organizers(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    return render.respond(200, {"organizers": organizers.list_organizers()})


@route("PUT", "/organizers/{person}", access=ORGANIZER, summary="Make a person an organizer (from their next sign-in).",
       raises=(organizers.NoSuchAccount, organizers.OrganizersElsewhere),
       ok={200: ("Organizer", "The person is an organizer.")}, uses_table=False)
def make_organizer(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    organizers.make_organizer(params["person"])
    return render.respond(200, {"person": params["person"], "organizer": True})


@route("DELETE", "/organizers/{person}", access=ORGANIZER, summary="Stop a person being an organizer.",
       raises=(organizers.NoSuchAccount, organizers.OrganizersElsewhere),
       ok={200: ("Organizer", "The person is no longer an organizer.")}, uses_table=False)
def unmake_organizer(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    organizers.unmake_organizer(params["person"])
    return render.respond(200, {"person": params["person"], "organizer": False})


def _table() -> list[tuple[tuple[str, ...], dict[str, Route]]]:
    # Templates are kept as segments, not compiled to regular expressions: nothing to compile at cold start,
    # and comparing a handful of segments is all a match needs.
    by_template: dict[str, dict[str, Route]] = {}
    for each in ROUTES:
        by_template.setdefault(each.template, {})[each.method] = each
    return [(tuple(template.split("/")), methods) for template, methods in by_template.items()]


_TABLE = _table()


def find(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route for this request and its path parameters as they appear in the path."""
    parts = path.split("/")
    for template, methods in _TABLE:
        if len(template) != len(parts):
            continue
        raw = {}
        for expected, actual in zip(template, parts):
            if expected[:1] == "{":
                if not actual:
                    break
                raw[expected[1:-1]] = actual
            elif expected != actual:
                break
        else:
            chosen = methods.get(method)
            if chosen is None:
                raise MethodNotAllowed(method, tuple(methods))
            return chosen, raw
    raise RouteNotFound(path)


def match(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route for this request and its path parameters, percent-decoded and checked."""
    chosen, raw = find(method, path)
    # HTTP APIs hand rawPath over already decoded, Function URLs and hand-made events do not. Decoding
    # again is harmless: every parameter must then match a pattern that has no '%' in it.
    return chosen, {name: PATH_PARAMS[name](unquote(value) if "%" in value else value) for name, value in raw.items()}
