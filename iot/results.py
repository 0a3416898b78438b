"""IoT edge, last step: a click's outcome as short JSON a device can show, published to iotbutton/{serial}/result."""
from __future__ import annotations

from typing import Any

import orjson

from core import buttons, topics
from core.values import Press


def publish(result: dict[str, Any]) -> None:
    """Raises whatever the transport raises, so the delivery is retried rather than silently unanswered."""
    buttons.publish(topics.results(result["serial"]), orjson.dumps(result))


def of(serial: str, click_id: str | None, press: Press) -> dict[str, Any]:
    """The message a button is sent for one click: what happened, to which event, where the person stands."""
    result: dict[str, Any] = {"serial": serial, "click": press.click, "click_id": click_id, "outcome": press.outcome}
    if press.error is not None:
        code, message = press.error
        result["error"] = {"code": code, "message": message}
        return result
    if press.event is not None:
        result.update(event_id=press.event.event_id, event_name=press.event.name,
                      starts_at=press.event.starts_at.isoformat())
    if press.status is not None:
        result.update(status=press.status, position=press.position)
    if press.in_line is not None:
        # Why the party waits (core.lines), for the device to word: "2 places are left; your party of 3 ...".
        result["in_line"] = {"reason": press.in_line.reason, "places_left": press.in_line.places_left,
                             "party": press.in_line.party}
    return result
