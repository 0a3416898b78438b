"""`make smoke` against the local stacks: the README's story as deploy/smoke.py checks a deployment, in open mode and
with tokens checked (an organizer's and a person's, as local.token prints them)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.stack import REPO

pytestmark = pytest.mark.integration


def _smoke(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deploy.smoke", stack.base_url, *args], cwd=REPO,
                          env=stack.environment(), capture_output=True, text=True, timeout=120)


def test_the_smoke_test_passes_against_the_local_stack(stack):
    ran = _smoke(stack)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[-1] == "smoke test passed"
    assert any("promoted in the same step" in line for line in lines)
    assert any("was told of the promotion" in line for line in lines)
    assert any(line.startswith("ok   removed event") for line in lines)


def test_with_tokens_checked_the_smoke_test_passes_and_a_refused_token_fails_it_in_words(stack, tmp_path):
    from tests.support.stack import AuthStack

    checked = AuthStack(tmp_path / "data", tmp_path / "stack.log", TURNOUT_AUTH="on")
    checked.start()
    try:
        olga, melvin = checked.token("olga", "--organizer"), checked.token("melvin")
        ran = _smoke(checked, "--organizer-token", olga, "--person-token", melvin)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert "melvin signed up: going" in ran.stdout
        refused = _smoke(checked, "--organizer-token", melvin, "--person-token", melvin)
        assert refused.returncode == 1 and "FAIL POST /events: 403" in refused.stderr
    finally:
        checked.stop()
