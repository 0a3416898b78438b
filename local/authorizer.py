"""Local stack: API Gateway's JWT authorizer stand-in - a bearer token is verified against the issuer's published keys
(its JWKS, found from its OpenID configuration) the way API Gateway verifies one, and its claims go where API Gateway
puts them (requestContext.authorizer.jwt). The signing key itself is the local provider's (local/provider.py)."""
from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

log = logging.getLogger(__name__)

# An issuer and audience for tests that sign their own tokens; the stack's are its provider's (local/provider.py).
ISSUER = "https://turnout.local/issuer"
AUDIENCE = "turnout-local"
ALGORITHM = "RS256"
KEY_FILE = "jwt-signing-key.pem"
TOKEN_MINUTES = 60

# The routes template.yaml gives `Authorizer: NONE`; every other request goes to $default, behind the authorizer.
# Calendar feeds too: a calendar app sends no token, the secret in the address is the key (core/feeds.py).
PUBLIC_ROUTES = (("GET", "/health"), ("GET", "/openapi.json"), ("GET", "/"), ("GET", "/web/{version}/{file}"),
                 ("GET", "/feeds/{feed}"))
# ...and the read routes it adds when the PublicReads parameter is "true".
PUBLIC_READ_ROUTES = (
    ("GET", "/events"),
    ("GET", "/events/{event_id}"),
    ("GET", "/events/{event_id}/signups"),
    ("GET", "/events/{event_id}/signups/{person}"),
    ("GET", "/events/{event_id}/calendar.ics"),
    ("GET", "/series/{series_id}"),
)


class Refused(Exception):
    """The token is missing or does not verify; `description` is what API Gateway's www-authenticate says."""

    def __init__(self, description: str | None) -> None:
        super().__init__(description or "no token")
        self.description = description

    @property
    def challenge(self) -> str:
        if self.description is None:
            return "Bearer"
        return f'Bearer scope="" error="invalid_token" error_description="{self.description}"'


