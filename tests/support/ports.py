"""Test and bench set-up: a free TCP port on loopback, for every server the tests and benchmarks start."""
from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
