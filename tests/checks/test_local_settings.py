"""Local stack settings: `python -m local --help` lists every TURNOUT_ setting the code reads, with its default."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from core import config
from iot import device
from local import stack
from local.__main__ import main
from local.stack import DEFAULTS, StackSettings, all_settings

REPO = Path(__file__).resolve().parents[2]
# Where settings are read: core/config.py for core, local/ for the stack, and the device client the README runs.
READERS = [REPO / "core" / "config.py", REPO / "iot" / "device.py", *sorted((REPO / "local").glob("*.py"))]
NAME = re.compile(r"""["'](TURNOUT_[A-Z0-9_]+)["']""")


def names_read_in(*paths: Path) -> set[str]:
    return {name for path in paths for name in NAME.findall(path.read_text())}


@pytest.fixture
def help_text(capsys) -> str:
    assert main(["--help"]) == 0
    return capsys.readouterr().out


def test_the_grep_finds_the_settings_it_is_meant_to():
    # A pattern that found nothing would make the next test pass without checking anything.
    assert {"TURNOUT_AUTH", "TURNOUT_SKILL_ID", "TURNOUT_DYNAMODB_PORT", "TURNOUT_MQTT_PORT"} <= names_read_in(*READERS)


def test_help_names_every_setting_the_code_reads(help_text):
    missing = sorted(name for name in names_read_in(*READERS) if name not in help_text)
    assert not missing, f"python -m local --help does not mention {missing}"


def test_help_gives_each_setting_its_default_and_meaning(help_text):
    for each in all_settings():
        line = rf"^  {each.name}={re.escape(each.default)} +{re.escape(each.meaning)}$"
        assert re.search(line, help_text, re.MULTILINE), each


def test_every_listed_setting_changes_something():
    # Core's are read by core/config.py; the stack's own change StackSettings.
    listed = {each.name for each in all_settings()}
    read_by_core = names_read_in(REPO / "core" / "config.py") & listed
    default = StackSettings.from_environ({})
    read_by_stack = {name for name in listed if StackSettings.from_environ({name: "1"}) != default}
    assert read_by_core | read_by_stack == listed
    assert not read_by_core & read_by_stack


def test_the_stack_runs_with_the_listed_defaults():
    assert StackSettings.from_environ({}) == StackSettings(
        http_port=int(DEFAULTS["TURNOUT_HTTP_PORT"]), mqtt_port=int(DEFAULTS["TURNOUT_MQTT_PORT"]),
        dynamodb_port=int(DEFAULTS["TURNOUT_DYNAMODB_PORT"]), data_dir=Path(DEFAULTS["TURNOUT_DATA_DIR"]),
        demo=False)


def test_core_reads_the_listed_defaults_and_a_setting_already_made_wins(monkeypatch):
    environ = {"TURNOUT_PAIRING_CODE_MINUTES": "3"}
    stack.use_local_defaults(environ)
    assert "TURNOUT_SKILL_ID" not in environ  # unset stays unset: no skill id is checked
    for name in names_read_in(REPO / "core" / "config.py"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    loaded = config.load()
    assert loaded.auth_open and not loaded.public_reads and loaded.skill_id is None  # the quick start's open mode
    assert loaded.pairing_code_minutes == 3
    assert loaded.check_in_opens_minutes == int(config.DEFAULTS["TURNOUT_CHECK_IN_OPENS_MINUTES"])
    assert loaded.organizer_group == config.DEFAULTS["TURNOUT_ORGANIZER_GROUP"]


def test_core_defaults_are_written_once_and_the_help_shows_them():
    # The stack changes only open mode; every other default shown is core's own, not a copy that could drift.
    shown = {each.name: each.default for each in all_settings()}
    assert {name: shown[name] for name in config.DEFAULTS if shown[name] != config.DEFAULTS[name]} == {
        "TURNOUT_AUTH": "off"}
    assert set(config.DEFAULTS) <= set(shown)


def test_the_device_client_finds_the_broker_where_the_stack_puts_it(monkeypatch):
    monkeypatch.delenv("TURNOUT_MQTT_PORT", raising=False)
    assert device.Target.local("BTN-1").port == int(DEFAULTS["TURNOUT_MQTT_PORT"])
    monkeypatch.setenv("TURNOUT_MQTT_PORT", "18830")
    assert device.Target.local("BTN-1").port == 18830
