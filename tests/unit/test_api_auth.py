"""Who may do what, at the API handler: every route walked as anonymous, another person, the person themself and an
organizer, with the claims API Gateway's JWT authorizer hands over (requestContext.authorizer.jwt, payload 2.0)."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from api import openapi, routes
from api.request import group_names
from core import access, config, organizers
from tests.unit.test_api_client import call, gateway_event, invoke

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


@pytest.fixture
def auth_on(monkeypatch):
    """Switches the handler from the tests' open mode to checking claims, with any other setting changed."""
    def switch(**changes):
        monkeypatch.setattr(config, "settings", config.settings._replace(auth_open=False, **changes))
    return switch


@pytest.fixture
def user_pool(monkeypatch):
    """The stack's user pool, in moto's Cognito: everyone's account and the organizers group."""
    idp = boto3.client("cognito-idp", region_name=config.settings.region)
    pool = idp.create_user_pool(PoolName="people")["UserPool"]["Id"]
    idp.create_group(UserPoolId=pool, GroupName="organizers")
    for name in ("ann", "melvin", "olga"):
        idp.admin_create_user(UserPoolId=pool, Username=name)
    idp.admin_add_user_to_group(UserPoolId=pool, Username="olga", GroupName="organizers")
    monkeypatch.setattr(config, "settings", config.settings._replace(user_pool_id=pool))
    monkeypatch.setattr(organizers, "_client", None)
    return idp, pool


@pytest.fixture
def world(table, user_pool):
    """Set up in open mode: a trip starting within the hour with melvin going, an empty party, melvin's button, his
    calendar feed and the group's."""
    trip = call("POST", "/events", {"name": "Ski trip", "starts_at": SOON, "timezone": "Europe/Oslo"}).json
    party = call("POST", "/events", {"name": "Party", "starts_at": LATER, "timezone": "Europe/Oslo"}).json
    assert call("PUT", f"/events/{trip['event_id']}/signups/melvin").status == 201
    assert call("PUT", "/devices/BTN-MELVIN", {"person": "melvin"}).status == 200
    assert call("PUT", "/people/melvin/feed").status == call("PUT", "/group/feed").status == 201
    return {"trip": trip["event_id"], "party": party["event_id"]}


NEW_EVENT = {"name": "Board games", "starts_at": LATER, "timezone": "Europe/Oslo"}
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
]
WALKS = [pytest.param(method, target, body, role, expected[ROLES.index(role)], id=f"{method} {template} as {role}")
         for method, template, target, body, expected in MATRIX for role in ROLES]
READ_ROUTES = {(each.method, each.template) for each in routes.ROUTES if each.access == routes.READ}
READS = [(method, target) for method, template, target, *_ in MATRIX if (method, template) in READ_ROUTES]


def test_the_matrix_walks_every_route_the_api_serves():
    assert {(method, template) for method, template, *_ in MATRIX} == {(r.method, r.template) for r in routes.ROUTES}


@pytest.mark.parametrize("method, target, body, role, expected", WALKS)
def test_every_route_as_every_role(world, auth_on, method, target, body, role, expected):
    auth_on()
    answer = as_role(role, method, target.format(**world), body)
    assert answer.status == expected, answer.text
    if expected == 401:
        assert answer.error["code"] == "Unauthorized"
        assert answer.headers["www-authenticate"] == "Bearer"
    elif expected == 403:
        assert answer.error["code"] == "Forbidden"


def test_refused_callers_change_nothing(world, auth_on):
    auth_on()
    trip = f"/events/{world['trip']}"
    for role in (ANONYMOUS, OTHER):
        assert as_role(role, "DELETE", f"{trip}/signups/melvin").status in (401, 403)
        assert as_role(role, "POST", f"{trip}/signups/melvin/check-in").status in (401, 403)
        assert as_role(role, "DELETE", trip).status in (401, 403)
    signup = as_role(SELF, "GET", f"{trip}/signups/melvin").json
    assert (signup["status"], signup["checked_in_at"]) == ("going", None)


@pytest.mark.parametrize("method, target", READS)
def test_with_public_reads_anyone_reads_without_a_token(world, auth_on, method, target):
    auth_on(public_reads=True)
    assert invoke(request(method, target.format(**world))).status == 200


def test_with_public_reads_every_change_still_needs_a_token(world, auth_on):
    auth_on(public_reads=True)
    assert invoke(request("POST", "/events", NEW_EVENT)).status == 401
    assert invoke(request("PUT", f"/events/{world['party']}/signups/melvin")).status == 401


def test_a_person_cannot_take_over_someone_elses_button(world, auth_on):
    auth_on()
    taken = as_role(OTHER, "PUT", "/devices/BTN-MELVIN", {"person": "ann"})
    assert (taken.status, taken.error["code"]) == (403, "Forbidden")
    assert as_role(SELF, "GET", "/devices/BTN-MELVIN").json["person"] == "melvin"
    # Their own button to another event, and a free button for themselves, are theirs to bind.
    assert as_role(SELF, "PUT", "/devices/BTN-MELVIN", {"person": "melvin", "event_id": world["party"]}).status == 200
    assert as_role(OTHER, "PUT", "/devices/BTN-ANN", {"person": "ann"}).status == 200
    # An organizer may move any button to anyone.
    assert as_role(ORGANIZER, "PUT", "/devices/BTN-MELVIN", {"person": "ann"}).json["person"] == "ann"


