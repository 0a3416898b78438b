"""API edge, the route table's declarations: who may call a route, what a route states about itself, the path
parameters' checks, and the registry api/routes.py fills and api/openapi.py describes."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from api.request import Body
from core import access, config, errors, validation
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
    "series_id": validation.series_id,
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
