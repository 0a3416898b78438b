"""Integration set-up: one local stack per session (tests/support/stack.py starts it)."""
from __future__ import annotations

import pytest

from tests.support.stack import LocalStack, running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> LocalStack:
    """The local stack, started once for the whole session; tests that restart it leave it running."""
    yield from running_stack(tmp_path_factory, "stack")
