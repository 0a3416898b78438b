"""The local stack's stand-in for API Gateway's JWT authorizer: the checks API Gateway makes, its 401, the claims
where and how API Gateway puts them; the key kept in the data folder; `python -m local.token`."""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from joserfc import jws

from local import authorizer
from local.authorizer import Authorizer, Refused, mint, signing_key
from local.gateway import Gateway
from local.runtime import LambdaFunction

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_800_000_000
MELVIN = {"sub": "s-1", "username": "melvin"}


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    return signing_key(tmp_path_factory.mktemp("auth-data"))


@pytest.fixture
def gate(key):
    return Authorizer(key, public_reads=False, clock=lambda: NOW)


def claims_of(gate: Authorizer, token: str, scheme: str = "Bearer ") -> dict:
    return gate.authorize({"authorization": scheme + token})["jwt"]["claims"]


def refusal(gate: Authorizer, token: str | None) -> Refused:
    with pytest.raises(Refused) as refused:
        gate.authorize({} if token is None else {"authorization": f"Bearer {token}"})
    return refused.value


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_good_token_passes_its_claims_as_api_gateway_does(gate, key):
    token = mint(key, {**MELVIN, "cognito:groups": ["organizers", "skiers"], "email_verified": True}, now=NOW)
    context = gate.authorize({"authorization": f"Bearer {token}"})
    assert set(context) == {"jwt"} and context["jwt"]["scopes"] is None
    claims = context["jwt"]["claims"]
    assert claims["username"] == "melvin"
    # Every value a string: arrays as "[a b]", numbers and booleans spelled out.
    assert claims["cognito:groups"] == "[organizers skiers]"
    assert (claims["exp"], claims["iat"], claims["email_verified"]) == (str(NOW + 3600), str(NOW), "true")
    assert (claims["iss"], claims["aud"]) == (authorizer.ISSUER, authorizer.AUDIENCE)


@pytest.mark.parametrize("scheme", ["Bearer ", "bearer ", ""])
def test_the_token_may_come_with_or_without_the_bearer_prefix(gate, key, scheme):
    assert claims_of(gate, mint(key, MELVIN, now=NOW), scheme)["username"] == "melvin"


def test_no_token_is_refused_with_a_bare_challenge(gate):
    assert refusal(gate, None).challenge == "Bearer"
    assert refusal(gate, "").challenge == "Bearer"


@pytest.mark.parametrize("claims, minutes, description", [
    ({"iss": "https://elsewhere.example/issuer"}, 60, "the token does not have a valid issuer"),
    ({"aud": "another-api"}, 60, "the token does not have a valid audience"),
    ({"aud": ["another-api", "yet-another"]}, 60, "the token does not have a valid audience"),
    ({}, -1, "the token has expired"),
    ({"nbf": NOW + 600}, 60, "the token's nbf is in the future"),
    ({"iat": NOW + 600}, 60, "the token's iat is in the future"),
])
def test_a_token_that_fails_a_check_is_refused(gate, key, claims, minutes, description):
    refused = refusal(gate, mint(key, {**MELVIN, **claims}, now=NOW, minutes=minutes))
    assert refused.description == description
    assert refused.challenge == f'Bearer scope="" error="invalid_token" error_description="{description}"'


def test_a_token_expiring_this_second_is_refused(key):
    token = mint(key, MELVIN, now=NOW, minutes=1)
    assert claims_of(Authorizer(key, public_reads=False, clock=lambda: NOW + 59), token)["username"] == "melvin"
    assert refusal(Authorizer(key, public_reads=False, clock=lambda: NOW + 60), token).description == \
        "the token has expired"


def test_client_id_counts_as_the_audience_only_without_aud(gate, key):
    # Cognito access tokens carry client_id and no aud; API Gateway checks client_id only then.
    cognito_like = _signed_without_aud(key, {**MELVIN, "client_id": authorizer.AUDIENCE})
    assert claims_of(gate, cognito_like)["client_id"] == authorizer.AUDIENCE
    assert refusal(gate, _signed_without_aud(key, {**MELVIN, "client_id": "another-client"})).description == \
        "the token does not have a valid audience"
    # With an aud present, a matching client_id does not rescue a wrong aud.
    wrong_aud = mint(key, {**MELVIN, "aud": "another-api", "client_id": authorizer.AUDIENCE}, now=NOW)
    assert refusal(gate, wrong_aud).description == "the token does not have a valid audience"


