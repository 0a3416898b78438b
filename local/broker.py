"""Local stack: AWS IoT Core's stand-in - an MQTT broker on loopback whose topic rule hands each iotbutton/+ message
to the real IoT Lambda handler, asynchronously and with Lambda's retries, and carries its results back to the button."""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amqtt.broker import Broker
from amqtt.contexts import BrokerConfig, ListenerConfig
from amqtt.errors import BrokerError
from amqtt.plugins.base import BaseAuthPlugin, BasePlugin
from amqtt.session import Session

from local import failures
from local.runtime import LambdaContext, LambdaFunction

log = logging.getLogger(__name__)

# The rule template.yaml gives the button function, and what the rule below does by hand.
RULE_SQL = "SELECT *, topic(2) AS topicSerial, newuuid() AS deliveryId FROM 'iotbutton/+'"
# Lambda retries a failed asynchronous invocation twice, after one and then two minutes; locally the
# same two retries come after a second and two, so a press is still answered while someone waits.
RETRY_DELAYS = (1.0, 2.0)
PUBLISH_TIMEOUT_SECONDS = 5.0
START_TIMEOUT_SECONDS = 10.0


def select(topic: str, payload: bytes) -> dict[str, Any] | None:
    """RULE_SQL applied to one message: the event the Lambda receives, or None when the rule does not fire.

    IoT Core cannot add fields to a payload that is not a JSON object, so such a message fails the rule
    (in AWS it would go to the rule's error action) and never reaches the function."""
    levels = topic.split("/")
    if len(levels) != 2 or levels[0] != "iotbutton" or not levels[1]:
        return None
    try:
        message = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        message = None
    if not isinstance(message, dict):
        log.warning(
            "rule on %s: the payload is not a JSON object, the function is not invoked (%.200r)", topic, payload
        )
        return None
    return {**message, "topicSerial": levels[1], "deliveryId": str(uuid.uuid4())}


class ButtonRule:
    """The topic rule's Lambda action: an asynchronous invocation per message on a pool of threads, so the
    broker's loop never waits on DynamoDB, and up to two retries of a failed invocation with the same
    request id (as Lambda keeps it). A message that fails every attempt is handed to `on_failure` as Lambda's
    on-failure record (the stack keeps it in the data folder, as AWS keeps it in the failure queue)."""

    def __init__(self, function: LambdaFunction, *, retry_delays: tuple[float, ...] = RETRY_DELAYS,
                 workers: int = 4, on_failure: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.function = function
        self.retry_delays = retry_delays
        self.on_failure = on_failure
        self.delivered = 0
        self.failed = 0
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="iot-rule")
        self._closing = threading.Event()

    def submit(self, topic: str, payload: bytes) -> Future | None:
        """Called on the broker's loop for every message a client publishes; never raises into the broker."""
        try:
            event = select(topic, payload)
            if event is None or self._closing.is_set():
                return None
            return self._pool.submit(self._invoke, event)
        except Exception:
            log.exception("rule on %s: could not hand the message over", topic)
            return None

    def _invoke(self, event: dict[str, Any]) -> None:
        request_id = str(uuid.uuid4())
        error: BaseException | None = None
        for attempt, delay in enumerate((0.0, *self.retry_delays)):
            if delay and self._closing.wait(delay):
                break
            context = LambdaContext(f"turnout-local-{self.function.name}",
                                    timeout_seconds=self.function.timeout_seconds, memory_mb=self.function.memory_mb)
            context.aws_request_id = request_id
            try:
                self.function.load()(event, context)
            except Exception as failed:
                error = failed
                log.exception("%s failed on attempt %d of %d (request %s)", self.function.name, attempt + 1,
                              1 + len(self.retry_delays), request_id)
                continue
            self.delivered += 1
            return
        self.failed += 1
        if error is None:  # closing before the first attempt: nothing ran, nothing failed
            return
        log.error("%s: the click of %s failed %d attempts; kept as its on-failure record (request %s)",
                  self.function.name, event.get("topicSerial"), 1 + len(self.retry_delays), request_id)
        if self.on_failure is not None:
            self.on_failure(failures.async_failure(self.function.name, request_id, event, 1 + len(self.retry_delays),
                                                   error))

    def close(self) -> None:
        """Stops retrying and waits for the invocations already running."""
        self._closing.set()
        self._pool.shutdown(wait=True, cancel_futures=True)


