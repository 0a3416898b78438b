"""IoT edge, last step: a click's outcome as short JSON a device can show, published to iotbutton/{serial}/result."""
from __future__ import annotations

from typing import Any, Callable

import orjson

from core.config import settings
from core.values import Press

Publisher = Callable[[str, bytes], None]

# One setting picks where results go. "iot-data" (the default, what Lambda uses): AWS IoT Core's data
# plane, through a client on core's own botocore session. "local": whatever the embedding process
# installs with use_local_publisher() (the local stack's broker), so it never builds an AWS client.
MODE = settings.result_publisher
if MODE not in ("iot-data", "local"):
    raise RuntimeError(f"TURNOUT_RESULT_PUBLISHER is 'iot-data' or 'local', not {MODE!r}")

if MODE == "iot-data":
    from core import aws

    # Built once per container, at import, like every expensive client. The endpoint is botocore's
    # data-ats default unless the account's own endpoint is given.
    _iot_data = aws.client("iot-data", endpoint_url=settings.iot_data_endpoint)

    def _publish_iot_data(topic: str, payload: bytes) -> None:
        _iot_data.publish(topic=topic, qos=1, payload=payload)

    _publisher: Publisher | None = _publish_iot_data
else:
    _publisher = None


def use_local_publisher(publisher: Publisher) -> None:
    """Called by the local stack's broker: results go through it instead of AWS."""
    global _publisher
    if MODE != "local":
        raise RuntimeError("use_local_publisher needs TURNOUT_RESULT_PUBLISHER=local before iot is imported")
    _publisher = publisher


def topic(serial: str) -> str:
    return f"iotbutton/{serial}/result"


def publish(result: dict[str, Any]) -> None:
    """Raises whatever the transport raises, so the delivery is retried rather than silently unanswered."""
    if _publisher is None:
        raise RuntimeError("No result publisher is installed (TURNOUT_RESULT_PUBLISHER=local without a broker).")
    _publisher(topic(result["serial"]), orjson.dumps(result))


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
    return result
