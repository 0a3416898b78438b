"""IoT edge, on the device: a running button's one kept-open MQTT connection - clicks out, each with its own clickId,
results and notices in. A click made while the link is down is refused at once (Offline), never queued for later."""
from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from awscrt import mqtt

from core import topics
from iot.device import NoAnswer, Target, connect

log = logging.getLogger(__name__)

# The first connection after boot is retried by this module (awscrt reconnects only a link that was up once).
FIRST_CONNECT_BACKOFF = (0.5, 1.0, 2.0, 4.0)
SUBSCRIBE_TIMEOUT_SECONDS = 10.0
ANSWERS_REMEMBERED = 64

Message = dict[str, Any]


class Offline(Exception):
    """The link is down right now: the click was not sent."""


class Link:
    """Connects in the background and keeps the connection; `click` publishes one click and waits for its answer.

    on_notice hears every notice; on_late hears an answer that came after its click stopped waiting (the click counted
    after all: a late signup is still a signup). Both are called on awscrt's thread: hand the work over, return fast."""

    def __init__(self, target: Target, serial: str, *, answer_timeout: float,
                 on_notice: Callable[[Message], None], on_late: Callable[[Message], None]) -> None:
        self.target = target
        self.serial = serial
        self.answer_timeout = answer_timeout
        self._on_notice = on_notice
        self._on_late = on_late
        self._up = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._waiting: dict[str, tuple[threading.Event, list[Message]]] = {}
        # QoS 1 may hand the same answer over twice (a resent PUBLISH): the clicks answered lately, to show each once.
        self._answered: deque[str] = deque(maxlen=ANSWERS_REMEMBERED)
        # A QoS 1 publish written to a link that died unnoticed is failed by awscrt when the answer is given up on,
        # rather than kept in flight for a reconnect hours later (awscrt's protocol_operation_timeout_ms).
        self.connection = connect(target, on_interrupted=self._interrupted, on_resumed=self._resumed,
                                  operation_timeout_ms=int(answer_timeout * 1000))
        self.connection.on_message(self._message)
        self._thread = threading.Thread(target=self._first_connect, name="button-link", daemon=True)

    @property
    def up(self) -> bool:
        return self._up.is_set()

    def start(self) -> None:
        self._thread.start()

    def wait_up(self, timeout: float) -> bool:
        return self._up.wait(timeout)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(SUBSCRIBE_TIMEOUT_SECONDS)
        self._up.clear()
        try:
            self.connection.disconnect().result(2)
        except Exception:
            pass  # never connected, or already gone: the broker drops the link either way

    def click(self, click_type: str, click_id: str | None = None) -> Message:
        """Publishes one click and returns Turnout's answer to it. Raises Offline at once when the link is down,
        NoAnswer when nothing came back within answer_timeout (a later answer goes to on_late)."""
        if click_type not in topics.CLICK_TYPES:
            raise ValueError(f"a click is one of {', '.join(topics.CLICK_TYPES)}, not {click_type!r}")
        if not self.up:
            raise Offline(f"not connected to {self.target.host}:{self.target.port}")
        click_id = click_id or uuid.uuid4().hex
        answered = threading.Event()
        answer: list[Message] = []
        with self._lock:
            self._waiting[click_id] = (answered, answer)
        try:
            payload = json.dumps({"serialNumber": self.serial, "clickType": click_type, "clickId": click_id})
            self.connection.publish(topics.clicks(self.serial), payload, mqtt.QoS.AT_LEAST_ONCE)
            log.info("sent %s click %s", click_type, click_id)
            if not answered.wait(self.answer_timeout):
                raise NoAnswer(f"no answer to click {click_id} within {self.answer_timeout:g} s")
            return answer[0]
        finally:
            with self._lock:
                self._waiting.pop(click_id, None)

    def _first_connect(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            failed = self._connect_and_subscribe()
            if failed is None:
                log.info("connected to %s:%s as %s", self.target.host, self.target.port, self.target.client_id)
                self._up.set()
                return
            attempt += 1
            if attempt == 1 or attempt % 10 == 0:
                log.warning("cannot reach %s:%s yet (%s); trying again", self.target.host, self.target.port, failed)
            self._stopping.wait(FIRST_CONNECT_BACKOFF[min(attempt, len(FIRST_CONNECT_BACKOFF)) - 1])

    def _connect_and_subscribe(self) -> Exception | None:
        """Connects and subscribes to the results and notices; what failed, if anything. A failure after the
        connection was made disconnects it, so the next attempt starts afresh."""
        try:
            self.connection.connect().result(SUBSCRIBE_TIMEOUT_SECONDS)
        except Exception as err:
            return err
        try:
            for topic in (topics.results(self.serial), topics.notices(self.serial)):
                subscribed, _ = self.connection.subscribe(topic, mqtt.QoS.AT_LEAST_ONCE)
                subscribed.result(SUBSCRIBE_TIMEOUT_SECONDS)
            return None
        except Exception as err:
            try:
                self.connection.disconnect().result(SUBSCRIBE_TIMEOUT_SECONDS)
            except Exception:
                pass  # the link is gone already
            return err

    def _interrupted(self, error: Exception) -> None:
        self._up.clear()
        log.warning("connection lost (%s); reconnecting", error)

    def _resumed(self) -> None:
        if self._stopping.is_set():
            return
        log.info("connection back")
        self._up.set()

    def _message(self, topic: str, payload: bytes, **kwargs: Any) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            log.warning("unreadable message on %s", topic)
            return
        if not isinstance(message, dict):
            return
        if topic == topics.notices(self.serial):
            self._on_notice(message)
            return
        if topic != topics.results(self.serial):
            return
        click_id = message.get("click_id")
        with self._lock:
            if click_id is not None:
                if click_id in self._answered:
                    log.info("the answer to click %s again: shown once", click_id)
                    return
                self._answered.append(click_id)
            waiting = self._waiting.get(click_id) if click_id is not None else None
            if waiting is not None:
                waiting[1].append(message)
                waiting[0].set()
                return
        self._on_late(message)
