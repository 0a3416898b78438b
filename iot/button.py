"""IoT edge, on the device: a physical button on a Raspberry Pi (gpiozero) - a push button's presses told apart as
SINGLE, DOUBLE and LONG, sent over one kept-open connection (iot.link), and every answer and notice shown on an LED.

    python -m iot.button SERIAL                                   # the local stack's broker
    python -m iot.button SERIAL --device-dir /etc/turnout/SERIAL  # AWS IoT Core, mutual TLS

The timings and the LED's patterns are the two tables below: docs/BUTTON.md shows them to the person pressing."""
from __future__ import annotations

import argparse
import logging
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from gpiozero import LED, Button
from gpiozero.exc import BadPinFactory

from core import topics
from iot.device import NoAnswer, Target, target_of, words
from iot.link import Link, Offline

log = logging.getLogger("turnout.button")
EXIT_NO_PINS = 5  # after iot.device's 0-4: gpiozero found no way to reach the pins


@dataclass(frozen=True)
class Timings:
    """Seconds. Each is a command-line option of `run` (--long-press 1.5, ...)."""

    debounce: float = 0.03  # edges this close to the last one are the contacts bouncing, not a press
    double_window: float = 0.4  # a second press starting this soon after a release makes the click a DOUBLE
    long_press: float = 1.0  # held this long: a LONG, told while the button is still held
    answer_timeout: float = 10.0  # no answer by then: the "no answer" pattern (a later answer is shown when it comes)
    dot: float = 0.15  # "." in a pattern: a short blink
    dash: float = 0.6  # "-": a longer blink
    glow: float = 1.5  # "_": a long glow
    gap: float = 0.25  # dark between the blinks of one pattern
    rest: float = 1.0  # dark after a pattern, so two in a row read as two


# What the LED shows. While a click waits for its answer the LED is on, steadily: the press was heard.
PATTERNS = {
    "signed_up": "_",  # you're going
    "waitlisted": "--",  # the event is full: you're on the waitlist
    "cancelled": "...",  # you're no longer signed up
    "checked_in": "._",  # welcome
    "refused": "......",  # nothing changed: the answer was a refusal (an unbound button, nothing to cancel, ...)
    "no_answer": "-.-",  # sent, but no answer within answer_timeout
    "no_connection": "-..",  # not sent: the button is not connected right now
    "promoted": "..._",  # notice: a seat freed and it is yours
    "moved": ".-.",  # notice: the event's time or place changed
    "reminder": "-.",  # notice: the event is soon
    "notice": ".-",  # any other notice (the event was cancelled, ...)
}
OUTCOMES = {"signed_up": "signed_up", "waitlisted": "waitlisted", "cancelled": "cancelled",
            "checked_in": "checked_in", "error": "refused"}


def pattern_of_answer(answer: dict[str, Any]) -> str:
    outcome = answer.get("outcome")
    if outcome == "already_signed_up":  # a second SINGLE: where the person already stands
        return "waitlisted" if answer.get("status") == "waitlisted" else "signed_up"
    return OUTCOMES.get(outcome, "refused") if isinstance(outcome, str) else "refused"


def pattern_of_notice(notice: dict[str, Any]) -> str:
    what = notice.get("what")
    return what if what in ("promoted", "moved", "reminder") else "notice"


class Gestures:
    """Presses become clicks, from the times of the button's edges alone (no clock of its own, so tests give it
    theirs). A press held long_press is a LONG at once; a release followed by no press within double_window is a
    SINGLE; a second press within it makes a DOUBLE, told at its release (or when it has been held long_press)."""

    def __init__(self, timings: Timings) -> None:
        self.timings = timings
        self._last_edge = float("-inf")
        self._down_at: float | None = None
        self._released_at: float | None = None
        self._presses = 0
        self._told = False  # this gesture's click was already told (a LONG, while held)

    def pressed(self, at: float) -> str | None:
        """The click the previous gesture came to, if a late timer had not told it yet."""
        if self._down_at is not None or at - self._last_edge < self.timings.debounce:
            return None
        self._last_edge = at
        earlier = self.due(at)
        self._down_at = at
        self._presses += 1
        return earlier

    def released(self, at: float) -> str | None:
        if self._down_at is None or at - self._last_edge < self.timings.debounce:
            return None
        self._last_edge = at
        self._down_at = None
        if self._told:
            self._reset()
            return None
        if self._presses >= 2:
            self._reset()
            return "DOUBLE"
        self._released_at = at
        return None

    def due(self, at: float) -> str | None:
        """The click decided by `at` with no edge since: a LONG being held, or a SINGLE whose window closed."""
        moment = self.next_due()
        if moment is None or at < moment:
            return None
        if self._down_at is not None:
            self._told = True
            return "LONG" if self._presses == 1 else "DOUBLE"
        self._reset()
        return "SINGLE"

    def next_due(self) -> float | None:
        """When due() will next have a click to tell, if no edge comes first."""
        if self._down_at is not None:
            return None if self._told else self._down_at + self.timings.long_press
        if self._released_at is not None:
            return self._released_at + self.timings.double_window
        return None

    def _reset(self) -> None:
        self._down_at = self._released_at = None
        self._presses = 0
        self._told = False


