"""Local stack: the Lambda runtime's part - each function imported on first use, as template.yaml declares it, and
invoked with the `context` Lambda passes - shared by the gateway, the broker's topic rule, the stream reader and
the reminder schedule."""
from __future__ import annotations

import importlib
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from deploy.template import load_template

ACCOUNT_ID = "123456789012"
# How many invocations of one function run at once; further requests wait their turn. In AWS each runs
# in its own process; here all share one interpreter and one serialized moto, where dozens of handler threads
# only fight over the GIL and the moto lock, and a few at a time finish the same work sooner (docs/SCALING.md,
# "What the local stack's settings stand on"). More than one, so the handlers' conditional writes still race as
# they do in AWS.
CONCURRENCY = 4


class LambdaContext:
    """What the Lambda runtime passes as `context`, for one invocation."""

    def __init__(self, function_name: str, *, timeout_seconds: float, memory_mb: int):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:local:{ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LambdaFunction:
    """A Lambda entry point imported on first use: its module may need the stack's endpoint set first,
    and a handler that is not there yet must not keep the rest of the stack down."""

    def __init__(self, name: str, handler: str, *, timeout_seconds: float, memory_mb: int,
                 concurrency: int = CONCURRENCY):
        self.name = name
        self.module, _, self.attribute = handler.rpartition(".")
        self.timeout_seconds = timeout_seconds
        self.memory_mb = memory_mb
        self.problem: str | None = None  # why it could not be loaded, for /health and describe()
        self._handler: Callable[[Any, Any], Any] | None = None
        self._lock = threading.Lock()
        self._instances = threading.BoundedSemaphore(concurrency)

    @classmethod
    def from_template(cls, logical_id: str, default_handler: str) -> LambdaFunction:
        """The function as template.yaml declares it (handler, timeout, memory), so local matches deployed."""
        template = load_template()
        defaults = template.get("Globals", {}).get("Function", {})
        properties = template["Resources"].get(logical_id, {}).get("Properties", {})
        return cls(
            logical_id,
            properties.get("Handler", default_handler),
            timeout_seconds=float(properties.get("Timeout", defaults.get("Timeout", 3))),
            memory_mb=int(properties.get("MemorySize", defaults.get("MemorySize", 128))),
        )

    def load(self) -> Callable[[Any, Any], Any]:
        with self._lock:
            if self._handler is None:
                try:
                    self._handler = getattr(importlib.import_module(self.module), self.attribute)
                except Exception as err:
                    self.problem = f"{self.module}.{self.attribute} failed to load: {err!r}"
                    raise
                self.problem = None
            return self._handler

    def loaded(self) -> bool:
        return self._handler is not None

    def invoke(self, event: object) -> object:
        handler = self.load()
        with self._instances:
            context = LambdaContext(f"turnout-local-{self.name}", timeout_seconds=self.timeout_seconds,
                                    memory_mb=self.memory_mb)
            return handler(event, context)
