"""IoT edge, step 1: the event a topic rule delivers becomes a Click (which button, which press, which request)."""
from __future__ import annotations

import re
from typing import Any, NamedTuple

from core import topics, validation
from core.errors import InvalidInput

CLICK_TYPES = topics.CLICK_TYPES
# Device-chosen identities end up inside a request id and a log line, so they stay short and plain.
TOKEN = re.compile(r"[A-Za-z0-9._:+-]{1,64}")


class Click(NamedTuple):
    serial: str
    click_type: str  # SINGLE | DOUBLE | LONG
    # The click's own identity: the device's clickId, else the 1-Click reportedTime, else the topic
    # rule's per-message id, else Lambda's request id (which Lambda keeps across its own retries).
    click_id: str | None
    request_id: str | None  # what core de-duplicates on; None only when nothing identifies the click


class BadClick(Exception):
    """A message the handler cannot act on. `serial` is the button to answer, or None to stay silent."""

    def __init__(self, message: str, *, serial: str | None = None, click_type: str | None = None,
                 click_id: str | None = None, request_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.serial = serial
        self.click_type = click_type
        self.click_id = click_id
        self.request_id = request_id


def parse(event: Any, aws_request_id: str | None = None) -> Click:
    """Reads the classic AWS IoT Button payload or the AWS IoT 1-Click shape, either with an optional
    clickId, plus what the rule adds (`topicSerial`, `deliveryId`). Raises BadClick."""
    if not isinstance(event, dict):
        raise BadClick("The message is not a JSON object.")

    topic_serial = _serial(event.get("topicSerial"))
    if "topicSerial" in event and topic_serial is None:
        raise BadClick("The topic does not name a valid button serial.")

    one_click = "deviceEvent" in event or "deviceInfo" in event
    if one_click:
        claimed = _path(event, "deviceInfo", "deviceId")
        raw_type = _path(event, "deviceEvent", "buttonClicked", "clickType")
        reported = _path(event, "deviceEvent", "buttonClicked", "reportedTime")
    else:
        claimed = event.get("serialNumber")
        raw_type = event.get("clickType")
        reported = None

    payload_serial = _serial(claimed)
    if topic_serial is not None and claimed is not None and payload_serial != topic_serial:
        # The topic is what IoT Core authorised the device to publish on; a payload naming another
        # button is either a bug or an attempt to press someone else's button. Nobody is answered.
        raise BadClick(f"The payload names button {claimed!r} but arrived on the topic of {topic_serial!r}.")
    serial = topic_serial or payload_serial

    click_type = raw_type if raw_type in CLICK_TYPES else None
    click_id, identity = _identity(event, reported, aws_request_id)
    request_id = f"iot:{serial}:{identity}" if serial is not None and identity is not None else None

    def bad(message: str) -> BadClick:
        return BadClick(message, serial=serial, click_type=click_type, click_id=click_id, request_id=request_id)

    if serial is None:
        shape = "deviceInfo.deviceId" if one_click else "serialNumber"
        raise bad(f"{shape} must be a button serial: 1 to 64 letters, digits, '_' or '-'.")
    if click_type is None:
        shape = "deviceEvent.buttonClicked.clickType" if one_click else "clickType"
        raise bad(f"{shape} must be one of {', '.join(CLICK_TYPES)}.")
    if "clickId" in event and not _token(event["clickId"]):
        raise bad("clickId must be 1 to 64 letters, digits or . _ : + -")
    if one_click and reported is not None and not _token(reported):
        raise bad("deviceEvent.buttonClicked.reportedTime must be a short ISO 8601 time.")
    return Click(serial=serial, click_type=click_type, click_id=click_id, request_id=request_id)


def _identity(event: dict, reported: Any, aws_request_id: str | None) -> tuple[str | None, str | None]:
    """(the id a device can match its result by, the token the request id is built from)."""
    if _token(event.get("clickId")):
        return event["clickId"], f"click:{event['clickId']}"
    if _token(reported):
        return reported, f"reported:{reported}"
    if _token(event.get("deliveryId")):
        return None, f"delivery:{event['deliveryId']}"
    if _token(aws_request_id):
        return None, f"lambda:{aws_request_id}"
    return None, None


def _serial(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return validation.serial(value)
    except InvalidInput:
        return None


def _token(value: Any) -> bool:
    return isinstance(value, str) and TOKEN.fullmatch(value) is not None


def _path(event: dict, *names: str) -> Any:
    value: Any = event
    for name in names:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value
