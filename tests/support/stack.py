"""The local stack for tests: `python -m local` in a subprocess on free loopback ports, and a small client for it."""
from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from local.runtime import LambdaFunction
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 20


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class LocalStack:
    """A running `python -m local`, and a small HTTP client for it."""

    def __init__(self, data_dir: Path, log_path: Path, **settings: str):
        self.settings = settings  # extra TURNOUT_* settings, e.g. TURNOUT_AUTH="on"
        self.data_dir = data_dir
        self.log_path = log_path
        self.http_port = free_port()
        self.mqtt_port = free_port()
        self.dynamodb_port = free_port()
        self.auth_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.http_port}"
        self.process: subprocess.Popen | None = None

    def environment(self) -> dict[str, str]:
        # Nothing from the developer's shell decides where data goes or which AWS account is used.
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("AWS_", "TURNOUT_", "MOTO_"))}
        env.update(
            TURNOUT_HTTP_PORT=str(self.http_port),
            TURNOUT_MQTT_PORT=str(self.mqtt_port),
            TURNOUT_DYNAMODB_PORT=str(self.dynamodb_port),
            TURNOUT_AUTH_PORT=str(self.auth_port),
            TURNOUT_DATA_DIR=str(self.data_dir),
            PYTHONUNBUFFERED="1",
            **self.settings,
        )
        return env

    def start(self) -> None:
        with open(self.log_path, "a") as log:
            log.write(f"\n===== python -m local, started by the tests at {time.strftime('%X')} =====\n")
            log.flush()
            self.process = subprocess.Popen([sys.executable, "-m", "local"], cwd=REPO, env=self.environment(),
                                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"python -m local exited with {self.process.returncode}:\n{self.log()}")
            try:
                health = self.request("GET", "/health", timeout=2)
                if health.status == 200:
                    return
                last = f"{health.status} {health.body.decode(errors='replace')}"
            except OSError as err:
                last = repr(err)
            time.sleep(0.1)
        self.kill()
        pytest.fail(f"/health was not 200 within {START_TIMEOUT_SECONDS} s (last: {last}):\n{self.log()}")

    def stop(self) -> int:
        """SIGTERM, as Ctrl-C or a service manager would stop it; SIGKILL only if it hangs. Returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"python -m local did not stop within {STOP_TIMEOUT_SECONDS} s of SIGTERM:\n{self.log()}")

    def kill(self) -> None:
        """kill -9 of every process of the stack (the machine lost, say): no chance to save anything."""
        assert self.process is not None
        for pid in self.children():
            os.kill(pid, signal.SIGKILL)
        self.process.kill()
        self.process.wait()

    def children(self) -> list[int]:
        """The stack's own processes (its DynamoDB endpoint), from /proc."""
        assert self.process is not None
        listed = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in listed.read_text().split()] if listed.exists() else []

    def restart(self) -> int:
        code = self.stop()
        self.start()
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-20_000:]

    def request(self, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None,
                timeout: float = 30) -> Response:
        """One request on its own connection; a dict or list body is sent as JSON."""
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read())
        finally:
            connection.close()

    def new_event(self, **fields: Any) -> dict[str, Any]:
        event = {
            "name": "Integration trip",
            "starts_at": (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0).isoformat(),
            "timezone": "Europe/Oslo",
            "capacity": 10,
        }
        event.update(fields)
        created = self.request("POST", "/events", event)
        assert created.status == 201, created.body
        return created.json()


def running_stack(tmp_path_factory, name: str, kind: type[LocalStack] = LocalStack, **settings: str):
    """Starts a stack of its own in a fresh folder, yields it, and stops it if a test left it running."""
    root = tmp_path_factory.mktemp(name)
    started = kind(root / "data", root / "stack.log", **settings)
    started.start()
    yield started
    if started.process is not None and started.process.poll() is None:
        started.stop()


class AuthStack(LocalStack):
    """The stack as a deployment behaves: API Gateway's authorizer in front, the claims deciding."""

    def token(self, *args: str) -> str:
        """What `python -m local.token ...` prints against this stack's data folder."""
        printed = subprocess.run([sys.executable, "-m", "local.token", *args], cwd=REPO, env=self.environment(),
                                 capture_output=True, text=True, check=True)
        return printed.stdout.strip()

    def as_role(self, token: str | None, method: str, path: str, body: object = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.request(method, path, body, headers=headers)


def sign_up(stack: LocalStack, handle: str) -> None:
    """An account made on the local provider's own sign-up and confirmation pages, as a browser would post them."""
    provider = f"http://127.0.0.1:{stack.auth_port}"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(b"v" * 43).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode({"response_type": "code", "client_id": "turnout-page", "state": "s",
                                    "redirect_uri": f"{stack.base_url}/", "code_challenge": challenge,
                                    "code_challenge_method": "S256"})
    form = {"username": handle, "email": f"{handle}@example.com", "password": "a long local password"}
    page = urllib.request.urlopen(f"{provider}/signup?{query}", urllib.parse.urlencode(form).encode()).read().decode()
    code = re.search(r'<output id="local-code">(\d{6})</output>', page).group(1)
    confirm = urllib.parse.urlencode({"username": handle, "code": code}).encode()
    urllib.request.urlopen(f"{provider}/confirm?{query}", confirm).read()  # followed back to the page


def button_function() -> LambdaFunction:
    """The button's Lambda function as the local stack runs it, for tests that run the broker in-process."""
    return LambdaFunction("ButtonFunction", "iot.handler.lambda_handler", timeout_seconds=10, memory_mb=512)