def test_a_refused_caller_learns_nothing_from_input_checks(table, auth_on):
    auth_on()
    # Admission comes before the body is read: a bad body from nobody is 401, from a person 403, never 400.
    assert invoke(request("POST", "/events", "{not json")).status == 401
    assert as_role(OTHER, "POST", "/events", "{not json").status == 403


@pytest.mark.parametrize("groups", [["organizers"], "[organizers]", "organizers", "[skiers organizers staff]"])
def test_the_organizer_group_is_read_from_every_shape_of_the_claim(table, auth_on, groups):
    auth_on()
    assert as_role(ORGANIZER, "GET", "/events").status == 200
    answer = invoke(request("POST", "/events", NEW_EVENT, claims={"username": "olga", "cognito:groups": groups}))
    assert answer.status == 201


@pytest.mark.parametrize("groups", ["[organizers-old]", "[Organizers]", "[skiers]", "", "[]", None])
def test_only_the_organizer_group_itself_makes_an_organizer(table, auth_on, groups):
    auth_on()
    claims = {"username": "olga", "cognito:groups": groups}
    assert invoke(request("POST", "/events", NEW_EVENT, claims=claims)).status == 403


@pytest.mark.parametrize("person", ["Melvin", "melvin ", "[melvin]", "melvin@example.com", ""])
def test_a_person_claim_that_is_not_exactly_the_handle_acts_for_nobody(world, auth_on, person):
    auth_on()
    answer = invoke(request("PUT", f"/events/{world['party']}/signups/melvin", claims={"username": person}))
    assert (answer.status, answer.error["code"]) == (403, "Forbidden")


def test_the_claims_and_the_group_are_settings(world, auth_on):
    auth_on(person_claim="custom:handle", group_claim="roles", organizer_group="crew")
    mine = {"username": "someone-else", "custom:handle": "melvin"}
    assert invoke(request("PUT", f"/events/{world['party']}/signups/melvin", claims=mine)).status == 201
    crew = {"username": "olga", "cognito:groups": "[organizers]", "roles": "[crew]"}
    assert invoke(request("POST", "/events", NEW_EVENT, claims=crew)).status == 201
    assert invoke(request("POST", "/events", NEW_EVENT, claims={"cognito:groups": "[organizers]"})).status == 403


def test_in_open_mode_everyone_is_an_organizer(world):
    # The tests' default (tests/conftest.py), as under `make run`: no claims, and every change goes through.
    assert config.settings.auth_open
    assert invoke(request("DELETE", f"/events/{world['trip']}")).status == 204


def test_group_names_reads_what_api_gateway_passes_on():
    assert group_names("[organizers staff]", ["organizers", "staff"]) == ("organizers", "staff")
    assert group_names(["organizers", "staff", 3]) == ("organizers", "staff")
    assert group_names("organizers") == ("organizers",)
    assert group_names("[]") == group_names("") == group_names(None) == group_names({"a": 1}) == ()
    # The flattened form alone cannot tell "a organizers" from "a" and "organizers": without the token's own
    # array that agrees with it, it names no group at all.
    assert group_names("[a organizers]", ["a organizers"]) == ("a organizers",)
    assert group_names("[a organizers]", ["a", "organizers"]) == ("a", "organizers")
    assert group_names("[a organizers]") == group_names("[a organizers]", ["organizers"]) == ()
    assert group_names("a organizers") == ("a organizers",)


@pytest.mark.parametrize("signed", [["a organizers"], ["a organizers", "skiers"], None, "organizers", [1]],
                         ids=["one-group-with-a-space", "two-groups", "no-claim-in-the-token", "a-string", "a-number"])
def test_a_group_whose_name_holds_the_organizer_group_makes_no_organizer(table, auth_on, signed):
    auth_on()
    flattened = "[a organizers skiers]" if signed and len(signed) == 2 else "[a organizers]"
    answer = invoke(request("POST", "/events", NEW_EVENT, claims={"username": "olga", "cognito:groups": flattened},
                            signed={"username": "olga", "cognito:groups": signed}))
    assert answer.status == 403
    two = invoke(request("POST", "/events", NEW_EVENT, claims={"username": "olga", "cognito:groups": "[a organizers]"},
                         signed={"username": "olga", "cognito:groups": ["a", "organizers"]}))
    assert two.status == 201


def test_core_access_rules():
    melvin = access.identify("melvin", ("skiers",), "organizers")
    assert melvin == access.Caller(True, "melvin", False)
    access.require_self_or_organizer(melvin, "melvin")
    with pytest.raises(access.errors.Forbidden):
        access.require_self_or_organizer(melvin, "ann")
    with pytest.raises(access.errors.Forbidden):
        access.require_organizer(melvin)
    with pytest.raises(access.errors.Unauthorized):
        access.require_self_or_organizer(access.ANONYMOUS, "melvin")
    with pytest.raises(access.errors.Unauthorized):
        access.require_reader(access.ANONYMOUS, public_reads=False)
    access.require_reader(access.ANONYMOUS, public_reads=True)
    access.require_organizer(access.EVERYONE)


