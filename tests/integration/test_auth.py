"""Who may do what, end to end: a second local stack with TURNOUT_AUTH=on, real tokens from `python -m local.token`,
every route walked over HTTP as anonymous, another person, the person themself and an organizer."""
from __future__ import annotations

import pytest

from tests.support.roles import MATRIX, NEW_EVENT, NEW_SERIES, ORGANIZER, OTHER, ROLES, SELF, SOON
from tests.support.stack import AuthStack, running_stack, sign_up

pytestmark = pytest.mark.integration

PEOPLE = {OTHER: ["ann"], SELF: ["melvin"], ORGANIZER: ["olga", "--organizer"]}


@pytest.fixture(scope="module")
def auth_stack(tmp_path_factory):
    for started in running_stack(tmp_path_factory, "auth-stack", AuthStack, TURNOUT_AUTH="on"):
        for handle in ("ann", "melvin", "olga"):
            sign_up(started, handle)
        started.tokens = {ROLE: started.token(*args) for ROLE, args in PEOPLE.items()}
        yield started


def _world(stack: AuthStack) -> dict[str, str]:
    """Set up by the organizer and melvin themselves: a trip within the hour with melvin going, an empty party, a
    weekly club, melvin's button, his calendar feed and the group's."""
    olga, melvin = stack.tokens[ORGANIZER], stack.tokens[SELF]
    trip = stack.as_role(olga, "POST", "/events", {"name": "Ski trip", "starts_at": SOON, "timezone": "Europe/Oslo"})
    party = stack.as_role(olga, "POST", "/events", NEW_EVENT)
    assert (trip.status, party.status) == (201, 201), (trip.body, party.body)
    club = stack.as_role(olga, "POST", "/series", NEW_SERIES)
    assert club.status == 201, club.body
    world = {"trip": trip.json()["event_id"], "party": party.json()["event_id"], "club": club.json()["series_id"]}
    assert stack.as_role(melvin, "PUT", f"/events/{world['trip']}/signups/melvin").status == 201
    assert stack.as_role(olga, "PUT", "/devices/BTN-MELVIN", {"person": "melvin"}).status == 200
    assert stack.as_role(olga, "DELETE", "/devices/BTN-NEW").status in (200, 404)
    assert (
        stack.as_role(melvin, "PUT", "/people/melvin/feed").status
        == stack.as_role(olga, "PUT", "/group/feed").status
        == 201
    )
    return world


WALKS = [pytest.param(method, target, body, role, expected[ROLES.index(role)], id=f"{method} {template} as {role}")
         for method, template, target, body, expected in MATRIX for role in ROLES]


@pytest.mark.parametrize("method, target, body, role, expected", WALKS)
def test_every_route_as_every_role_over_http(auth_stack, method, target, body, role, expected):
    world = _world(auth_stack)
    answer = auth_stack.as_role(auth_stack.tokens.get(role), method, target.format(**world), body)
    assert answer.status == expected, answer.body
    if expected == 401:
        # API Gateway's own refusal: the function never ran.
        assert answer.json() == {"message": "Unauthorized"}
        assert answer.headers["www-authenticate"] == "Bearer"
    elif expected == 403:
        assert answer.json()["error"]["code"] == "Forbidden"


def test_a_bad_token_is_refused_by_the_gateway(auth_stack, tmp_path):
    other_stack = AuthStack(tmp_path / "elsewhere", tmp_path / "unused.log")
    foreign = other_stack.token("olga", "--organizer")  # signed with another data folder's key
    expired = auth_stack.token("olga", "--organizer", "--minutes", "-1")
    tampered = auth_stack.tokens[SELF][:-4] + ("AAAA" if not auth_stack.tokens[SELF].endswith("AAAA") else "BBBB")
    for token in (foreign, expired, tampered, "garbage"):
        answer = auth_stack.as_role(token, "POST", "/events", NEW_EVENT)
        assert (answer.status, answer.json()) == (401, {"message": "Unauthorized"}), token
        assert answer.headers["www-authenticate"].startswith('Bearer scope="" error="invalid_token"')


def test_health_and_the_document_stay_public(auth_stack):
    assert auth_stack.request("GET", "/health").status == 200
    document = auth_stack.request("GET", "/openapi.json")
    assert document.status == 200
    assert document.json()["components"]["securitySchemes"]["bearer"]["bearerFormat"] == "JWT"


def test_what_a_person_did_is_theirs(auth_stack):
    world = _world(auth_stack)
    signup = auth_stack.as_role(auth_stack.tokens[SELF], "GET", f"/events/{world['trip']}/signups/melvin")
    assert (signup.status, signup.json()["person"], signup.json()["source"]) == (200, "melvin", "api")
    assert auth_stack.as_role(auth_stack.tokens[OTHER], "DELETE", f"/events/{world['trip']}/signups/melvin").status \
        == 403
    still = auth_stack.as_role(auth_stack.tokens[OTHER], "GET", f"/events/{world['trip']}/signups")
    assert [s["person"] for s in still.json()["signups"]] == ["melvin"]
