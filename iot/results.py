"""IoT edge, last step: a click's outcome as short JSON a device can show, published to iotbutton/{serial}/result."""
from __future__ import annotations

import json
from typing import Any, Callable

from core.config import settings
from core.errors import TurnoutError
from core.values import Cancellation, Event, Signup, SignupOutcome

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
    _publisher(topic(result["serial"]), json.dumps(result, separators=(",", ":")).encode())


def _base(serial: str, click_type: str | None, click_id: str | None, outcome: str) -> dict[str, Any]:
    return {"serial": serial, "click": click_type, "click_id": click_id, "outcome": outcome}


def _about(result: dict[str, Any], event: Event, signup: Signup) -> dict[str, Any]:
    result.update(event_id=event.event_id, event_name=event.name, starts_at=event.starts_at.isoformat(),
                  status=signup.status, position=signup.position)
    return result


def signed_up(serial: str, click_type: str, click_id: str | None, event: Event, outcome: SignupOutcome) -> dict[str, Any]:
    if not outcome.created:
        name = "already_signed_up"
    elif outcome.signup.status == "waitlisted":
        name = "waitlisted"
    else:
        name = "signed_up"
    return _about(_base(serial, click_type, click_id, name), event, outcome.signup)


def cancelled(serial: str, click_type: str, click_id: str | None, event: Event, cancellation: Cancellation) -> dict[str, Any]:
    return _about(_base(serial, click_type, click_id, "cancelled"), event, cancellation.cancelled)


def checked_in(serial: str, click_type: str, click_id: str | None, event: Event, signup: Signup) -> dict[str, Any]:
    return _about(_base(serial, click_type, click_id, "checked_in"), event, signup)


def refused(serial: str, click_type: str | None, click_id: str | None, error: TurnoutError) -> dict[str, Any]:
    """A domain error, or a payload the handler could not read, told to the button in a few words."""
    result = _base(serial, click_type, click_id, "error")
    result["error"] = {"code": error.code, "message": error.message}
    return result
