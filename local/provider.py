"""Local stack, the OpenID provider: Cognito's part on this machine - sign-up and sign-in pages, the authorization code
grant with PKCE and refresh tokens (Authlib's OAuth 2 server), access tokens with Cognito's claims, the JWKS, and the
three admin calls of Cognito's API that make and list organizers. On loopback only; never in a Lambda zip."""
from __future__ import annotations

import html
import json
import logging
import secrets
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, Response, redirect, request
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

from local.accounts import Account, AccountError, Accounts, password_policy
from local.authorizer import mint, signing_key
from local.serving import ServedInThread

log = logging.getLogger(__name__)

CLIENT_ID = "turnout-page"  # the page's public client, as template.yaml's PageClient
SCOPES = ("openid", "email")  # template.yaml's PageClientSettings AllowedOAuthScopes
POOL_ID = "local_people"  # what TURNOUT_USER_POOL_ID names locally; the admin calls accept only it
CODE_SECONDS = 300
REFRESH_DAYS = 30
TOKEN_MINUTES = 60


def access_token(key: RSAKey, *, issuer: str, username: str, groups: list[str], scope: str = " ".join(SCOPES),
                 minutes: float = TOKEN_MINUTES, now: float | None = None, person_claim: str = "username",
                 group_claim: str = "cognito:groups") -> str:
    """An access token with the claims of a Cognito access token: no aud, but client_id and token_use."""
    claims: dict[str, Any] = {"sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"turnout:{username}")),
                              "client_id": CLIENT_ID, "token_use": "access", "scope": scope,
                              "auth_time": int(time.time() if now is None else now), "version": 2,
                              person_claim: username}
    if groups:
        claims[group_claim] = list(groups)
    return mint(key, claims, minutes=minutes, now=now, issuer=issuer, audience=None)


