"""The device client's own failures, against loopback ports the tests pick: a refused connection is told at once."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from iot import device
from tests.support.ports import free_port

# Far above the ~0.3 s a refused press takes with the interpreter's start, far below the --timeout given:
# retrying a refusal until the deadline, as the client did, takes the whole 30 s.
REPORTED_WITHIN_SECONDS = 5


@pytest.fixture
def attempts(monkeypatch):
    """Counts the connections the client builds: one per attempt to reach the broker."""
    made: list[device.Target] = []
    build = device.connect

    def counted(target: device.Target):
        made.append(target)
        return build(target)

    monkeypatch.setattr(device, "connect", counted)
    return made


def test_a_refused_connection_ends_the_press_at_its_first_attempt(attempts):
    closed = device.Target.local("BTN-1", port=free_port())
    with pytest.raises(device.Unreachable, match=rf"127\.0\.0\.1:{closed.port} \(connection refused\)"):
        device.press(closed, "BTN-1", "SINGLE", timeout=30)
    assert len(attempts) == 1


def test_waiting_for_the_broker_retries_a_refused_connection_until_the_deadline(attempts):
    closed = device.Target.local("BTN-1", port=free_port())
    with pytest.raises(device.NoAnswer, match="connection refused"):
        device.press(closed, "BTN-1", "SINGLE", timeout=1, wait_for_broker=True)
    assert len(attempts) > 1


def test_the_command_line_reports_a_refused_connection_in_one_line_with_exit_code_4():
    port = free_port()
    started = time.monotonic()
    refused = subprocess.run(
        [sys.executable, "-m", "iot.device", "press", "BTN-1", "single", "--port", str(port), "--timeout", "30"],
        capture_output=True, text=True, timeout=60,
    )
    took = time.monotonic() - started
    assert refused.returncode == device.EXIT_UNREACHABLE == 4
    assert refused.stdout == ""
    assert refused.stderr.splitlines() == [
        f"Unreachable: nothing listens at 127.0.0.1:{port} (connection refused); is `make run` going?"]
    assert took < REPORTED_WITHIN_SECONDS, took

