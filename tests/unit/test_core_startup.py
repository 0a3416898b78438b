"""core.startup: garbage collection paused while an entry point builds its container, then resumed."""
from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import startup

ROOT = Path(__file__).resolve().parents[2]


def test_collection_resumes_after_start_up_and_stays_off_if_it_was_off():
    assert gc.isenabled()
    try:
        startup.begin()
        assert not gc.isenabled()
        startup.end()
        assert gc.isenabled() and gc.get_freeze_count() > 0
        gc.disable()
        startup.begin()
        startup.end()
        assert not gc.isenabled()
    finally:
        # What end() froze here is the test session's own objects: handed back to the collector.
        gc.unfreeze()
        gc.enable()


@pytest.mark.parametrize("module", ["api.handler", "skills.handler", "iot.handler"])
def test_each_entry_point_resumes_collection_with_what_it_built_frozen(module):
    env = {**os.environ, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "TURNOUT_RESULT_PUBLISHER": "local"}
    env.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    probe = f"import gc, {module}; print(gc.isenabled(), gc.get_freeze_count())"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    enabled, frozen = result.stdout.split()
    assert enabled == "True" and int(frozen) > 10_000
