"""The local stack: settings from the environment, components started in order and stopped in reverse, the demo."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from local import demo
from local.stack import Stack, StackSettings


def test_settings_default_to_the_documented_ports_and_folder():
    settings = StackSettings.from_environ({})
    assert (settings.http_port, settings.mqtt_port, settings.data_dir) == (3000, 1883, Path(".turnout"))
    assert settings.host == "127.0.0.1"
    assert settings.demo is False


def test_settings_come_from_the_environment():
    settings = StackSettings.from_environ({"TURNOUT_HTTP_PORT": "3100", "TURNOUT_MQTT_PORT": "1900",
                                           "TURNOUT_DATA_DIR": "/tmp/t", "TURNOUT_DEMO": "1"})
    assert (settings.http_port, settings.mqtt_port, settings.data_dir, settings.demo) == (3100, 1900, Path("/tmp/t"),
                                                                                           True)


@pytest.mark.parametrize("raw", ["http", "-1", "70000"])
def test_a_port_that_is_not_one_is_refused(raw):
    with pytest.raises(ValueError, match="TURNOUT_HTTP_PORT"):
        StackSettings.from_environ({"TURNOUT_HTTP_PORT": raw})


class _Component:
    def __init__(self, name: str, journal: list[str], *, fails: bool = False, ready: bool = True):
        self.name = name
        self.journal = journal
        self.fails = fails
        self.is_ready = ready

    def start(self) -> None:
        self.journal.append(f"start {self.name}")
        if self.fails:
            raise OSError("port in use")

    def stop(self) -> None:
        self.journal.append(f"stop {self.name}")

    def ready(self) -> bool:
        return self.is_ready

    def describe(self) -> str:
        return f"{self.name} here"


def _stack(*components) -> Stack:
    stack = Stack()
    for component in components:
        stack.add(component)
    return stack


def test_components_start_in_order_and_stop_in_reverse():
    journal: list[str] = []
    stack = _stack(_Component("dynamodb", journal), _Component("http", journal), _Component("broker", journal))
    stack.start()
    stack.stop()
    assert journal == ["start dynamodb", "start http", "start broker", "stop broker", "stop http", "stop dynamodb"]


def test_a_failed_start_stops_what_had_started_and_raises():
    journal: list[str] = []
    stack = _stack(_Component("dynamodb", journal), _Component("http", journal, fails=True),
                   _Component("broker", journal))
    with pytest.raises(OSError):
        stack.start()
    assert journal == ["start dynamodb", "start http", "stop http", "stop dynamodb"]


def test_a_component_failing_to_stop_does_not_keep_the_others_running():
    journal: list[str] = []
    broken = _Component("broker", journal)
    broken.stop = lambda: (_ for _ in ()).throw(RuntimeError("stuck"))
    stack = _stack(_Component("dynamodb", journal), broken)
    stack.start()
    stack.stop()
    assert journal[-1] == "stop dynamodb"


def test_readiness_names_what_is_not_ready():
    journal: list[str] = []
    broker = _Component("broker", journal, ready=False)
    stack = _stack(_Component("dynamodb", journal), broker)
    assert stack.waiting_for() == ["broker"]
    broker.is_ready = True
    assert stack.waiting_for() == []
    assert stack.describe() == ["dynamodb here", "broker here"]


OSLO = ZoneInfo("Europe/Oslo")


@pytest.mark.parametrize(("today", "friday"), [
    (datetime(2026, 3, 9, 12, tzinfo=OSLO), datetime(2026, 3, 13, 7)),   # Monday: this week's
    (datetime(2026, 3, 12, 23, tzinfo=OSLO), datetime(2026, 3, 13, 7)),  # Thursday night: tomorrow
    (datetime(2026, 3, 13, 6, tzinfo=OSLO), datetime(2026, 3, 20, 7)),   # Friday: the next one, not today
])
def test_the_demo_trip_is_on_the_next_friday_morning(today, friday):
    assert demo.next_friday_morning(today) == friday


def test_demo_seeds_the_ski_trip_once(table):
    now = datetime(2026, 3, 9, 12, tzinfo=OSLO)
    event = demo.seed(now=now)
    assert event is not None
    assert (event.name, event.capacity, event.timezone) == ("Ski trip", 12, "Europe/Oslo")
    assert event.starts_at == datetime(2026, 3, 13, 7, tzinfo=OSLO)
    assert demo.seed(now=now) is None
