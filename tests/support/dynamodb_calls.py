"""Tests' hook on the table's DynamoDB calls: botocore's own events on the client of pynamodb's connection."""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from core.table import connection


@contextlib.contextmanager
def hooked(before: Callable[[str, dict[str, Any]], None] | None = None,
           after: Callable[[str], None] | None = None) -> Iterator[None]:
    """Inside the block, before(operation, params) runs as each DynamoDB call is built and after(operation) once
    its answer is in; either may raise, as a call failing before or after it reached the table would."""
    events = connection.client.meta.events
    hooks: list[tuple[str, Callable[..., None]]] = []
    if before is not None:
        hooks.append(("before-parameter-build.dynamodb", lambda params, model, **_: before(model.name, params)))
    if after is not None:
        hooks.append(("after-call.dynamodb", lambda model, **_: after(model.name)))
    for name, hook in hooks:
        events.register(name, hook)
    try:
        yield
    finally:
        for name, hook in hooks:
            events.unregister(name, hook)
