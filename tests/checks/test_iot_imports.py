"""The button Lambda never needs awscrt/awsiotsdk or gpiozero: they are for the device, never in the Lambda package."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DEVICE_ONLY = ("awscrt", "awsiot", "gpiozero", "colorzero")
# The device's own modules: the MQTT client, its kept-open link, and the Raspberry Pi button.
DEVICE_MODULES = {"iot/device.py", "iot/link.py", "iot/button.py"}

# Runs in a fresh interpreter where awscrt and awsiot cannot be imported, as in the deployed function: the
# handler must import and answer a click there. botocore probes for awscrt and goes on without it.
PROBE = r"""
import json, sys
for name in ("awscrt", "awsiot", "gpiozero", "colorzero"):
    sys.modules[name] = None
import os
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
                  AWS_REGION="us-east-1")
import boto3
from moto import mock_aws
with mock_aws():
    from local.tables import create_table
    from core.config import settings
    create_table(boto3.client("dynamodb"), settings.table_name)
    import iot.handler
    from core import services
    event = services.create_event(name="Ski trip", starts_at="2999-01-01T10:00:00+00:00")
    services.bind_device("BTN-1", "melvin", event.event_id)
    result = iot.handler.lambda_handler({"serialNumber": "BTN-1", "clickType": "SINGLE", "clickId": "c1"}, None)
print(json.dumps({"outcome": result["outcome"],
                  "modules": sorted(name for name, module in sys.modules.items() if module is not None)}))
"""


def _imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_handler_imports_and_answers_without_awscrt():
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["outcome"] == "signed_up"
    loaded = report["modules"]
    assert not [name for name in loaded if name.split(".")[0] in DEVICE_ONLY]
    assert not {"iot.device", "iot.link", "iot.button"} & set(loaded) and "iot.handler" in loaded


def test_only_the_device_imports_awscrt_awsiotsdk_or_gpiozero():
    importers = {path.relative_to(ROOT).as_posix() for package in ("iot", "core", "api", "skills")
                 for path in (ROOT / package).rglob("*.py") if _imports_of(path) & set(DEVICE_ONLY)}
    assert importers == DEVICE_MODULES
