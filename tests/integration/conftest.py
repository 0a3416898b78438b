"""Integration set-up: one local stack per session (tests/support/stack.py starts it)."""
from __future__ import annotations

import pytest

from core import buttons
from tests.support.stack import LocalStack, running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> LocalStack:
    """The local stack, started once for the whole session; tests that restart it leave it running."""
    yield from running_stack(tmp_path_factory, "stack")


@pytest.fixture
def local_results(monkeypatch):
    """Button results go through the broker, as under `python -m local` (a test process imported iot for AWS)."""
    monkeypatch.setattr(buttons, "MODE", "local")
    monkeypatch.setattr(buttons, "_publisher", None)
