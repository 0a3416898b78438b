"""The Raspberry Pi button without a Pi: presses on gpiozero's mock pins become SINGLE, DOUBLE and LONG on a clock the
test moves, each LED pattern is played on a mock LED pin, and a press with no connection is answered at once."""
from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import fields
from pathlib import Path

import pytest
from gpiozero import LED
from gpiozero.pins.mock import MockFactory

from core import topics
from iot import button
from iot.device import Target
from iot.link import Link
from tests.support.mock_button import BUTTON_PIN, LED_PIN, Clock, MockButton, Recorder, press
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
TIMINGS = button.Timings()


@pytest.fixture
def factory():
    pins = MockFactory()
    yield pins
    pins.reset()


@pytest.fixture
def clicks(factory):
    """A PushButton on a mock pin, on a test clock, with the clicks it told."""
    told: list[str] = []
    clock = Clock()
    pushed = button.PushButton(BUTTON_PIN, TIMINGS, told.append, clock=clock, pin_factory=factory)
    pin = factory.pin(BUTTON_PIN)
    yield pin, clock, pushed, told
    pushed.close()


def test_one_short_press_is_a_single_once_the_double_window_has_closed(clicks):
    pin, clock, pushed, told = clicks
    press(pin, clock, 0.1)
    clock.advance(TIMINGS.double_window - 0.05)
    pushed.tick()
    assert told == []  # a second press could still come

    clock.advance(0.1)
    pushed.tick()
    pushed.tick()

    assert told == ["SINGLE"]


def test_two_presses_within_the_window_are_one_double_told_at_the_second_release(clicks):
    pin, clock, pushed, told = clicks
    press(pin, clock, 0.1)
    clock.advance(TIMINGS.double_window - 0.1)
    press(pin, clock, 0.1)

    assert told == ["DOUBLE"]
    clock.advance(5)
    pushed.tick()
    assert told == ["DOUBLE"]


def test_a_held_press_is_a_long_told_while_still_held_and_its_release_adds_nothing(clicks):
    pin, clock, pushed, told = clicks
    pin.drive_low()
    clock.advance(TIMINGS.long_press - 0.1)
    pushed.tick()
    assert told == []
    clock.advance(0.2)
    pushed.tick()
    assert told == ["LONG"]

    clock.advance(2)
    pin.drive_high()
    clock.advance(5)
    pushed.tick()
    assert told == ["LONG"]


def test_contact_bounce_is_one_press(clicks):
    pin, clock, pushed, told = clicks
    for _ in range(3):  # the contacts chatter for a few milliseconds as they close, and again as they open
        pin.drive_low()
        clock.advance(0.004)
        pin.drive_high()
        clock.advance(0.004)
    pin.drive_low()
    clock.advance(0.2)
    for _ in range(2):
        pin.drive_high()
        clock.advance(0.004)
        pin.drive_low()
        clock.advance(0.004)
    pin.drive_high()
    clock.advance(1)
    pushed.tick()

    assert told == ["SINGLE"]


def test_a_press_after_a_late_timer_first_tells_the_single_before_it(clicks):
    pin, clock, pushed, told = clicks
    press(pin, clock, 0.1)
    clock.advance(TIMINGS.double_window + 1)  # the timer thread was late: nobody ticked
    press(pin, clock, 0.1)
    assert told == ["SINGLE"]
    clock.advance(TIMINGS.double_window + 0.01)
    pushed.tick()
    assert told == ["SINGLE", "SINGLE"]


def test_the_timings_are_the_ones_given(factory):
    told: list[str] = []
    clock = Clock()
    slow = button.Timings(double_window=1.0, long_press=3.0)
    pushed = button.PushButton(BUTTON_PIN, slow, told.append, clock=clock, pin_factory=factory)
    pin = factory.pin(BUTTON_PIN)
    try:
        press(pin, clock, 2.0)  # a LONG by default, not with long_press=3
        clock.advance(0.7)  # a new gesture by default, not with double_window=1
        press(pin, clock, 0.1)
    finally:
        pushed.close()
    assert told == ["DOUBLE"]


def test_the_button_s_own_timer_tells_a_single_on_the_real_clock(factory):
    told = threading.Event()
    clicks: list[str] = []
    pushed = button.PushButton(BUTTON_PIN, TIMINGS, lambda click: (clicks.append(click), told.set()),
                               pin_factory=factory)
    pushed.start()
    pin = factory.pin(BUTTON_PIN)
    try:
        pin.drive_low()
        time.sleep(0.05)
        pin.drive_high()
        # Only that it comes, and as what: a loaded machine may be slow, and speed is not what this test is about.
        assert told.wait(10)
    finally:
        pushed.close()
    assert clicks == ["SINGLE"]