def signing_key(data_dir: Path) -> RSAKey:
    """The stack's RSA key, kept in the data folder and made on first use (by the stack or by local.token)."""
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = RSAKey.generate_key(2048, auto_kid=True)
        draft = path.with_name(f".{KEY_FILE}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(key.as_pem(private=True))
        try:
            os.link(draft, path)  # fails if another process made the key meanwhile: then theirs is the key
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    key = RSAKey.import_key(path.read_bytes())
    key.ensure_kid()
    return key


def mint(key: RSAKey, claims: Mapping[str, Any], *, minutes: float = TOKEN_MINUTES, now: float | None = None,
         issuer: str = ISSUER, audience: str | None = AUDIENCE) -> str:
    """A signed access token with these claims over the registered ones (iss, aud unless None, iat, exp, jti)."""
    issued = int(time.time() if now is None else now)
    payload = {"iss": issuer, **({"aud": audience} if audience is not None else {}), "iat": issued,
               "exp": issued + int(minutes * 60), "jti": str(uuid.uuid4()), "token_use": "access", **claims}
    header = {"alg": ALGORITHM, "typ": "JWT", "kid": key.kid}
    return jws.serialize_compact(header, json.dumps(payload, separators=(",", ":")), key, algorithms=[ALGORITHM])


class StaticKeys:
    """One key, known in advance (tests that sign their own tokens)."""

    def __init__(self, key: RSAKey) -> None:
        self.key = key

    def find(self, kid: str) -> RSAKey | None:
        return self.key if kid == self.key.kid else None


class IssuerKeys:
    """The issuer's published keys, as API Gateway finds them: <issuer>/.well-known/openid-configuration names the
    jwks_uri; the set is cached, and read again (at most every few seconds) when a token names a key it lacks."""

    REFRESH_SECONDS = 5.0

    def __init__(self, issuer: str, *, timeout: float = 5.0) -> None:
        self.issuer = issuer.rstrip("/")
        self.timeout = timeout
        self._keys: dict[str, RSAKey] = {}
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def find(self, kid: str) -> RSAKey | None:
        with self._lock:
            if kid not in self._keys and time.monotonic() - self._read_at >= self.REFRESH_SECONDS:
                self._read_at = time.monotonic()
                try:
                    configuration = self._get(f"{self.issuer}/.well-known/openid-configuration")
                    found = KeySet.import_key_set(self._get(configuration["jwks_uri"]))
                    self._keys = {key.kid: key for key in found.keys if isinstance(key, RSAKey) and key.kid}
                except (OSError, ValueError, KeyError) as err:
                    log.warning("could not read the issuer's keys from %s: %s", self.issuer, err)
            return self._keys.get(kid)

    def _get(self, url: str) -> Any:
        with urllib.request.urlopen(url, timeout=self.timeout) as answer:
            return json.load(answer)


class Authorizer:
    """What API Gateway does before the $default route's integration: find the token, verify it, pass its claims."""

    def __init__(self, keys: RSAKey | StaticKeys | IssuerKeys, *, public_reads: bool, issuer: str = ISSUER,
                 audience: Iterable[str] = (AUDIENCE,), clock: Callable[[], float] = time.time):
        self.keys = StaticKeys(keys) if isinstance(keys, RSAKey) else keys
        self.issuer = issuer
        self.audience = frozenset(audience)
        self.clock = clock
        routes = PUBLIC_ROUTES + (PUBLIC_READ_ROUTES if public_reads else ())
        self._public = [(method, tuple(template.split("/")), template) for method, template in routes]

    def public_route(self, method: str, path: str) -> str | None:
        """The route key ("GET /health") of the public route this request matches, or None for $default."""
        parts = tuple(path.split("/"))
        for route_method, template, name in self._public:
            if route_method == method and len(template) == len(parts) and all(
                    want == got or (want[:1] == "{" and got) for want, got in zip(template, parts, strict=True)):
                return f"{method} {name}"
        return None

    def authorize(self, headers: Mapping[str, str]) -> dict[str, Any]:
        """requestContext.authorizer for a request with these (lowercase) headers; raises Refused."""
        scheme, _, rest = (headers.get("authorization") or "").strip().partition(" ")
        token = rest.strip() if scheme.lower() == "bearer" else scheme
        if not token:
            raise Refused(None)
        claims = self.verify(token)
        return {"jwt": {"claims": {name: _as_claim_string(value) for name, value in claims.items()},
                        # Scopes are listed only for a route that asks for some; no Turnout route does.
                        "scopes": None}}

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims once signature, key id, issuer, audience and times check out, as API Gateway's
        authorizer checks them (kid, iss, aud or client_id, exp, nbf, iat); raises Refused."""
        try:
            header = json.loads(_unpadded_b64decode(token.split(".", 1)[0]))
        except (ValueError, UnicodeDecodeError):
            raise Refused("token is malformed") from None
        if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
            raise Refused(f"signing method {header.get('alg') if isinstance(header, dict) else None} is invalid")
        kid = header.get("kid")
        key = self.keys.find(kid) if isinstance(kid, str) else None
        if key is None:
            raise Refused("the token's key id is not in the issuer's key set")
        try:
            claims = json.loads(jws.deserialize_compact(token, key, algorithms=[ALGORITHM]).payload)
        except (JoseError, ValueError):
            raise Refused("the token's signature does not verify") from None
        if not isinstance(claims, dict):
            raise Refused("token is malformed")
        if claims.get("iss") != self.issuer:
            raise Refused("the token does not have a valid issuer")
        audiences = claims.get("aud", claims.get("client_id"))  # client_id counts only without aud
        if not self.audience & set(audiences if isinstance(audiences, list) else [audiences]):
            raise Refused("the token does not have a valid audience")
        now = self.clock()
        if not _number(claims.get("exp")) or claims["exp"] <= now:
            raise Refused("the token has expired")
        for name in ("nbf", "iat"):
            if name in claims and (not _number(claims[name]) or claims[name] > now):
                raise Refused(f"the token's {name} is in the future")
        return claims


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _unpadded_b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _as_claim_string(value: object) -> str:
    """A claim the way API Gateway passes it to the integration: every value a string, an array as "[a b]"."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + " ".join(_as_claim_string(item) for item in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{name}:{_as_claim_string(item)}" for name, item in value.items()) + "]"
    return "" if value is None else str(value)