class PushButton:
    """A gpiozero Button (wired to ground, the Pi's pull-up on its pin) feeding Gestures; `on_click` hears each click.
    A thread calls tick() when a click comes due; a test with a clock of its own calls tick() itself."""

    def __init__(self, pin: int | str, timings: Timings, on_click: Callable[[str], None], *,
                 clock: Callable[[], float] = time.monotonic, pin_factory: Any = None) -> None:
        self.gestures = Gestures(timings)
        self.clock = clock
        self._on_click = on_click
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        # Debouncing is Gestures' (on the same clock as the rest): gpiozero's bounce_time reads its own.
        self.device = Button(pin, pull_up=True, bounce_time=None, pin_factory=pin_factory)
        self.device.when_pressed = lambda *_: self._edge(self.gestures.pressed)
        self.device.when_released = lambda *_: self._edge(self.gestures.released)
        self._timer = threading.Thread(target=self._time, name="button-timer", daemon=True)

    def start(self) -> None:
        self._timer.start()

    def close(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._timer.is_alive():
            self._timer.join(2)
        self.device.close()

    def tick(self) -> None:
        with self._lock:
            click = self.gestures.due(self.clock())
        if click:
            self._on_click(click)

    def _edge(self, edge: Callable[[float], str | None]) -> None:
        with self._lock:
            click = edge(self.clock())
        self._wake.set()
        if click:
            self._on_click(click)

    def _time(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                moment = self.gestures.next_due()
            self._wake.wait(None if moment is None else max(0.0, moment - self.clock()))
            self._wake.clear()
            self.tick()


class Light:
    """An LED that plays PATTERNS. `pause(seconds)` keeps the LED as it is for that long and returns True to cut the
    pattern short (a click is waiting to be shown as heard); a test passes one that records instead of waiting."""

    def __init__(self, led: LED, timings: Timings, pause: Callable[[float], bool]) -> None:
        self.led = led
        self.timings = timings
        self.pause = pause

    def hold(self) -> None:
        self.led.on()

    def play(self, name: str) -> None:
        lengths = {".": self.timings.dot, "-": self.timings.dash, "_": self.timings.glow}
        self.led.off()
        for index, symbol in enumerate(PATTERNS[name]):
            if index and self.pause(self.timings.gap):
                break
            self.led.on()
            cut = self.pause(lengths[symbol])
            self.led.off()
            if cut:
                break
        self.pause(self.timings.rest)


class Runner:
    """The button: clicks and notices go through one queue to one worker, which alone drives the LED."""

    def __init__(self, target: Target, serial: str, button_pin: int | str, led_pin: int | str,
                 timings: Timings = Timings(), *, clock: Callable[[], float] = time.monotonic,
                 pause: Callable[[float], bool] | None = None, pin_factory: Any = None) -> None:
        self.timings = timings
        self._work: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._clicks_waiting = 0
        self._count = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self.light = Light(LED(led_pin, pin_factory=pin_factory), timings, pause or self._pause)
        self.button = PushButton(button_pin, timings, self._clicked, clock=clock, pin_factory=pin_factory)
        self.link = Link(target, serial, answer_timeout=timings.answer_timeout,
                         on_notice=lambda notice: self._work.put(("notice", notice)),
                         on_late=lambda answer: self._work.put(("late", answer)))
        self._worker = threading.Thread(target=self._run, name="button-worker", daemon=True)

    def start(self, *, timer: bool = True) -> None:
        """Starts the connection, the worker and (unless a test ticks the button itself) the button's timer."""
        self.link.start()
        self._worker.start()
        if timer:
            self.button.start()

    def stop(self) -> None:
        self._stopping.set()
        self._work.put(("stop", None))
        self._wake.set()
        self._worker.join(self.timings.answer_timeout + 5)
        self.button.close()
        self.light.led.close()
        self.link.stop()

    def _clicked(self, click_type: str) -> None:
        log.info("pressed: %s", click_type)
        with self._count:
            self._clicks_waiting += 1
        self._work.put(("click", click_type))
        self._wake.set()

    def _run(self) -> None:
        while True:
            kind, item = self._work.get()
            if kind == "stop":
                return
            try:
                if kind == "click":
                    with self._count:
                        self._clicks_waiting -= 1
                    self.light.play(self._answer(item))
                elif kind == "notice":
                    log.info("notice (%s): %s", item.get("what"), item.get("text", ""))
                    self.light.play(pattern_of_notice(item))
                else:
                    log.info("late answer to click %s: %s", item.get("click_id"), item.get("outcome"))
                    self.light.play(pattern_of_answer(item))
            except Exception:
                log.exception("could not show a %s", kind)  # the LED may be wrong once; the button goes on

    def _answer(self, click_type: str) -> str:
        self.light.hold()
        try:
            answer = self.link.click(click_type)
        except Offline as offline:
            log.warning("%s click not sent: %s", click_type, offline)
            return "no_connection"
        except NoAnswer as silence:
            log.warning("%s click: %s", click_type, silence)
            return "no_answer"
        finally:
            self.light.led.off()
        shown = pattern_of_answer(answer)
        # The words a screen would show ("... 2 places are left; your party of 3 doesn't fit ..."), for the journal.
        log.info("%s click %s -> %s (%s): %s", click_type, answer.get("click_id"), answer.get("outcome"), shown,
                 words(answer))
        return shown

    def _pause(self, seconds: float) -> bool:
        """Waits, unless a click is waiting to be shown as heard (or the button is stopping): then True, at once."""
        deadline = time.monotonic() + seconds
        while True:
            with self._count:
                if self._clicks_waiting or self._stopping.is_set():
                    return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._wake.wait(left)
            self._wake.clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m iot.button", description=(
        "Run a Turnout button on a Raspberry Pi: a push button and an LED on its GPIO pins (docs/BUTTON.md)."))
    parser.add_argument("serial", help="the button's serial, as bound with PUT /devices/{serial}")
    parser.add_argument("--device-dir", type=Path, default=None,
                        help="talk to AWS IoT Core with the files `python -m iot.onboard` wrote there")
    parser.add_argument("--host", default="127.0.0.1", help="the local broker's host (plain TCP)")
    parser.add_argument("--port", type=int, default=None, help="the local broker's port (TURNOUT_MQTT_PORT, 1883)")
    parser.add_argument("--button-pin", default="GPIO17",
                        help="the button's GPIO pin, as gpiozero names it (GPIO17, or BOARD11 for the header's pin 11)")
    parser.add_argument("--led-pin", default="GPIO27", help="the LED's GPIO pin")
    defaults = Timings()
    for field in fields(Timings):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=float, default=getattr(defaults, field.name),
                            metavar="SECONDS", help=f"default {getattr(defaults, field.name):g}")
    parser.add_argument("--verbose", action="store_true", help="log awscrt's and gpiozero's chatter too")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not args.verbose:
        logging.getLogger("gpiozero").setLevel(logging.WARNING)

    target = target_of(parser, args)
    timings = Timings(**{field.name: getattr(args, field.name) for field in fields(Timings)})
    try:
        runner = Runner(target, args.serial, args.button_pin, args.led_pin, timings)
    except BadPinFactory as no_pins:
        print(f"No GPIO pins here ({no_pins}): run it on a Raspberry Pi with python3-lgpio (docs/BUTTON.md), "
              "or try it with GPIOZERO_PIN_FACTORY=mock", file=sys.stderr)
        return EXIT_NO_PINS
    stopped = threading.Event()
    # systemd stops a service with SIGTERM: leave the broker cleanly, so its session (and answers) stay ours.
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    log.info("button %s on %s, LED on %s, broker %s:%s (%s clicks)", args.serial, args.button_pin, args.led_pin,
             target.host, target.port, "/".join(topics.CLICK_TYPES))
    runner.start()
    stopped.wait()
    log.info("stopping")
    runner.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
