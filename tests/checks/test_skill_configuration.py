"""The skill's id from configuration, read at import in a fresh interpreter as Lambda starts one."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.fixtures.alexa import SKILL_ID
from tests.support.template import ROOT


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("TURNOUT_SKILL_ID", "AWS_LAMBDA_FUNCTION_NAME")}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


def test_the_skill_id_comes_from_configuration():
    done = run_python("import skills.handler as h; print(h.skill_builder.skill_id)", TURNOUT_SKILL_ID=SKILL_ID)
    assert done.stdout.strip() == SKILL_ID, done.stderr
    done = run_python("import skills.handler as h; print(h.skill_builder.skill_id)")
    assert done.stdout.strip() == "None", done.stderr


def test_in_aws_the_skill_id_is_required():
    done = run_python("import skills.handler", AWS_LAMBDA_FUNCTION_NAME="turnout-SkillFunction")
    assert done.returncode != 0
    assert "TURNOUT_SKILL_ID must be set" in done.stderr
