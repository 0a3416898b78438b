"""Who is who in the access tests: the four roles, the claims API Gateway hands over for each, and every route's
expected status for each role (walked at the handler by tests/unit/test_api_auth.py and over HTTP by
tests/integration/test_auth.py)."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

from tests.support.api import gateway_event, invoke

SOON = (datetime.now(timezone.utc) + timedelta(hours=1)).replace(microsecond=0).isoformat()  # check-in is open
LATER = (datetime.now(timezone.utc) + timedelta(days=7)).replace(microsecond=0).isoformat()

ANONYMOUS = "anonymous"
OTHER = "another person"
SELF = "the person themself"
ORGANIZER = "an organizer"
ROLES = (ANONYMOUS, OTHER, SELF, ORGANIZER)
# The claims each role's token carries, as API Gateway passes them on: every value a string, arrays as "[a b]".
CLAIMS = {
    OTHER: {"username": "ann", "cognito:groups": "[skiers]"},
    SELF: {"username": "melvin", "cognito:groups": "[skiers]"},
    ORGANIZER: {"username": "olga", "cognito:groups": "[skiers organizers]"},
}


def request(method: str, target: str, body: object = None, *, claims: dict | None = None,
            signed: dict | None = None) -> dict:
    """An event as API Gateway delivers it: with a verified token's claims, or (a public route) with none. The
    token in its Authorization header holds `signed`, by default the claims with "[a b]" read back as arrays."""
    if claims is None:
        return gateway_event(method, target, body)
    event = gateway_event(method, target, body, fixture_name="jwt_get_events.json")
    event["requestContext"]["authorizer"]["jwt"]["claims"].update(claims)
    if signed is None:
        signed = {name: value[1:-1].split() if isinstance(value, str) and value[:1] == "[" else value
                  for name, value in claims.items()}
    event["headers"]["authorization"] = f"Bearer {unsigned_token(signed)}"
    return event


def unsigned_token(claims: dict) -> str:
    """A token's shape around these claims; its signature is API Gateway's to check, before the handler runs."""
    header, payload = ({"alg": "RS256", "kid": "turnout-example"}, claims)
    return ".".join(base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
                    for part in (header, payload)) + ".c2lnbmF0dXJl"


def as_role(role: str, method: str, target: str, body: object = None):
    return invoke(request(method, target, body, claims=CLAIMS.get(role)))


NEW_EVENT = {"name": "Board games", "starts_at": LATER, "timezone": "Europe/Oslo"}
NEW_SERIES = {**NEW_EVENT, "repeat": {"every": "week", "count": 4}}
# Every route: (method, route template, target, body, expected status for anonymous, another person, the person
# themself, an organizer) when reading needs a login (the default). {trip} has melvin going; {party} nobody.
MATRIX = [
    ("GET", "/health", "/health", None, (200, 200, 200, 200)),
    ("GET", "/openapi.json", "/openapi.json", None, (200, 200, 200, 200)),
    ("POST", "/events", "/events", NEW_EVENT, (401, 403, 403, 201)),
    ("GET", "/events", "/events", None, (401, 200, 200, 200)),
    ("GET", "/events/{event_id}", "/events/{trip}", None, (401, 200, 200, 200)),
    ("PATCH", "/events/{event_id}", "/events/{trip}", {"capacity": 20}, (401, 403, 403, 200)),
    ("DELETE", "/events/{event_id}", "/events/{trip}", None, (401, 403, 403, 204)),
    ("GET", "/events/{event_id}/signups", "/events/{trip}/signups", None, (401, 200, 200, 200)),
    ("PUT", "/events/{event_id}/signups/{person}", "/events/{party}/signups/melvin", None, (401, 403, 201, 201)),
    ("GET", "/events/{event_id}/signups/{person}", "/events/{trip}/signups/melvin", None, (401, 200, 200, 200)),
    ("DELETE", "/events/{event_id}/signups/{person}", "/events/{trip}/signups/melvin", None, (401, 403, 200, 200)),
    ("POST", "/events/{event_id}/signups/{person}/check-in", "/events/{trip}/signups/melvin/check-in", None,
     (401, 403, 200, 200)),
    # Moving someone up past the line is the organizers' (melvin is going already: unchanged).
    ("POST", "/events/{event_id}/signups/{person}/move-up", "/events/{trip}/signups/melvin/move-up", None,
     (401, 403, 403, 200)),
    ("PUT", "/devices/{serial}", "/devices/BTN-NEW", {"person": "melvin"}, (401, 403, 200, 200)),
    ("GET", "/devices/{serial}", "/devices/BTN-MELVIN", None, (401, 403, 200, 200)),
    ("DELETE", "/devices/{serial}", "/devices/BTN-MELVIN", None, (401, 403, 403, 200)),
    ("POST", "/people/{person}/alexa-code", "/people/melvin/alexa-code", None, (401, 403, 201, 201)),
    # A profile is its person's own: not even an organizer names someone or says where they are told.
    ("PUT", "/people/{person}", "/people/melvin", {"name": "Melvin Moose"}, (401, 403, 200, 403)),
    ("GET", "/people/{person}", "/people/melvin", None, (401, 403, 200, 200)),
    ("GET", "/people/{person}/notices", "/people/melvin/notices", None, (401, 403, 200, 200)),
    ("GET", "/people/{person}/devices", "/people/melvin/devices", None, (401, 403, 200, 200)),
    # Organizers make organizers; "the person themself" is melvin, not yet one.
    ("GET", "/organizers", "/organizers", None, (401, 403, 403, 200)),
    ("PUT", "/organizers/{person}", "/organizers/melvin", None, (401, 403, 403, 200)),
    ("DELETE", "/organizers/{person}", "/organizers/melvin", None, (401, 403, 403, 200)),
    # The web page and its files need no token: signing in happens on the page.
    ("GET", "/", "/", None, (200, 200, 200, 200)),
    ("GET", "/web/{version}/{file}", "/web/0/app.js", None, (200, 200, 200, 200)),
    ("GET", "/events/{event_id}/calendar.ics", "/events/{trip}/calendar.ics", None, (401, 200, 200, 200)),
    # Calendar feeds: a person's is theirs (and an organizer's) to make, see and revoke; the group's is the
    # organizers'; the feed itself is public, its secret address the key (an unknown one here: 404).
    ("PUT", "/people/{person}/feed", "/people/melvin/feed", None, (401, 403, 201, 201)),
    ("GET", "/people/{person}/feed", "/people/melvin/feed", None, (401, 403, 200, 200)),
    ("DELETE", "/people/{person}/feed", "/people/melvin/feed", None, (401, 403, 204, 204)),
    ("PUT", "/group/feed", "/group/feed", None, (401, 403, 403, 201)),
    ("GET", "/group/feed", "/group/feed", None, (401, 403, 403, 200)),
    ("DELETE", "/group/feed", "/group/feed", None, (401, 403, 403, 204)),
    ("GET", "/feeds/{feed}", "/feeds/Abcdefghijklmnopqrstuvwxyz012345.ics", None, (404, 404, 404, 404)),
    # Series: organizers make, change and end them; anyone who reads events reads one.
    ("POST", "/series", "/series", NEW_SERIES, (401, 403, 403, 201)),
    ("GET", "/series/{series_id}", "/series/{club}", None, (401, 200, 200, 200)),
    ("PATCH", "/series/{series_id}", "/series/{club}", {"time": "20:00"}, (401, 403, 403, 200)),
    ("DELETE", "/series/{series_id}", "/series/{club}", None, (401, 403, 403, 200)),
]
