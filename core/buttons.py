"""Core, edge transport: a message published to a button's MQTT topic. The button's function (iot/) answers clicks
and the notify function (notify/) tells people's buttons what changed, both through this one publisher."""
from __future__ import annotations

from collections.abc import Callable

from core.config import settings

Publisher = Callable[[str, bytes], None]

# One setting picks the way. "iot-data" (the default, what Lambda uses): AWS IoT Core's data plane, through a
# client on core's own botocore session. "local": whatever the embedding process installs with
# use_local_publisher() (the local stack's broker), so no AWS client is built.
MODE = settings.result_publisher
if MODE not in ("iot-data", "local"):
    raise RuntimeError(f"TURNOUT_RESULT_PUBLISHER is 'iot-data' or 'local', not {MODE!r}")

_publisher: Publisher | None = None
if MODE == "iot-data":
    from core import aws

    # Built once per container, at import, like every expensive client. The endpoint is botocore's data-ats
    # default unless the account's own endpoint is given.
    _iot_data = aws.client("iot-data", endpoint_url=settings.iot_data_endpoint)

    def _publish_iot_data(topic: str, payload: bytes) -> None:
        _iot_data.publish(topic=topic, qos=1, payload=payload)

    _publisher = _publish_iot_data


def use_local_publisher(publisher: Publisher) -> None:
    """Called by the local stack's broker: everything for buttons goes through it instead of AWS."""
    global _publisher
    if MODE != "local":
        raise RuntimeError("use_local_publisher needs TURNOUT_RESULT_PUBLISHER=local before core.buttons is imported")
    _publisher = publisher


def publish(topic: str, payload: bytes) -> None:
    """Raises whatever the transport raises, so the delivery is retried rather than silently lost."""
    if _publisher is None:
        raise RuntimeError("No button publisher is installed (TURNOUT_RESULT_PUBLISHER=local without a broker).")
    _publisher(topic, payload)