def test_every_pattern_is_distinct_and_played_as_written_on_the_led(factory):
    assert len(set(button.PATTERNS.values())) == len(button.PATTERNS)
    recorder = Recorder(factory.pin(LED_PIN))
    light = button.Light(LED(LED_PIN, pin_factory=factory), TIMINGS, recorder)
    for name in button.PATTERNS:
        light.play(name)
    assert recorder.patterns() == list(button.PATTERNS.values())
    assert factory.pin(LED_PIN).state is False  # dark between patterns


@pytest.mark.parametrize(("answer", "shown"), [
    ({"outcome": "signed_up", "status": "going"}, "signed_up"),
    ({"outcome": "waitlisted", "status": "waitlisted", "position": 2}, "waitlisted"),
    ({"outcome": "already_signed_up", "status": "going"}, "signed_up"),
    ({"outcome": "already_signed_up", "status": "waitlisted"}, "waitlisted"),
    ({"outcome": "cancelled"}, "cancelled"),
    ({"outcome": "checked_in"}, "checked_in"),
    ({"outcome": "error", "error": {"code": "NotSignedUp", "message": "..."}}, "refused"),
    ({"outcome": "something new"}, "refused"),
])
def test_each_answer_has_its_pattern(answer, shown):
    assert button.pattern_of_answer(answer) == shown


@pytest.mark.parametrize(("what", "shown"), [
    ("promoted", "promoted"), ("moved", "moved"), ("reminder", "reminder"), ("deleted", "notice"), (None, "notice")])
def test_each_notice_has_its_pattern(what, shown):
    assert button.pattern_of_notice({"what": what}) == shown


def test_a_press_with_no_connection_is_answered_no_connection_at_once():
    """Nothing listens at the broker's port: the press is not queued, the LED says so without waiting for a timeout."""
    pi = MockButton(Target.local("BTN-1", port=free_port()), "BTN-1", button.Timings(answer_timeout=60.0))
    pi.start(connected=False)
    sent: list[str] = []
    pi.runner.link.connection.publish = lambda topic, *rest: sent.append(topic)  # nothing may be sent or queued
    try:
        pi.long()
        shown = pi.shown(1, seconds=10)  # far below answer_timeout: the answer did not wait for it
    finally:
        pi.stop()
    assert shown == ["no_connection"]
    assert sent == [] and not pi.runner.link.up
    # Lit once while the press waited for its answer (it was heard), then once for each blink of "-..".
    assert [state.state for state in pi.led.states].count(True) == 1 + len(button.PATTERNS["no_connection"])


def test_a_press_cuts_the_pattern_being_shown_short_and_is_shown_as_heard():
    """On the LED's real waiting: a pattern with a 30 s blink, cut by the next press long before it ends."""
    factory, clock = MockFactory(), Clock()
    slow = button.Timings(dash=30.0, dot=0.01, gap=0.01, rest=0.01, answer_timeout=60.0)
    runner = button.Runner(Target.local("BTN-1", port=free_port()), "BTN-1", BUTTON_PIN, LED_PIN, slow,
                           clock=clock, pin_factory=factory)
    pin, led = factory.pin(BUTTON_PIN), factory.pin(LED_PIN)

    def lit(times: int) -> bool:
        deadline = time.monotonic() + 15  # half the blink: a pattern not cut short is still lit then
        while [state.state for state in led.states].count(True) < times and time.monotonic() < deadline:
            time.sleep(0.01)
        return [state.state for state in led.states].count(True) >= times

    runner.start(timer=False)
    try:
        for _ in range(2):
            clock.advance(1)
            press(pin, clock, 0.1)
            clock.advance(slow.double_window + 0.01)
            runner.button.tick()
        # Held for the first press, its "-.." begun, then held for the second and its "-.." begun.
        assert lit(4)
    finally:
        runner.stop()
        factory.reset()


def test_an_answer_that_comes_twice_or_late_is_shown_once():
    """QoS 1 may hand the same answer over twice; one nobody waits for any more (it came after "no answer") is
    shown when it comes, once."""
    late: list[dict] = []
    link = Link(Target.local("BTN-1", port=free_port()), "BTN-1", answer_timeout=1.0, on_notice=late.append,
                on_late=late.append)
    answer = json.dumps({"serial": "BTN-1", "click_id": "c1", "outcome": "signed_up"}).encode()
    for _ in range(2):
        link._message(topics.results("BTN-1"), answer)
    link._message(topics.results("BTN-2"), answer)  # not this button's: ignored
    link._message(topics.notices("BTN-1"), b'{"what": "promoted"}')
    assert late == [{"serial": "BTN-1", "click_id": "c1", "outcome": "signed_up"}, {"what": "promoted"}]