class RulePlugin(BasePlugin):
    """Sees every message a client publishes (after topic checks) and passes it to the rule."""

    @dataclass
    class Config:
        rule: Any = None

    async def on_broker_message_broadcast(self, *, client_id: str, message: Any) -> None:
        self.config.rule.submit(message.topic, bytes(message.data or b""))


class LoopbackAuthPlugin(BaseAuthPlugin):
    """Every client on this machine is let in, as IoT Core lets in every valid certificate. Unlike amqtt's
    anonymous plugin this keeps sessions non-anonymous, which is what makes amqtt keep a persistent session's
    QoS 1 messages while its device is offline."""

    @dataclass
    class Config:
        pass

    async def authenticate(self, *, session: Session) -> bool:
        return True


class BrokerComponent:
    """The stack's MQTT component: an amqtt broker on its own thread and event loop, plus the button rule."""

    name = "broker"

    def __init__(self, *, host: str, port: int, function: LambdaFunction,
                 retry_delays: tuple[float, ...] = RETRY_DELAYS, failures_path: Path | None = None) -> None:
        self.host = host
        self.port = port
        self.rule = ButtonRule(function, retry_delays=retry_delays,
                               on_failure=failures.JsonLines(failures_path) if failures_path else None)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Broker | None = None
        self._serving = False

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self) -> None:
        from core import buttons  # imported here: TURNOUT_RESULT_PUBLISHER must be set first (build_component)

        try:
            self.rule.function.load()
        except Exception:
            # Reported by ready(); the broker still starts so devices connect and the reason is in the log.
            log.exception("The IoT button handler could not be loaded")
        buttons.use_local_publisher(self.publish)  # click results and notices alike
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mqtt-broker", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(START_TIMEOUT_SECONDS)
        self._serving = True

    async def _start(self) -> None:
        config = BrokerConfig(
            listeners={"default": ListenerConfig(bind=f"{self.host}:{self.port}")},
            plugins={
                f"{__name__}.LoopbackAuthPlugin": {},
                f"{__name__}.RulePlugin": {"rule": self.rule},
            },
        )
        self._broker = Broker(config, loop=asyncio.get_running_loop())
        try:
            await self._broker.start()
        except BrokerError as err:
            # The same one line as a taken HTTP or DynamoDB port, rather than amqtt's traceback.
            raise OSError(f"cannot listen on {self.host}:{self.port} ({err}); set TURNOUT_MQTT_PORT") from None
        if self.port == 0:
            server = self._broker._servers["default"].instance  # the one place amqtt keeps the bound socket
            self.port = server.sockets[0].getsockname()[1]

    def publish(self, topic: str, payload: bytes) -> None:
        """The result publisher the IoT handler uses locally: returns once the broker has taken the message."""
        if self._loop is None or self._broker is None or not self._serving:
            raise ConnectionError("the local MQTT broker is not running")
        done = asyncio.run_coroutine_threadsafe(self._broker.internal_message_broadcast(topic, payload), self._loop)
        done.result(PUBLISH_TIMEOUT_SECONDS)

    def stop(self) -> None:
        self._serving = False
        self.rule.close()
        if self._loop is None:
            return
        if self._broker is not None and self._broker.transitions.is_started():
            try:
                asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop).result(START_TIMEOUT_SECONDS)
            except Exception:
                log.exception("the MQTT broker did not shut down cleanly")
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._loop.close()
        self._loop = None

    def ready(self) -> bool:
        return self._serving and self.rule.function.loaded() and self._broker is not None \
            and self._broker.transitions.is_started()

    def describe(self) -> str:
        problem = f"  NOT READY: {self.rule.function.problem}" if self.rule.function.problem else ""
        return (f"MQTT broker       {self.url}   rule iotbutton/+ -> {self.rule.function.module}, "
                f"results on iotbutton/{{serial}}/result{problem}")


def build_component(settings: Any) -> BrokerComponent:
    """What local/stack.py calls; binds nothing until start()."""
    # amqtt logs every connection and state change at INFO; the rule's own lines are the ones worth reading.
    for noisy in ("amqtt", "transitions"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return BrokerComponent(host=settings.host, port=settings.mqtt_port,
                           function=LambdaFunction.from_template("ButtonFunction", "iot.handler.lambda_handler"),
                           failures_path=Path(settings.data_dir) / failures.BUTTON_FAILURES)
