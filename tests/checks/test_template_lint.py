"""cfn-lint, with the serverless rules (cfn-lint-serverless), finds no error in template.yaml: run once per session."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Linted in the same run: a function without tracing, which the serverless rules' WS1000 reports.
UNTRACED = "tests/fixtures/cfn/untraced.yaml"
# A resource-level ignore must be one of these, and justified beside it in the template.
# Each with its reason beside it in template.yaml: the failure queues are the last stop (nothing to redrive to); a
# scheduled run has nothing to replay, the next run does its work (ReminderFunction).
IGNORED_IN_TEMPLATE = {
    "ButtonFailures": ["ES6000"],
    "NoticeFailures": ["ES6000"],
    "ReminderFunction": ["ES1007", "ES4000"],
    "ButtonClickPermission": ["ES1007"],
    "OpsTopicEmail": ["ES7000"],
}


@pytest.fixture(scope="module")
def findings() -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())",
         "--append-rules", "cfn_lint_serverless.rules", "--include-checks", "I",
         "--format", "json", "--", "template.yaml", UNTRACED],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    # Exit codes are bit flags: 2 errors, 4 warnings, 8 informational; 1 means cfn-lint itself failed.
    assert result.returncode & 1 == 0, result.stderr
    return json.loads(result.stdout or "[]")


def _of(found: list[dict], filename: str) -> list[dict]:
    return [f for f in found if Path(f["Filename"]).as_posix().endswith(filename)]


def _summary(found: list[dict]) -> list[str]:
    return [f"{f['Rule']['Id']} {f['Level']}: {f['Message']}" for f in found]


def test_no_errors_warnings_or_notes(findings):
    found = _of(findings, "template.yaml")
    assert found == [], _summary(found)


def test_the_serverless_rules_ran(findings):
    # Tracing is on in template.yaml, so its warning comes only from the fixture: if it is gone, so are the rules.
    assert "WS1000" in {f["Rule"]["Id"] for f in _of(findings, UNTRACED)}
    assert set(map(json.dumps, findings)) - set(map(json.dumps, _of(findings, UNTRACED))) == set()


def test_only_justified_checks_are_switched_off_in_the_template():
    from deploy.template import load_template

    ignored = {
        name: resource["Metadata"]["cfn-lint"]["config"]["ignore_checks"]
        for name, resource in load_template()["Resources"].items()
        if "cfn-lint" in resource.get("Metadata", {})
    }
    assert ignored == IGNORED_IN_TEMPLATE
    assert "Metadata" not in load_template() or "cfn-lint" not in load_template()["Metadata"]