class Client:
    """The page's app client: public (no secret), code grant with PKCE, refresh tokens, its callback the page."""

    def __init__(self, redirect_uris: tuple[str, ...]) -> None:
        self.redirect_uris = redirect_uris

    def get_client_id(self) -> str:
        return CLIENT_ID

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(each for each in (scope or "").split() if each in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


class Grant:
    """An authorization code or a refresh token: who, for which client, with what scope, until when."""

    def __init__(self, username: str, scope: str, expires_at: float, redirect_uri: str = "",
                 code_challenge: str | None = None, code_challenge_method: str | None = None) -> None:
        self.username = username
        self.scope = scope
        self.expires_at = expires_at
        self.redirect_uri = redirect_uri
        self.code_challenge = code_challenge
        self.code_challenge_method = code_challenge_method
        self.revoked = False

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def check_client(self, client: Client) -> bool:
        return client.get_client_id() == CLIENT_ID

    def is_expired(self) -> bool:
        return time.time() >= self.expires_at

    def is_revoked(self) -> bool:
        return self.revoked


class Provider:
    """The provider's Flask app and its server on 127.0.0.1; `issuer` is what its tokens' iss says."""

    name = "auth"

    def __init__(self, *, port: int, data_dir: Path, token_minutes: float = TOKEN_MINUTES) -> None:
        self.accounts = Accounts(data_dir)
        self.key: RSAKey = signing_key(data_dir)
        self.client = Client(())
        self.token_minutes = token_minutes
        self.use_claims("username", "cognito:groups", "organizers")
        self._codes: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}
        self._lock = threading.Lock()
        self.app = self._app()
        try:
            self._server = make_server("127.0.0.1", port, self.app, threaded=True)
        except OSError as err:
            raise OSError(err.errno, f"cannot listen on 127.0.0.1:{port} ({err.strerror}); "
                                     "set TURNOUT_AUTH_PORT to use another port") from None
        self.port = self._server.server_port
        self.issuer = f"http://127.0.0.1:{self.port}"
        self._served = ServedInThread(self._server, "auth")

    def allow_page(self, *urls: str) -> None:
        """Where the page is: its callback and sign-out URL (known once the gateway has its port)."""
        self.client.redirect_uris = tuple(urls)

    def use_claims(self, person_claim: str, group_claim: str, organizer_group: str) -> None:
        """The claim names the API reads (core.config), so local tokens carry what it looks for."""
        self.person_claim, self.group_claim, self.organizer_group = person_claim, group_claim, organizer_group

    # --- the stack's component -------------------------------------------------------------------------------

    def start(self) -> None:
        self._served.start()

    def stop(self) -> None:
        self._served.stop()

    def ready(self) -> bool:
        return self._served.serving()

    def describe(self) -> str:
        return f"Sign-in (OpenID)  {self.issuer}   sign up and sign in from the page; tokens checked as in AWS"

    # --- tokens ------------------------------------------------------------------------------------------------

    def access_token(self, username: str, groups: list[str], *, scope: str = " ".join(SCOPES)) -> str:
        return access_token(self.key, issuer=self.issuer, username=username, groups=groups, scope=scope,
                            minutes=self.token_minutes, person_claim=self.person_claim, group_claim=self.group_claim)

    def _generate_token(self, grant_type: str, client: Client, user: Account | None = None, scope: str | None = None,
                        expires_in: int | None = None, include_refresh_token: bool = True) -> dict[str, Any]:
        assert user is not None
        token: dict[str, Any] = {"token_type": "Bearer", "expires_in": int(self.token_minutes * 60),
                 "access_token": self.access_token(user.username, user.groups, scope=scope or "")}
        if include_refresh_token:
            token["refresh_token"] = secrets.token_urlsafe(48)
            with self._lock:
                self._refresh[token["refresh_token"]] = Grant(user.username, scope or "",
                                                              time.time() + REFRESH_DAYS * 86400)
        return token

    # --- the app -------------------------------------------------------------------------------------------------

    def _app(self) -> Flask:
        app = Flask("turnout-local-provider")
        provider = self
        server = AuthorizationServer(app, query_client=lambda client_id: provider.client if client_id == CLIENT_ID
                                     else None, save_token=lambda token, req: None)
        server.register_token_generator("default", provider._generate_token)

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["none"]

            def save_authorization_code(self, code: str, req: Any) -> Grant:
                data = req.payload.data
                grant = Grant(req.user.username, req.payload.scope or "", time.time() + CODE_SECONDS,
                              req.payload.redirect_uri, data.get("code_challenge"), data.get("code_challenge_method"))
                with provider._lock:
                    provider._codes[code] = grant
                return grant

            def query_authorization_code(self, code: str, client: Client) -> Grant | None:
                with provider._lock:
                    grant = provider._codes.get(code)
                return grant if grant is not None and not grant.is_expired() else None

            def delete_authorization_code(self, grant: Grant) -> None:
                with provider._lock:
                    for code, each in list(provider._codes.items()):
                        if each is grant:
                            del provider._codes[code]

            def authenticate_user(self, grant: Grant) -> Account | None:
                return provider.accounts.get(grant.username)

        class RefreshGrant(grants.RefreshTokenGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["none"]

            def authenticate_refresh_token(self, refresh_token: str) -> Grant | None:
                with provider._lock:
                    grant = provider._refresh.get(refresh_token)
                return grant if grant is not None and not grant.is_expired() and not grant.revoked else None

            def revoke_old_credential(self, grant: Grant) -> None:
                # Cognito keeps a refresh token until it expires (no rotation unless asked for): so does this one.
                pass

            def authenticate_user(self, grant: Grant) -> Account | None:
                # Groups are read again: a person made an organizer sees it at the next refresh, as with Cognito.
                return provider.accounts.get(grant.username)

        # PKCE is required of this public client, S256 or plain, as Cognito requires it.
        server.register_grant(CodeGrant, [CodeChallenge(required=True)])
        server.register_grant(RefreshGrant)

        @app.after_request
        def cross_origin(response: Response) -> Response:
            # The page calls the token endpoint and reads the discovery document and keys from its own origin.
            if request.path in ("/oauth2/token", "/.well-known/openid-configuration", "/.well-known/jwks.json"):
                response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Cache-Control"] = "no-store"
            return response

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Response:
            return Response(json.dumps(provider.configuration()), mimetype="application/json")

        @app.get("/.well-known/jwks.json")
        def jwks() -> Response:
            keys = KeySet([provider.key]).as_dict(private=False)
            return Response(json.dumps(keys), mimetype="application/json")

        @app.post("/oauth2/token")
        def token() -> Response:
            return server.create_token_response()

        @app.route("/oauth2/authorize", methods=["GET", "POST"])
        def authorize() -> Any:
            return provider._page(server, "signin")

        @app.route("/signup", methods=["GET", "POST"])
        def sign_up() -> Any:
            return provider._page(server, "signup")

        @app.post("/confirm")
        def confirm() -> Any:
            return provider._page(server, "confirm")

        @app.get("/logout")
        def logout() -> Any:
            # Cognito's /logout: back to a sign-out URL the client registered (no session is kept here to end).
            target = request.args.get("logout_uri", "")
            if request.args.get("client_id") != CLIENT_ID or not provider.client.check_redirect_uri(target):
                return Response("Unknown client or sign-out address.", status=400, mimetype="text/plain")
            return redirect(target)

        @app.post("/")
        def cognito_api() -> Response:
            return provider._admin_call(
                request.headers.get("X-Amz-Target", ""), request.get_json(force=True, silent=True)
            )

        return app

    def configuration(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/oauth2/authorize",
            "token_endpoint": f"{self.issuer}/oauth2/token",
            "jwks_uri": f"{self.issuer}/.well-known/jwks.json",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": list(SCOPES),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    # --- the sign-in, sign-up and confirmation pages ------------------------------------------------------------

    def _page(self, server: AuthorizationServer, step: str) -> Any:
        try:
            grant = server.get_consent_grant(end_user=None)
            if request.args.get("code_challenge_method") != "S256" or not request.args.get("code_challenge"):
                # Authlib lets a request without PKCE through to the token endpoint; this page client must use it.
                raise InvalidRequestError("This client signs in with PKCE: code_challenge and code_challenge_method "
                                          "S256 are required.")
        except OAuth2Error as err:
            return Response(_document("Cannot sign in", f"<p>{html.escape(err.get_error_description() or err.error)}"
                                      "</p>"), status=400, mimetype="text/html")
        query = urlencode(request.args)
        if request.method == "GET":
            return _form(step, query)
        form = request.form
        try:
            if step == "signin":
                account = self.accounts.sign_in(form.get("username", ""), form.get("password", ""))
            elif step == "signup":
                account = self.accounts.sign_up(form.get("username", "").strip(), form.get("email", ""),
                                                form.get("password", ""))
                log.info("confirmation code for %s <%s>: %s (Cognito would email it)", account.username,
                         account.email, account.code)
                return _form("confirm", query, username=account.username, code=account.code)
            else:
                account = self.accounts.confirm(form.get("username", ""), form.get("code", ""))
        except AccountError as err:
            return _form(step, query, problem=err.message, username=form.get("username", ""), status=400)
        # Signed in (as Cognito's managed login does right after a confirmation): back to the page with a code.
        return server.create_authorization_response(grant_user=account, grant=grant)

    # --- Cognito's admin API, the part organizers need ----------------------------------------------------------

    def _admin_call(self, target: str, body: Any) -> Response:
        operation = target.rpartition(".")[2]
        body = body if isinstance(body, dict) else {}
        try:
            if body.get("UserPoolId") != POOL_ID:
                raise AccountError("ResourceNotFoundException", f"User pool {body.get('UserPoolId')} does not exist.")
            group = body.get("GroupName")
            if group != self.organizer_group:
                raise AccountError("ResourceNotFoundException", "Group not found.")
            if operation in ("AdminAddUserToGroup", "AdminRemoveUserFromGroup"):
                self.accounts.set_group(str(body.get("Username", "")), group, operation == "AdminAddUserToGroup")
                answer: dict[str, Any] = {}
            elif operation == "ListUsersInGroup":
                answer = {"Users": [{"Username": account.username, "Enabled": True,
                                     "UserStatus": "CONFIRMED" if account.confirmed else "UNCONFIRMED",
                                     "Attributes": [{"Name": "email", "Value": account.email}]}
                                    for account in self.accounts.members(group)]}
            else:
                raise AccountError(
                    "InvalidAction", f"{operation or 'That call'} is not answered by the local provider."
                )
        except AccountError as err:
            return Response(
                json.dumps({"__type": err.code, "message": err.message}),
                status=400,
                mimetype="application/x-amz-json-1.1",
            )
        return Response(json.dumps(answer), mimetype="application/x-amz-json-1.1")


_STYLE = ("body{font:16px/1.45 system-ui,sans-serif;max-width:26rem;margin:2rem auto;padding:0 1rem}"
          "label{display:block;margin:.8rem 0}input{display:block;width:100%;box-sizing:border-box;padding:.5rem;"
          "font:inherit}button{margin-top:1rem;padding:.6rem 1.2rem;font:inherit}.problem{color:#b00020}"
          ".hint{color:#555;font-size:.9rem}")


def _document(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{html.escape(title)} - Turnout</title>'
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>")


def _form(step: str, query: str, *, problem: str | None = None, username: str = "", code: str | None = None,
          status: int = 200) -> Response:
    """The provider's own pages: the person types their password here, never on Turnout's page."""
    value = html.escape(username, quote=True)
    said = f'<p class="problem" role="alert">{html.escape(problem)}</p>' if problem else ""
    if step == "signin":
        title, action, fields, button = "Sign in", "/oauth2/authorize", (
            f'<label>User name<input name="username" value="{value}" autocomplete="username" autocapitalize="none" '
            'required></label><label>Password<input name="password" type="password" autocomplete="current-password" '
            'required></label>'), "Sign in"
        other = f'<p>New here? <a href="/signup?{html.escape(query)}">Create an account</a></p>'
    elif step == "signup":
        minimum = password_policy()["MinimumLength"]
        title, action, fields, button = "Create an account", "/signup", (
            f'<label>User name<span class="hint"> - how Turnout names you: lowercase letters, digits and -, like melvin'
            f'</span><input name="username" value="{value}" autocomplete="username" autocapitalize="none" required>'
            '</label><label>Email<input name="email" type="email" autocomplete="email" required></label>'
            f'<label>Password<span class="hint"> - at least {minimum} characters</span><input name="password" '
            'type="password" autocomplete="new-password" required></label>'), "Sign up"
        other = f'<p>Have an account? <a href="/oauth2/authorize?{html.escape(query)}">Sign in</a></p>'
    else:
        hint = (f'<p class="hint">On this machine no email is sent: the code is in the stack\'s log, and here: '
                f'<output id="local-code">{html.escape(code)}</output></p>' if code else "")
        title, action, fields, button = (
            "Confirm your email",
            "/confirm",
            (
                f'<input type="hidden" name="username" value="{value}">'
                f"<p>We sent a code to your email address.</p>{hint}"
                '<label>Code<input name="code" inputmode="numeric" autocomplete="one-time-code" required></label>'
            ),
            "Confirm",
        )
        other = ""
    body = f'{said}<form method="post" action="{action}?{html.escape(query)}">{fields}<button type="submit">{button}' \
           f"</button></form>{other}"
    return Response(_document(title, body), status=status, mimetype="text/html")