def test_run_takes_every_timing_on_its_command_line():
    shown = subprocess.run([sys.executable, "-m", "iot.button", "--help"], capture_output=True, text=True,
                           timeout=60)
    assert shown.returncode == 0, shown.stderr
    for field in fields(button.Timings):
        assert f"--{field.name.replace('_', '-')} SECONDS" in shown.stdout


def test_button_md_shows_every_pattern_and_timing_as_iot_button_declares_them():
    text = (ROOT / "docs" / "BUTTON.md").read_text()
    rows = dict(re.findall(r"^\| `([-._]+)` \| (\w+):", text, re.MULTILINE))
    assert rows == {pattern: name for name, pattern in button.PATTERNS.items()}
    options = dict(re.findall(r"^\| `--([\w-]+)` \| ([\d.]+) \|", text, re.MULTILINE))
    for field in fields(button.Timings):
        option = field.name.replace("_", "-")
        if option in options:
            assert float(options[option]) == getattr(TIMINGS, field.name), option
    assert {"debounce", "double-window", "long-press", "answer-timeout"} <= set(options)


def test_the_service_starts_on_boot_runs_the_button_and_restarts_it_when_it_fails():
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # systemd's keys are case-sensitive
    unit.read(ROOT / "iot" / "turnout-button.service")
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert "network-online.target" in unit["Unit"]["After"] and "network-online.target" in unit["Unit"]["Wants"]
    assert unit["Service"]["Restart"] == "on-failure"
    assert " -m iot.button ${TURNOUT_SERIAL} " in unit["Service"]["ExecStart"]
    if shutil.which("systemd-analyze"):
        unit_file = str(ROOT / "iot" / "turnout-button.service")
        checked = subprocess.run(["systemd-analyze", "verify", "--man=no", unit_file], capture_output=True, text=True,
                                 timeout=60)
        # Only what a machine without the installed button lacks: its virtual environment.
        complaints = [line for line in (checked.stdout + checked.stderr).splitlines()
                      if line.strip() and "/opt/turnout/.venv/bin/python is not executable" not in line]
        assert complaints == []


def test_run_stops_cleanly_on_sigterm_as_systemd_stops_it_and_says_so_without_pins():
    env = {**os.environ, "GPIOZERO_PIN_FACTORY": "mock"}
    command = [sys.executable, "-m", "iot.button", "BTN-1", "--port", str(free_port())]
    running = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        logged = ""
        while "cannot reach" not in logged and time.monotonic() < deadline:
            logged += running.stderr.readline()
        running.send_signal(signal.SIGTERM)
        code = running.wait(30)
    finally:
        running.kill()
    assert "button BTN-1 on GPIO17, LED on GPIO27" in logged
    assert code == 0  # Restart=on-failure: a stop is not a failure

    no_pins = {name: value for name, value in os.environ.items() if name != "GPIOZERO_PIN_FACTORY"}
    nowhere = subprocess.run(command, env={**no_pins, "GPIOZERO_PIN_FACTORY": "no-such-factory"},
                             capture_output=True, text=True, timeout=60)
    assert nowhere.returncode == button.EXIT_NO_PINS
    assert "No GPIO pins here" in nowhere.stderr


def test_a_waitlisted_answer_blinks_its_pattern_and_says_why_in_the_journal(caplog):
    factory = MockFactory()
    runner = button.Runner(Target.local("BTN-1", port=free_port()), "BTN-1", BUTTON_PIN, LED_PIN, button.Timings(),
                           pin_factory=factory)
    answer = {"serial": "BTN-1", "click": "SINGLE", "click_id": "c1", "outcome": "waitlisted", "event_name": "Ski trip",
              "status": "waitlisted", "position": 1, "in_line": {"reason": "too_big", "places_left": 2, "party": 3}}
    runner.link.click = lambda click_type: answer  # type: ignore[method-assign]
    try:
        with caplog.at_level("INFO", logger=button.log.name):
            assert runner._answer("SINGLE") == "waitlisted"
    finally:
        runner.light.led.close()
        factory.reset()
    assert "2 places are left; your party of 3 doesn't fit, so you're number 1 in line." in caplog.text