def _signed_without_aud(key, claims: dict) -> str:
    payload = {"iss": authorizer.ISSUER, "iat": NOW, "exp": NOW + 3600, **claims}
    return jws.serialize_compact({"alg": "RS256", "kid": key.kid}, json.dumps(payload), key, algorithms=["RS256"])


def test_a_token_from_another_key_or_tampered_with_is_refused(gate, key, tmp_path):
    stranger = signing_key(tmp_path)
    assert refusal(gate, mint(stranger, MELVIN, now=NOW)).description == \
        "the token's key id is not in the issuer's key set"
    header, payload, signature = mint(key, MELVIN, now=NOW).split(".")
    organizer = _b64({**json.loads(base64.urlsafe_b64decode(payload + "==")), "cognito:groups": ["organizers"]})
    assert refusal(gate, f"{header}.{organizer}.{signature}").description == "the token's signature does not verify"
    # Claiming our key id does not help a token another key signed.
    forged = mint(stranger, MELVIN, now=NOW).split(".")
    forged[0] = _b64({"alg": "RS256", "typ": "JWT", "kid": key.kid})
    assert refusal(gate, ".".join(forged)).description == "the token's signature does not verify"


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_only_rs256_is_accepted(gate, key, alg):
    payload = _b64({"iss": authorizer.ISSUER, "aud": authorizer.AUDIENCE, "exp": NOW + 60, **MELVIN})
    header = _b64({"alg": alg, "typ": "JWT", "kid": key.kid})
    if alg == "HS256":
        # The classic confusion: the public key used as an HMAC secret.
        signed = f"{header}.{payload}".encode()
        mac = hmac.new(key.as_pem(private=False), signed, hashlib.sha256).digest()
        token = f"{header}.{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    else:
        token = f"{header}.{payload}."
    assert refusal(gate, token).description == f"signing method {alg} is invalid"


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "....", "e30.e30.e30"])
def test_garbage_is_refused_not_crashed_on(gate, token):
    assert refusal(gate, token).challenge.startswith('Bearer scope="" error="invalid_token"')


@pytest.mark.parametrize("public_reads, method, path, route_key", [
    (False, "GET", "/health", "GET /health"),
    (False, "GET", "/openapi.json", "GET /openapi.json"),
    (False, "HEAD", "/health", None),
    (False, "GET", "/events", None),
    (True, "GET", "/events", "GET /events"),
    (True, "GET", "/events/abc", "GET /events/{event_id}"),
    (True, "GET", "/events/abc/signups", "GET /events/{event_id}/signups"),
    (True, "GET", "/events/abc/signups/melvin", "GET /events/{event_id}/signups/{person}"),
    (True, "GET", "/events//signups", None),
    (True, "PUT", "/events/abc/signups/melvin", None),
    (True, "POST", "/events/abc/signups/melvin/check-in", None),
    (True, "GET", "/devices/BTN-1", None),
])
def test_public_routes_are_the_templates(key, public_reads, method, path, route_key):
    assert Authorizer(key, public_reads=public_reads).public_route(method, path) == route_key


def test_the_key_is_made_once_private_and_then_reused(tmp_path):
    first = signing_key(tmp_path / "data")
    path = tmp_path / "data" / authorizer.KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing_key(tmp_path / "data").kid == first.kid
    assert [p.name for p in path.parent.iterdir()] == [authorizer.KEY_FILE]


# --- through the gateway ---------------------------------------------------------------------------------------

def echo(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}


@pytest.fixture
def guarded(key):
    gw = Gateway(port=0, api=LambdaFunction("Test", f"{__name__}.echo", timeout_seconds=10, memory_mb=128),
                 alexa=LambdaFunction("Skill", f"{__name__}.echo", timeout_seconds=10, memory_mb=128),
                 authorizer=Authorizer(key, public_reads=False))
    gw.start()
    yield gw
    gw.stop()


