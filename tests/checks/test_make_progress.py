"""The Makefile's install steps: a first `make run` prints a line per package pip fetches, never a minute of silence."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PIP_SAYS = """Obtaining file:///work/turnout
Collecting boto3==1.35.0 (from turnout==0.1.0)
  Downloading boto3-1.35.0-py3-none-any.whl (139 kB)
Collecting pynamodb==6.0.1; extra == "api" (from turnout==0.1.0)
  Using cached pynamodb-6.0.1-py3-none-any.whl
Installing collected packages: boto3, pynamodb
Successfully installed boto3-1.35.0 pynamodb-6.0.1
"""


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
def test_the_install_prints_each_package_it_fetches_and_the_unpacking(tmp_path):
    (tmp_path / "pip.txt").write_text(PIP_SAYS)
    (tmp_path / "try.mk").write_text(f"include {REPO / 'Makefile'}\ntry:\n\t@cat pip.txt | $(PIP_PROGRESS)\n")
    printed = subprocess.run(["make", "-s", "-f", "try.mk", "try"], cwd=tmp_path, capture_output=True, text=True,
                             check=True, timeout=30).stdout.splitlines()
    assert printed == ["turnout:   fetched boto3==1.35.0", "turnout:   fetched pynamodb==6.0.1",
                       "turnout:   unpacking into .venv ..."]


def test_neither_install_step_is_quiet():
    makefile = (REPO / "Makefile").read_text().splitlines()
    recipes = [line for line in makefile if "pip install" in line and "-e '." in line]
    assert len(recipes) == 2 and all("--quiet" not in line and "$(PIP_PROGRESS)" in line for line in recipes)
