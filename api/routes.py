"""API edge, step two: the routes; each takes checked inputs, calls one core service, renders the result
(api/routing.py declares what a route is and who may call it)."""
from __future__ import annotations

from urllib.parse import unquote

from api import render
from api.request import Body, MethodNotAllowed, RouteNotFound, cursor, limit, status
from api.routing import (
    ASSET_MEDIA,
    CALENDAR_MEDIA,
    FEED_FILE,
    HTML_MEDIA,
    ORGANIZER,
    OWN,
    PATH_PARAMS,
    PUBLIC,
    READ,
    ROUTES,
    SELF,
    SIGNED_IN,
    AssetNotFound,
    Route,
    route,
)
from core import access, errors, fields, organizers, services
from core.access import Caller
from core.fields import Field

NEW_EVENT = Body(fields.EVENT)
EVENT_CHANGES = Body({name: spec._replace(required=False) for name, spec in fields.EVENT.items() if spec.changeable},
                     at_least_one=True)
SIGNUP = Body(fields.SIGNUP, optional=True)
PROFILE = Body(fields.PERSON, optional=True)
BINDING = Body(fields.BUTTON)
# A series is the event fields that repeat (its first occurrence's) and how it repeats.
NEW_SERIES = Body({**{name: fields.EVENT[name] for name in fields.REPEATS},
                   "repeat": Field("repeat", required=True, nullable=False)})
# "This and all later": the occurrences' wall-clock time and length stand for their start and end.
SERIES_CHANGES = Body({
    "from_event_id": Field("event_id", nullable=False),
    **{name: fields.EVENT[name]._replace(required=False) for name in fields.SERIES_SHARED},
    "time": Field("clock_time", nullable=False),
    "minutes": Field("minutes"),
}, at_least_one=True)


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


@route("DELETE", "/events/{event_id}", access=ORGANIZER,
       summary="Remove an event and its signups; a button bound to it means the next event from then on.",
       raises=(errors.EventNotFound,), ok={204: (None, "The event is gone.")})
def delete_event(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    services.delete_event(params["event_id"])
    return render.no_content()


@route("POST", "/series", access=ORGANIZER, location=True, body=NEW_SERIES,
       summary="Create a series of events that repeat: every week, every N weeks or monthly on a weekday, until a "
               "date or for a count, at the same wall-clock time in its zone. Its occurrences are made eight weeks "
               "ahead (and the next two at least), each a whole event with the series' id.",
       ok={201: ("Series", "The new series and the occurrences made so far.")})
def create_series(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    from core.services import series  # on first use: most containers never make a series
    made, ahead = series.create_series(**body)
    return render.respond(201, render.series(made, ahead), {"location": f"/series/{made.series_id}"})


@route("GET", "/series/{series_id}", access=READ, summary="A series and its occurrences not yet over.",
       raises=(errors.SeriesNotFound,), ok={200: ("Series", "The series.")})
def get_series(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    from core.services import series  # on first use: most containers never make a series
    return render.respond(200, render.series(*series.get_series(params["series_id"])))


@route("PATCH", "/series/{series_id}", access=ORGANIZER, body=SERIES_CHANGES,
       summary="Change this occurrence and all later ones: from from_event_id on (left out: every one not yet "
               "started) and every one made from now on. People signed up are told when an occurrence moves. To "
               "change one occurrence alone, PATCH its event.",
       raises=(errors.SeriesNotFound, errors.NotInSeries), ok={200: ("SeriesChange", "The series, changed.")})
def change_series(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    from core.services import series  # on first use: most containers never make a series
    changed, ahead, refused = series.change_series(params["series_id"], body)
    return render.respond(200, {"series": render.series(changed, ahead), "not_changed": [
        {"event_id": event_id, "code": refusal.code, "message": refusal.message} for event_id, refusal in refused]})


@route("DELETE", "/series/{series_id}", access=ORGANIZER,
       summary="End a series: no more occurrences, and those not yet started are cancelled (people signed up are "
               "told). To cancel one occurrence alone, DELETE its event.",
       raises=(errors.SeriesNotFound,), ok={200: ("SeriesEnded", "The series, ended, and the events cancelled.")})
def end_series(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    from core.services import series  # on first use: most containers never make a series
    ended, cancelled = series.end_series(params["series_id"])
    return render.respond(200, {"series": render.series(ended, []), "cancelled": cancelled})


@route("GET", "/events/{event_id}/signups", access=READ, summary="Who is going, then the waitlist in order.",
       query=("status", "limit", "cursor"), raises=(errors.EventNotFound,),
       ok={200: ("SignupPage", "One page of signups and the event's counts.")})
def list_signups(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    page = services.list_signups(params["event_id"], status=status(query), limit=limit(query), cursor=cursor(query))
    shown = [
        render.signup(signup, check_in_shown=access.sees_check_in(caller, signup.person)) for signup in page.signups
    ]
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
    cancel = (
        services.cancel_signup_for if access.acts_for_someone_else(caller, params["person"]) else services.cancel_signup
    )
    return render.respond(200, render.cancellation(cancel(params["event_id"], params["person"])))


@route("POST", "/events/{event_id}/signups/{person}/check-in", access=SELF,
       summary="Check in at the event (going only).",
       raises=(errors.EventNotFound, errors.NotSignedUp, errors.NotGoing, errors.CheckInNotOpen, errors.EventOver),
       ok={200: ("Signup", "The signup, checked in.")})
def check_in(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    return render.respond(200, render.signup(services.check_in(params["event_id"], params["person"])))


@route("POST", "/events/{event_id}/signups/{person}/move-up", access=ORGANIZER,
       summary="Move a waiting party up now, raising the capacity by the places it lacks; they are told.",
       raises=(errors.EventNotFound, errors.NotSignedUp, errors.EventOver, errors.NotWithSeatBlocks),
       ok={200: ("MovedUp", "The signup, going, and how many places were added to the capacity.")})
def move_up(params: dict, query: dict, body: dict, caller: Caller) -> dict:
    from core.services import waitlist  # on first use: moving someone up is rare
    moved = waitlist.move_up(params["event_id"], params["person"])
    return render.respond(200, {"signup": render.signup(moved.signup), "places_added": moved.places_added})


@route("PUT", "/devices/{serial}", access=SIGNED_IN,
       summary="Bind a button to a person and optionally one event, or one series (its next occurrence).",
       body=BINDING, raises=(errors.EventNotFound, errors.SeriesNotFound), ok={200: ("Device", "The binding.")})
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
    named = FEED_FILE.fullmatch(params["feed"])
    assert named is not None  # the path parameter was checked against FEED_FILE (_feed_file)
    feed, entries = feeds.read_feed(named[1])
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
        for expected, actual in zip(template, parts, strict=True):
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