def _get(gw, path, token=None):
    connection = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
    response = connection.getresponse()
    answer = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    connection.close()
    return answer


def test_the_gateway_answers_401_itself_and_never_invokes_the_function(guarded):
    status, headers, body = _get(guarded, "/events")
    assert (status, body, headers["www-authenticate"]) == (401, b'{"message":"Unauthorized"}', "Bearer")
    status, headers, body = _get(guarded, "/events", "not-a-token")
    assert status == 401 and 'error="invalid_token"' in headers["www-authenticate"]


def test_the_gateway_puts_the_claims_where_api_gateway_does(guarded, key):
    status, _, body = _get(guarded, "/events/abc", mint(key, {**MELVIN, "cognito:groups": ["organizers"]}))
    event = json.loads(body)
    assert status == 200
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] == "[organizers]"
    assert event["requestContext"]["authorizer"]["jwt"]["scopes"] is None
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "$default"


@pytest.mark.parametrize("groups, organizer", [(["a organizers"], False), (["a", "organizers"], True)],
                         ids=["one-group-named-with-a-space", "two-groups"])
def test_the_api_reads_the_groups_the_token_names_through_the_gateway(guarded, key, monkeypatch, groups, organizer):
    from api.request import caller
    from core import config

    status, _, body = _get(guarded, "/events/abc", mint(key, {**MELVIN, "cognito:groups": groups}))
    event = json.loads(body)
    assert (
        status == 200 and event["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] == "[a organizers]"
    )
    monkeypatch.setattr(config, "settings", config.settings._replace(auth_open=False))
    assert caller(event).organizer is organizer


def test_a_public_route_gets_its_own_route_key_and_no_claims_even_with_a_token(guarded, key):
    status, _, body = _get(guarded, "/openapi.json", mint(key, MELVIN))
    event = json.loads(body)
    assert status == 200 and "authorizer" not in event["requestContext"]
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "GET /openapi.json"


def test_local_token_prints_a_token_the_stack_accepts(tmp_path):
    environ = {**{k: v for k, v in os.environ.items() if not k.startswith("TURNOUT_")},
               "TURNOUT_DATA_DIR": str(tmp_path)}
    printed = subprocess.run([sys.executable, "-m", "local.token", "olga", "--organizer"], cwd=ROOT, env=environ,
                             capture_output=True, text=True, check=True).stdout.strip()
    # Checked as the stack would check it when it was minted: another process minted it on its own clock.
    issued = json.loads(base64.urlsafe_b64decode(printed.split(".")[1] + "=="))["iat"]
    # The provider's issuer (on TURNOUT_AUTH_PORT) and client: what the stack's authorizer checks.
    authorizer = Authorizer(signing_key(tmp_path), public_reads=False, clock=lambda: issued,
                            issuer="http://127.0.0.1:3001", audience=("turnout-page",))
    claims = authorizer.authorize({"authorization": printed})["jwt"]["claims"]
    assert (claims["username"], claims["cognito:groups"]) == ("olga", "[organizers]")
    assert (claims["client_id"], claims["token_use"]) == ("turnout-page", "access") and "aud" not in claims
    assert int(claims["exp"]) - issued > 50 * 60
    refused = subprocess.run([sys.executable, "-m", "local.token", "Olga"], cwd=ROOT, env=environ,
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "is not a handle" in refused.stderr


# --- no development sign-in: the page signs in at the provider (local/provider.py) ---------------------------------

def test_no_path_of_the_gateway_mints_tokens(guarded):
    # What was the page's development sign-in is an ordinary path now: behind the authorizer, as in AWS.
    connection = http.client.HTTPConnection("127.0.0.1", guarded.port, timeout=10)
    connection.request("POST", "/local/token", body=json.dumps({"person": "melvin", "organizer": True}),
                       headers={"content-type": "application/json"})
    response = connection.getresponse()
    assert (response.status, response.read()) == (401, b'{"message":"Unauthorized"}')
    connection.close()
