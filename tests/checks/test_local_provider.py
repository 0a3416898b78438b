"""The local OpenID provider over real HTTP on loopback: discovery, sign-up with a confirmation code, sign-in, the
authorization code grant with PKCE, refresh, Cognito's access-token claims verified against its JWKS as API Gateway
would, sign-out, and the admin calls that make organizers (through boto3, as core/organizers.py makes them)."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError

from local.accounts import AccountError, Accounts, check_password
from local.authorizer import Authorizer, IssuerKeys, Refused
from local.provider import CLIENT_ID, POOL_ID, Provider

PAGE = "http://127.0.0.1:3999/"
PASSWORD = "correct horse battery"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _request(url: str, form: dict | None = None, headers: dict | None = None):
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        answer = _opener.open(urllib.request.Request(url, data=data, headers=headers or {}), timeout=60)
    except urllib.error.HTTPError as err:
        answer = err
    return answer.status, dict(answer.headers), answer.read().decode()


@pytest.fixture
def provider(tmp_path):
    started = Provider(port=0, data_dir=tmp_path, token_minutes=5)
    started.allow_page(PAGE)
    started.start()
    yield started
    started.stop()


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _query(challenge: str, state: str = "s-1") -> str:
    return urllib.parse.urlencode({"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": PAGE,
                                   "scope": "openid email", "state": state, "code_challenge": challenge,
                                   "code_challenge_method": "S256"})


def _sign_up(provider: Provider, username: str, challenge: str) -> tuple[int, dict, str]:
    query = _query(challenge)
    status, _, page = _request(f"{provider.issuer}/signup?{query}",
                               {"username": username, "email": f"{username}@example.com", "password": PASSWORD})
    assert status == 200, page
    code = re.search(r'<output id="local-code">(\d{6})</output>', page).group(1)
    return _request(f"{provider.issuer}/confirm?{query}", {"username": username, "code": code})


def _code_from(location: str) -> dict[str, str]:
    assert location.startswith(PAGE), location
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def _token(provider: Provider, form: dict) -> tuple[int, dict, dict]:
    status, headers, body = _request(f"{provider.issuer}/oauth2/token", {"client_id": CLIENT_ID, **form},
                                     {"Origin": "http://127.0.0.1:3999"})
    return status, headers, json.loads(body)


def test_the_discovery_document_names_every_endpoint_on_the_issuer(provider):
    status, headers, body = _request(f"{provider.issuer}/.well-known/openid-configuration")
    configuration = json.loads(body)
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    assert configuration["issuer"] == provider.issuer
    assert configuration["authorization_endpoint"] == f"{provider.issuer}/oauth2/authorize"
    assert configuration["token_endpoint"] == f"{provider.issuer}/oauth2/token"
    assert configuration["code_challenge_methods_supported"] == ["S256"]
    keys = json.loads(_request(configuration["jwks_uri"])[2])["keys"]
    assert [key["kty"] for key in keys] == ["RSA"] and "d" not in keys[0]


def test_a_new_person_signs_up_confirms_and_comes_back_to_the_page_with_a_code_for_tokens(provider):
    verifier, challenge = _pkce()
    status, headers, _ = _sign_up(provider, "melvin", challenge)
    assert status == 302
    answer = _code_from(headers["Location"])
    assert answer["state"] == "s-1"
    status, headers, tokens = _token(provider, {"grant_type": "authorization_code", "code": answer["code"],
                                                "redirect_uri": PAGE, "code_verifier": verifier})
    assert status == 200, tokens
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 300 and tokens["refresh_token"]
    # Verified as API Gateway does: keys found from the issuer's OpenID configuration, iss, client_id, times.
    gate = Authorizer(IssuerKeys(provider.issuer), public_reads=False, issuer=provider.issuer, audience=(CLIENT_ID,))
    claims = gate.verify(tokens["access_token"])
    assert (claims["username"], claims["client_id"], claims["token_use"]) == ("melvin", CLIENT_ID, "access")
    assert "aud" not in claims and "cognito:groups" not in claims and claims["scope"] == "openid email"
    # A code works once.
    again = _token(provider, {"grant_type": "authorization_code", "code": answer["code"], "redirect_uri": PAGE,
                              "code_verifier": verifier})
    assert again[0] == 400 and again[2]["error"] == "invalid_grant"


def test_the_code_needs_its_verifier(provider):
    verifier, challenge = _pkce()
    _, headers, _ = _sign_up(provider, "anna", challenge)
    code = _code_from(headers["Location"])["code"]
    for form in ({}, {"code_verifier": _pkce()[0]}):
        status, _, answer = _token(provider, {"grant_type": "authorization_code", "code": code,
                                              "redirect_uri": PAGE, **form})
        assert status == 400 and answer["error"] in ("invalid_request", "invalid_grant"), answer


def test_an_authorization_request_without_pkce_or_for_another_page_is_refused(provider):
    query = urllib.parse.urlencode({"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": PAGE})
    status, _, page = _request(f"{provider.issuer}/oauth2/authorize?{query}")
    assert status == 400 and "code_challenge" in page
    _, challenge = _pkce()
    elsewhere = _query(challenge).replace(
        urllib.parse.quote(PAGE, safe=""), urllib.parse.quote("https://evil.example/", safe="")
    )
    assert _request(f"{provider.issuer}/oauth2/authorize?{elsewhere}")[0] == 400


def test_sign_in_refuses_a_wrong_password_and_an_unconfirmed_account_in_words(provider):
    verifier, challenge = _pkce()
    _sign_up(provider, "bob", challenge)
    query = _query(challenge)
    status, _, page = _request(f"{provider.issuer}/oauth2/authorize?{query}", {"username": "bob", "password": "nope"})
    assert status == 400 and "Incorrect user name or password." in page
    _request(f"{provider.issuer}/signup?{query}", {"username": "ines", "email": "i@example.com", "password": PASSWORD})
    status, _, page = _request(
        f"{provider.issuer}/oauth2/authorize?{query}", {"username": "ines", "password": PASSWORD}
    )
    assert status == 400 and "Confirm your email address first." in page
    status, headers, _ = _request(
        f"{provider.issuer}/oauth2/authorize?{query}", {"username": "bob", "password": PASSWORD}
    )
    assert status == 302 and _code_from(headers["Location"])["state"] == "s-1"


@pytest.mark.parametrize("username, password, said", [
    ("Melvin", PASSWORD, "lowercase letters, digits and &#x27;-&#x27;"),
    ("mel vin", PASSWORD, "lowercase letters"),
    ("olga", "short", "at least 12 characters"),
])
def test_sign_up_refuses_what_cognito_refuses(provider, username, password, said):
    _, challenge = _pkce()
    status, _, page = _request(f"{provider.issuer}/signup?{_query(challenge)}",
                               {"username": username, "email": "x@example.com", "password": password})
    assert status == 400 and said in page
    assert provider.accounts.get(username) is None


def test_a_taken_user_name_is_refused(provider):
    _, challenge = _pkce()
    _sign_up(provider, "melvin", challenge)
    status, _, page = _request(f"{provider.issuer}/signup?{_query(challenge)}",
                               {"username": "melvin", "email": "m@example.com", "password": PASSWORD})
    assert status == 400 and "taken" in page


def test_refresh_gives_a_new_access_token_with_the_groups_as_they_are_now(provider):
    verifier, challenge = _pkce()
    _, headers, _ = _sign_up(provider, "olga", challenge)
    _, _, tokens = _token(
        provider,
        {
            "grant_type": "authorization_code",
            "code": _code_from(headers["Location"])["code"],
            "redirect_uri": PAGE,
            "code_verifier": verifier,
        },
    )
    idp = boto3.client("cognito-idp", endpoint_url=provider.issuer, region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    idp.admin_add_user_to_group(UserPoolId=POOL_ID, Username="olga", GroupName="organizers")
    status, _, renewed = _token(provider, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert status == 200, renewed
    gate = Authorizer(IssuerKeys(provider.issuer), public_reads=False, issuer=provider.issuer, audience=(CLIENT_ID,))
    assert gate.verify(renewed["access_token"])["cognito:groups"] == ["organizers"]
    assert [user["Username"] for user in idp.list_users_in_group(UserPoolId=POOL_ID, GroupName="organizers")["Users"]] \
        == ["olga"]
    idp.admin_remove_user_from_group(UserPoolId=POOL_ID, Username="olga", GroupName="organizers")
    assert idp.list_users_in_group(UserPoolId=POOL_ID, GroupName="organizers")["Users"] == []
    assert _token(provider, {"grant_type": "refresh_token", "refresh_token": "made-up"})[0] == 400


def test_the_admin_calls_fail_as_cognitos_do(provider):
    idp = boto3.client("cognito-idp", endpoint_url=provider.issuer, region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    with pytest.raises(ClientError) as failed:
        idp.admin_add_user_to_group(UserPoolId=POOL_ID, Username="nobody", GroupName="organizers")
    assert failed.value.response["Error"]["Code"] == "UserNotFoundException"
    with pytest.raises(ClientError) as failed:
        idp.admin_add_user_to_group(UserPoolId="us-east-1_Other", Username="nobody", GroupName="organizers")
    assert failed.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_token_signed_by_another_key_is_refused_by_the_issuers_keys(provider, tmp_path_factory):
    other = Provider(port=0, data_dir=tmp_path_factory.mktemp("other"))
    try:
        forged = other.access_token("melvin", ["organizers"]).replace(other.issuer, provider.issuer)
    finally:
        other.stop()
    gate = Authorizer(IssuerKeys(provider.issuer), public_reads=False, issuer=provider.issuer, audience=(CLIENT_ID,))
    with pytest.raises(Refused, match="key id is not in the issuer's key set"):
        gate.verify(forged)


def test_sign_out_goes_back_only_to_the_page(provider):
    good = urllib.parse.urlencode({"client_id": CLIENT_ID, "logout_uri": PAGE})
    status, headers, _ = _request(f"{provider.issuer}/logout?{good}")
    assert (status, headers["Location"]) == (302, PAGE)
    bad = urllib.parse.urlencode({"client_id": CLIENT_ID, "logout_uri": "https://evil.example/"})
    assert _request(f"{provider.issuer}/logout?{bad}")[0] == 400


def test_accounts_survive_a_restart_and_keep_no_password(tmp_path):
    accounts = Accounts(tmp_path)
    account = accounts.sign_up("melvin", "melvin@example.com", PASSWORD)
    accounts.confirm("melvin", account.code)
    assert PASSWORD not in (tmp_path / "accounts.json").read_text()
    assert Accounts(tmp_path).sign_in("melvin", PASSWORD).email == "melvin@example.com"
    with pytest.raises(AccountError):
        check_password("x" * 11)
