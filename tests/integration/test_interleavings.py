"""The concurrent model test: random interleavings of every write that moves seats (sign-up with guests, a party
resized up and down, a cancel by the person and by an organizer, check-in, a capacity change, a move, an organizer
moving a party up, and the promotions any of them makes) and of reminder runs, many threads on one event, plain and
seat-block alike, against the local stack's DynamoDB endpoint - the data's promises checked after every round
(tests/support/interleavings.py says which)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.stack import REPO

pytestmark = pytest.mark.integration

# make test runs a few rounds; `make interleavings` (ROUNDS=200 by default) runs it long.
ROUNDS = int(os.environ.get("TURNOUT_INTERLEAVING_ROUNDS") or 6)


def test_every_promise_holds_under_interleaved_writes(stack):
    ran = subprocess.run(
        [sys.executable, "-m", "tests.support.interleavings", "--endpoint", f"http://127.0.0.1:{stack.dynamodb_port}",
         "--rounds", str(ROUNDS)],
        cwd=REPO, env=stack.environment(), capture_output=True, text=True, timeout=300 + 30 * ROUNDS,
    )
    print(ran.stdout)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert f"{ROUNDS} of {ROUNDS} rounds held every promise" in ran.stdout
