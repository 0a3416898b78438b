"""API edge, the web page: serves web/ (index.html and its scripts and styles) as the API function's own files."""
from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from api import routes
from core import config

# Beside api/ in the repository and in the API function's zip (deploy/package.py copies it).
FOLDER = Path(__file__).resolve().parents[1] / "web"
INDEX = "index.html"
VERSION_MARK = "__VERSION__"  # index.html names its files /web/__VERSION__/...; the served page names the set
# The served page says whether tokens are checked, so it need not fetch /openapi.json (~55 KB) to learn it.
MODE_MARK = "__MODE__"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# Every file comes from this origin and the page talks only to it: nothing fetched from outside the stack.
# (x-content-type-options is on every answer: api.render.COMMON_HEADERS.)
SECURITY_HEADERS = {
    "content-security-policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "referrer-policy": "no-referrer",
}
NO_CACHE = "no-cache"
# A file under the current version never changes: a new set of files is a new version, named by a new page.
IMMUTABLE = "public, max-age=31536000, immutable"


@cache
def files() -> dict[str, bytes]:
    """The page's files by name, read once per container."""
    return {path.name: path.read_bytes() for path in sorted(FOLDER.iterdir())
            if path.is_file() and path.suffix in TYPES and (path.name == INDEX or routes.ASSET_FILE.fullmatch(path.name))}


@cache
def version() -> str:
    """Names this set of files: the first hex digits of a hash over all of them."""
    digest = hashlib.sha256()
    for name, data in files().items():
        digest.update(name.encode() + b"\0" + data + b"\0")
    return digest.hexdigest()[:12]


def _answer(name: str, data: bytes, cache_control: str) -> dict:
    headers = {"content-type": TYPES[Path(name).suffix], "cache-control": cache_control, **SECURITY_HEADERS}
    return {"statusCode": 200, "headers": headers, "body": data.decode("utf-8"), "isBase64Encoded": False}


def page() -> dict:
    # no-cache: the browser asks again each time (a cheap 200 of a few KB), so a new version is seen at once.
    mode = "open" if config.settings.auth_open else "checked"  # per request: a test may switch modes
    html = files()[INDEX].replace(VERSION_MARK.encode(), version().encode()).replace(MODE_MARK.encode(), mode.encode())
    return _answer(INDEX, html, NO_CACHE)


def asset(wanted_version: str, name: str) -> dict:
    """A file by name. Under another version (a page cached from before a deploy) it is today's file, not cached."""
    data = files().get(name)
    if data is None or name == INDEX:
        raise routes.AssetNotFound(name)
    return _answer(name, data, IMMUTABLE if wanted_version == version() else NO_CACHE)