@pytest.mark.parametrize("environ, auth_open", [
    ({"TURNOUT_AUTH": "off"}, True),
    ({}, False),
    ({"TURNOUT_AUTH": "ON"}, False),
    # Inside Lambda the setting is ignored: API Gateway's authorizer is in front, and the claims decide.
    ({"TURNOUT_AUTH": "off", "AWS_LAMBDA_FUNCTION_NAME": "turnout-api"}, False),
])
def test_open_mode_is_a_local_setting_only(monkeypatch, environ, auth_open):
    monkeypatch.delenv("TURNOUT_AUTH", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert config.load().auth_open is auth_open


def test_a_misspelt_auth_setting_is_refused(monkeypatch):
    monkeypatch.setenv("TURNOUT_AUTH", "of")
    with pytest.raises(ValueError, match="TURNOUT_AUTH"):
        config.load()


@pytest.mark.parametrize("public_reads", [False, True])
def test_the_document_declares_the_bearer_scheme_and_which_operations_need_it(auth_on, public_reads):
    auth_on(public_reads=public_reads)
    document = openapi.document()
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    assert document["security"] == [{"bearer": []}]
    for each in routes.ROUTES:
        operation = document["paths"][each.template][each.method.lower()]
        open_to_anyone = each.access == routes.PUBLIC or (each.access == routes.READ and public_reads)
        assert (operation.get("security") == []) is open_to_anyone, (each.method, each.template)
        assert ("401" not in operation["responses"]) is open_to_anyone, (each.method, each.template)
        assert ("403" in operation["responses"]) is (each.access in (routes.SIGNED_IN, routes.SELF, routes.OWN, routes.ORGANIZER))


def test_when_someone_checked_in_is_for_them_and_the_organizers(world, auth_on):
    assert call("POST", f"/events/{world['trip']}/signups/melvin/check-in").status == 200  # open mode, in the fixture
    auth_on()
    for role, shown in ((OTHER, False), (SELF, True), (ORGANIZER, True)):
        listed = as_role(role, "GET", f"/events/{world['trip']}/signups").json["signups"]
        one = as_role(role, "GET", f"/events/{world['trip']}/signups/melvin").json
        assert [signup["checked_in_at"] is not None for signup in listed] == [shown], role
        assert (one["checked_in_at"] is not None) is shown, role
        assert (one["status"], listed[0]["person"]) == ("going", "melvin")
    auth_on(public_reads=True)
    assert as_role(ANONYMOUS, "GET", f"/events/{world['trip']}/signups/melvin").json["checked_in_at"] is None


def test_a_refusal_to_read_a_button_does_not_name_its_owner(world, auth_on):
    auth_on()
    refused = as_role(OTHER, "GET", "/devices/BTN-MELVIN")
    assert refused.status == 403 and "melvin" not in refused.text.lower()


def test_an_organizer_makes_and_unmakes_organizers_in_the_user_pool(world, auth_on, user_pool):
    idp, pool = user_pool
    auth_on(user_pool_id=pool)
    in_group = lambda: sorted(u["Username"] for u in idp.list_users_in_group(UserPoolId=pool, GroupName="organizers")["Users"])  # noqa: E731
    assert as_role(ORGANIZER, "PUT", "/organizers/melvin").json == {"person": "melvin", "organizer": True}
    assert in_group() == ["melvin", "olga"]
    assert as_role(ORGANIZER, "GET", "/organizers").json == {"organizers": ["melvin", "olga"]}
    assert as_role(ORGANIZER, "DELETE", "/organizers/melvin").json == {"person": "melvin", "organizer": False}
    assert in_group() == ["olga"]


def test_making_an_organizer_of_nobody_or_without_a_pool_is_a_clear_4xx(world, auth_on, user_pool):
    idp, pool = user_pool
    auth_on(user_pool_id=pool)
    answer = as_role(ORGANIZER, "PUT", "/organizers/nobody-yet")
    assert (answer.status, answer.error["code"]) == (404, "NoSuchAccount")
    assert "make their account first" in answer.error["message"]
    assert as_role(ORGANIZER, "PUT", "/organizers/Not-A-Handle").status == 400
    auth_on(user_pool_id=None)  # an issuer of the deployer's own: organizers are made there
    answer = as_role(ORGANIZER, "PUT", "/organizers/melvin")
    assert (answer.status, answer.error["code"]) == (409, "OrganizersElsewhere")


def test_a_person_sees_the_buttons_bound_to_them_now(world, auth_on):
    assert call("PUT", "/devices/BTN-TWO", {"person": "melvin"}).status == 200
    assert call("PUT", "/devices/BTN-TWO", {"person": "ann"}).status == 200  # taken over since: ann's now
    auth_on()
    answer = as_role(SELF, "GET", "/people/melvin/devices")
    assert [device["serial"] for device in answer.json["devices"]] == ["BTN-MELVIN"]
