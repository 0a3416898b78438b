"""API edge, the web page: serves web/ (index.html and its scripts and styles) as the API function's own files."""
from __future__ import annotations

import hashlib
import html
import json
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from api import routing
from core import config, fields, validation

# Beside api/ in the repository and in the API function's zip (deploy/package.py copies it).
FOLDER = Path(__file__).resolve().parents[1] / "web"
INDEX = "index.html"
VERSION_MARK = "__VERSION__"  # index.html names its files /web/__VERSION__/...; the served page names the set
# The served page says whether tokens are checked, so it need not fetch the whole /openapi.json to learn it
# (docs/SCALING.md, "Sizes behind two choices").
MODE_MARK = "__MODE__"
# ...and where it signs in: issuer, client, the provider's sign-in site, and the claims the API reads.
AUTH_MARK = "__AUTH__"
# ...and the limits its fields follow, core's own, so the page never holds a copy that drifts.
LIMITS_MARK = "__LIMITS__"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# Every file comes from this origin and the page talks only to it: nothing fetched from outside the stack.
# The one exception, for signing in: the page reads the issuer's OpenID configuration and redeems codes at its token
# endpoint (connect-src below adds exactly those origins; the sign-in pages themselves are a navigation away).
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'{sign_in}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# (x-content-type-options is on every answer: api.render.COMMON_HEADERS.)
SECURITY_HEADERS = {
    "referrer-policy": "no-referrer",
}
NO_CACHE = "no-cache"
# A file under the current version never changes: a new set of files is a new version, named by a new page.
IMMUTABLE = "public, max-age=31536000, immutable"


@cache
def files() -> dict[str, bytes]:
    """The page's files by name, read once per container."""
    return {
        path.name: path.read_bytes()
        for path in sorted(FOLDER.iterdir())
        if path.is_file() and path.suffix in TYPES and (path.name == INDEX or routing.ASSET_FILE.fullmatch(path.name))
    }


@cache
def version() -> str:
    """Names this set of files: the first hex digits of a hash over all of them."""
    digest = hashlib.sha256()
    for name, data in files().items():
        digest.update(name.encode() + b"\0" + data + b"\0")
    return digest.hexdigest()[:12]


def _origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("https", "http") and parts.netloc else None


def sign_in_origins() -> list[str]:
    """Where the page talks to besides its own origin: the issuer and the provider's sign-in site."""
    settings = config.settings
    if settings.auth_open:
        return []
    found = [_origin(settings.auth_issuer), _origin(settings.sign_in_url)]
    return sorted({origin for origin in found if origin})


def sign_in_configuration() -> dict:
    settings = config.settings
    return {"issuer": settings.auth_issuer, "client_id": settings.auth_client_id, "sign_in_url": settings.sign_in_url,
            "person_claim": settings.person_claim, "group_claim": settings.group_claim,
            "organizer_group": settings.organizer_group}


def _answer(name: str, data: bytes, cache_control: str) -> dict:
    sign_in = "".join(f" {origin}" for origin in sign_in_origins())
    headers = {"content-type": TYPES[Path(name).suffix], "cache-control": cache_control,
               "content-security-policy": CONTENT_SECURITY_POLICY.format(sign_in=sign_in), **SECURITY_HEADERS}
    return {"statusCode": 200, "headers": headers, "body": data.decode("utf-8"), "isBase64Encoded": False}


def page() -> dict:
    # no-cache: the browser asks again each time (a cheap 200 of a few KB), so a new version is seen at once.
    mode = "open" if config.settings.auth_open else "checked"  # per request: a test may switch modes
    auth = html.escape(json.dumps(sign_in_configuration()), quote=True)
    limits = html.escape(json.dumps(field_limits()), quote=True)
    page = files()[INDEX].replace(VERSION_MARK.encode(), version().encode()).replace(MODE_MARK.encode(), mode.encode())
    page = page.replace(LIMITS_MARK.encode(), limits.encode())
    return _answer(INDEX, page.replace(AUTH_MARK.encode(), auth.encode()), NO_CACHE)


def field_limits() -> dict[str, object]:
    """What the page's fields may hold and when check-in opens, as core checks them (core.validation, core.config),
    and the event's fields its form is built from (core.fields.EVENT: those with a label)."""
    return {
        "event_fields": [{"name": name, **spec._asdict()} for name, spec in fields.EVENT.items() if spec.label],
        "handle_pattern": validation.HANDLE.pattern,  # the same regular expression in JavaScript's syntax
        "person_name": fields.PERSON["name"].max_length, "handle": validation.HANDLE_MAX,
        "serial": validation.SERIAL_MAX,
        "guests": validation.GUESTS_MAX, "check_in_opens_minutes": config.settings.check_in_opens_minutes,
    }


def asset(wanted_version: str, name: str) -> dict:
    """A file by name. Under another version (a page cached from before a deploy) it is today's file, not cached."""
    data = files().get(name)
    if data is None or name == INDEX:
        raise routing.AssetNotFound(name)
    return _answer(name, data, IMMUTABLE if wanted_version == version() else NO_CACHE)
