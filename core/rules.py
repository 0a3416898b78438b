"""Core rules: the decisions services and the store make that touch no table, as plain functions of values."""
from __future__ import annotations

import orjson


def request(action: str, *about: str | None, **arguments: object) -> str:
    """What a request asked for, as text stored beside its outcome: a request id's outcome answers only a
    request that asks for the very same (action, what it is about, and the arguments that change its effect)."""
    return orjson.dumps([action, about, arguments], option=orjson.OPT_SORT_KEYS).decode()

