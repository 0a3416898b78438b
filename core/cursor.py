"""Core: opaque page cursors. Each is bound to the list it came from; anything else is InvalidCursor."""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import orjson

from core.errors import InvalidCursor

MAX_LENGTH = 512


def encode(scope: str, position: dict[str, Any]) -> str:
    raw = orjson.dumps({"v": 1, "scope": scope, **position})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: object, scope: str) -> dict[str, Any]:
    """The position stored in a cursor handed out for `scope`; raises InvalidCursor otherwise."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_LENGTH:
        raise InvalidCursor()
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor() from None
    if not isinstance(data, dict) or data.pop("v", None) != 1 or data.pop("scope", None) != scope:
        raise InvalidCursor()
    return data


def text_field(position: dict[str, Any], name: str, prefix: str = "") -> str:
    value = position.get(name)
    if not isinstance(value, str) or not value.startswith(prefix) or len(value) > 200:
        raise InvalidCursor()
    return value

