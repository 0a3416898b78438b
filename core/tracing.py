"""Core, beside every flow: each AWS call a function makes (DynamoDB, SNS, IoT's data plane) as an X-Ray subsegment of
its invocation's trace, sent to the X-Ray daemon Lambda runs beside a traced function. A few lines on botocore's
events instead of the X-Ray SDK, whose import and patching the cold-start targets have no room for
(docs/SCALING.md). Outside a traced Lambda (no daemon address) nothing is registered."""
from __future__ import annotations

import os
import socket
import time
from typing import Any

import orjson

HEADER = b'{"format": "json", "version": 1}\n'
_STARTED = "turnout_trace"


def _daemon(address: str) -> tuple[str, int] | None:
    """The daemon's UDP address from AWS_XRAY_DAEMON_ADDRESS: host:port, or "udp:host:port tcp:host:port"."""
    for part in address.split():
        host_port = part.removeprefix("udp:")
        if not part.startswith("tcp:") and ":" in host_port:
            host, _, port = host_port.rpartition(":")
            return host, int(port)
    return None


def _trace() -> tuple[str, str] | None:
    """(trace id, parent segment id) of the invocation running now, when it is sampled; Lambda sets the header
    in the environment for each invocation."""
    parts = dict(part.split("=", 1) for part in os.environ.get("_X_AMZN_TRACE_ID", "").split(";") if "=" in part)
    if parts.get("Sampled") != "1" or "Root" not in parts or "Parent" not in parts:
        return None
    return parts["Root"], parts["Parent"]


class _Subsegments:
    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def started(self, model: Any = None, context: dict | None = None, **_: Any) -> None:
        if context is not None and model is not None:
            context[_STARTED] = (time.time(), model.service_model.service_id, model.name)

    def ended(self, http_response: Any = None, context: dict | None = None, exception: Exception | None = None,
              **_: Any) -> None:
        started = context.pop(_STARTED, None) if context is not None else None
        trace = _trace()
        if started is None or trace is None:
            return
        at, service, operation = started
        status = getattr(http_response, "status_code", None)
        document: dict[str, Any] = {
            "name": str(service), "id": os.urandom(8).hex(), "trace_id": trace[0], "parent_id": trace[1],
            "type": "subsegment", "namespace": "aws", "start_time": at, "end_time": time.time(),
            "aws": {"operation": operation}}
        if status is not None:
            document["http"] = {"response": {"status": status}}
        if exception is not None or (status or 0) >= 500:
            document["fault"] = True
        elif status == 429 or (status or 0) >= 400:
            document["error" if status != 429 else "throttle"] = True
        try:
            self.socket.sendto(HEADER + orjson.dumps(document), self.address)
        except OSError:
            pass  # a trace is never worth failing a request for


def install(events: Any, environ: dict[str, str] | os._Environ = os.environ) -> bool:
    """Registers the subsegments on a botocore session's (or client's) events, when a daemon is there to take them."""
    address = _daemon(environ.get("AWS_XRAY_DAEMON_ADDRESS", ""))
    if address is None:
        return False
    subsegments = _Subsegments(address)
    events.register("before-call", subsegments.started)
    events.register("after-call", subsegments.ended)
    events.register("after-call-error", subsegments.ended)
    return True
