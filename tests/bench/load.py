"""Benchmark: the local stack (`python -m local`) under 16 concurrent HTTP clients, for sign-up and who-is-going.

Started on free loopback ports with a temporary data folder, as the integration tests start it, and stopped
with SIGTERM afterwards; twice, side by side: as it runs (`python -m local`) and with moto as it comes
(tests/bench/stock_local.py). Each phase is bounded in requests and in time: 1,000 people sign up for one event,
then who-is-going is asked by one client alone, then by 16 at once. Latencies are measured by the clients, one
request per connection (API Gateway's clients mostly open their own).
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 16
SIGNED_UP = 1000
READS_PER_CLIENT = 10
ALONE_READS = 30
PHASE_SECONDS = 60
# The two sides: the stack as `make run` starts it, and the same with moto as it comes.
SIDES = {"fast": ["-m", "local"], "stock": ["-m", "tests.bench.stock_local"]}


class Stack:
    def __init__(self, folder: Path, entry: list[str]) -> None:
        self.http_port = free_port()
        env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "TURNOUT_", "MOTO_"))}
        env.update(TURNOUT_HTTP_PORT=str(self.http_port), TURNOUT_MQTT_PORT=str(free_port()),
                   TURNOUT_DYNAMODB_PORT=str(free_port()), TURNOUT_DATA_DIR=str(folder / "data"), PYTHONUNBUFFERED="1",
                   # The quick start's open mode: this measures throughput, not sign-in.
                   TURNOUT_AUTH="off")
        self.log = open(folder / "stack.log", "w")
        self.process = subprocess.Popen([sys.executable, *entry], cwd=ROOT, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"python -m local exited with {self.process.returncode}; see {self.log.name}")
            try:
                if self.request("GET", "/health", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the local stack's /health was not 200 within 60 s")

    def request(self, method: str, path: str, body: dict | None = None, timeout: float = 30) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            connection.request(
                method, path, body=payload, headers={"content-type": "application/json"} if payload else {}
            )
            answer = connection.getresponse()
            return answer.status, answer.read()
        finally:
            connection.close()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _phase(stack: Stack, requests: list[list[tuple[str, str, dict | None]]], ok: set[int]) -> dict:
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + PHASE_SECONDS
    start_line = threading.Barrier(len(requests) + 1)

    def client(mine: list[tuple[str, str, dict | None]]) -> None:
        start_line.wait()
        for method, path, body in mine:
            if time.monotonic() > deadline:
                return
            began = time.perf_counter()
            try:
                status, _ = stack.request(method, path, body)
            except OSError:
                status = 0
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                if status not in ok:
                    failures[0] += 1

    threads = [threading.Thread(target=client, args=(mine,)) for mine in requests]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "failures": failures[0],
        "per_second": len(ordered) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    }


def _going(stack: Stack, event_id: str) -> int:
    return json.loads(stack.request("GET", f"/events/{event_id}")[1])["going"]


def run() -> dict[str, dict]:
    """Both sides, stock first: {"stock": {phase: figures}, "fast": {...}}."""
    return {side: _side(SIDES[side]) for side in ("stock", "fast")}


def _side(entry: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="turnout-bench-") as folder:
        stack = Stack(Path(folder), entry)
        try:
            starts = (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0).isoformat()
            status, body = stack.request(
                "POST", "/events", {"name": "Load test", "starts_at": starts, "capacity": None}
            )
            if status != 201:
                raise RuntimeError(f"POST /events answered {status}: {body[:200]!r}")
            event_id = json.loads(body)["event_id"]
            people = [f"p{n:04d}" for n in range(SIGNED_UP)]
            sign_ups = [[("PUT", f"/events/{event_id}/signups/{person}", None) for person in people[c::CLIENTS]]
                        for c in range(CLIENTS)]
            signed = _phase(stack, sign_ups, {201})
            # A sign-up phase cut short by its deadline is topped up, unmeasured, so both sides ask of 1,000.
            if _going(stack, event_id) < SIGNED_UP:
                for person in people:
                    if stack.request("PUT", f"/events/{event_id}/signups/{person}")[0] not in (200, 201):
                        raise RuntimeError(f"signing {person} up failed")
            going = _going(stack, event_id)
            # Who is going is then asked of that event (1,000 people, a first page of 50).
            path = f"/events/{event_id}/signups"
            alone = _phase(stack, [[("GET", path, None)] * ALONE_READS], {200})
            crowd = _phase(stack, [[("GET", path, None)] * READS_PER_CLIENT for _ in range(CLIENTS)], {200})
            return {"sign_up": signed, "going": going, "who_alone": alone, "who_is_going": crowd}
        finally:
            stack.stop()


if __name__ == "__main__":
    print(json.dumps(run()))
