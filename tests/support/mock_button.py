"""The Raspberry Pi button on gpiozero's mock pins, for tests: a clock the test moves (so no press depends on how fast
the machine is), an LED whose patterns are read back from its mock pin, and presses made by driving the button's pin."""
from __future__ import annotations

import threading
import time

from gpiozero.pins.mock import MockFactory

from iot import button
from iot.device import Target

BUTTON_PIN, LED_PIN = "GPIO17", "GPIO27"
# The defaults, but an answer is waited for generously: on a loaded machine a slow answer is not what is tested.
TIMINGS = button.Timings(answer_timeout=30.0)
NAMES = {pattern: name for name, pattern in button.PATTERNS.items()}


class Clock:
    """The button's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Recorder:
    """Stands in for the LED's waiting: notes whether the mock LED pin was lit and for how long, and never waits."""

    def __init__(self, pin, timings: button.Timings = TIMINGS) -> None:
        self.pin = pin
        self.timings = timings
        self.steps: list[tuple[bool, float]] = []
        self.lock = threading.Lock()

    def __call__(self, seconds: float) -> bool:
        with self.lock:
            self.steps.append((self.pin.state, seconds))
        return False

    def patterns(self) -> list[str]:
        """What was shown, back in PATTERNS' notation: lit steps as . - _, a dark rest between two patterns."""
        symbols = {self.timings.dot: ".", self.timings.dash: "-", self.timings.glow: "_"}
        shown, current = [], ""
        with self.lock:
            steps = list(self.steps)
        for lit, seconds in steps:
            if lit:
                current += symbols[seconds]
            elif seconds == self.timings.rest:
                shown.append(current)
                current = ""
            elif seconds != self.timings.gap:
                raise AssertionError(f"the LED was dark for {seconds} s, which no pattern has")
        return shown


def press(pin, clock: Clock, held: float) -> None:
    pin.drive_low()  # the button shorts its pin to ground; the Pi's pull-up holds it high otherwise
    clock.advance(held)
    pin.drive_high()


class MockButton:
    """A running button (iot.button.Runner) on mock pins, connected to `target`; its timer is the test's."""

    def __init__(self, target: Target, serial: str, timings: button.Timings = TIMINGS) -> None:
        self.factory = MockFactory()
        self.timings = timings
        self.clock = Clock()
        self.recorder = Recorder(self.factory.pin(LED_PIN), timings)
        self.runner = button.Runner(target, serial, BUTTON_PIN, LED_PIN, timings, clock=self.clock,
                                    pause=self.recorder, pin_factory=self.factory)
        self.pin = self.factory.pin(BUTTON_PIN)
        self.led = self.factory.pin(LED_PIN)

    def start(self, *, connected: bool = True) -> MockButton:
        self.runner.start(timer=False)
        if connected:
            assert self.runner.link.wait_up(15), "the button did not connect"
        return self

    def stop(self) -> None:
        self.runner.stop()
        self.factory.reset()

    def single(self) -> None:
        self.clock.advance(1.0)  # a person between two gestures: a press at the very instant of a release is bounce
        press(self.pin, self.clock, 0.1)
        self.clock.advance(self.timings.double_window + 0.01)
        self.runner.button.tick()

    def double(self) -> None:
        self.clock.advance(1.0)
        press(self.pin, self.clock, 0.1)
        self.clock.advance(self.timings.double_window / 2)
        press(self.pin, self.clock, 0.1)

    def long(self) -> None:
        self.clock.advance(1.0)
        self.pin.drive_low()
        self.clock.advance(self.timings.long_press)
        self.runner.button.tick()
        self.clock.advance(0.5)
        self.pin.drive_high()

    def shown(self, count: int, seconds: float = 45.0) -> list[str]:
        """The names of the patterns the LED has played, once there are `count` of them (or the time is up)."""
        deadline = time.monotonic() + seconds
        while len(self.recorder.patterns()) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return [NAMES.get(pattern, pattern) for pattern in self.recorder.patterns()]
