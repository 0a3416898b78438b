"""Benchmark: 10,000 signups listed page by page through the API handler, with the memory of each page traced.

moto's DynamoDB runs as a server in its own process on a free loopback port, seeded from the project's venv;
the walk runs in a third process, python3.13 in ApiFunction's own environment (tests/bench/environment.py), so
tracemalloc sees only what the Lambda function would run - the handler, core, pynamodb, botocore - never the
table. The walk reports pages walked, signups seen (each once, in order), the peak traced memory of page 1
and the highest of any page, what stayed allocated after page 1 and after the last page, and the size of the
whole list as JSON for scale.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
SIGNUPS = 10_000
PAGE = 100


def _start_moto(port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            if server.poll() is not None:
                raise RuntimeError("moto's server exited at start") from None
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("moto's server did not listen within 30 s")


# What API Gateway's JWT authorizer hands the function for a signed-in organizer (Cognito's claim names).
ORGANIZER = {"jwt": {"claims": {"username": "organizer", "cognito:groups": "[organizers]"}, "scopes": None}}


def _event(method: str, path: str, query: dict[str, str]) -> dict:
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path,
        "rawQueryString": "&".join(f"{k}={quote(v)}" for k, v in query.items()),
        "queryStringParameters": query or None, "headers": {}, "isBase64Encoded": False,
        "requestContext": {"http": {"method": method, "path": path}, "requestId": "bench", "stage": "$default",
                           "authorizer": ORGANIZER},
    }


def seed(port: int) -> str:
    """Run by the project's venv: the table from template.yaml, an event, and SIGNUPS signups written as core
    writes them (its models and keys), in batches instead of one by one. Returns the event id."""
    _environ(port)
    sys.path.insert(0, str(ROOT))
    import boto3

    from core import keys, services
    from core.table import EventItem, SignupItem
    from local.tables import create_table

    create_table(boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"]), "turnout")
    now = datetime.now(timezone.utc)
    event_id = services.create_event(
        name="Big day", starts_at=(now + timedelta(days=5)).isoformat(), capacity=None
    ).event_id
    with SignupItem.batch_write() as batch:
        for n in range(SIGNUPS):
            person = f"p{n:05d}"
            went = now + timedelta(microseconds=n)
            batch.save(SignupItem(*keys.signup(event_id, person), event_id=event_id, person=person, guests=0,
                                  status="going", source="api", signed_up_at=keys.utc(went),
                                  status_order=keys.going_order(went, person)))
    EventItem(*keys.event(event_id)).update(actions=[EventItem.going.set(SIGNUPS)])
    return event_id


def _environ(port: int) -> None:
    os.environ.update(AWS_ENDPOINT_URL_DYNAMODB=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="bench",
                      AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
                      TURNOUT_TABLE="turnout")


def walk(port: int, event_id: str) -> dict:
    """Run by python3.13 in ApiFunction's own environment (so what is traced is what Lambda would run)."""
    _environ(port)
    from api.handler import lambda_handler

    path = f"/events/{event_id}/signups"
    lambda_handler(_event("GET", path, {"limit": str(PAGE)}), None)  # warm: imports and clients are not the list

    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    # Only a count and the last handle are kept: a list of every handle would itself grow with the walk.
    seen = 0
    last = ""
    in_order = True
    peaks: list[int] = []
    retained: list[int] = []  # still allocated after each page, against before the first
    cursor = None
    whole = 0
    while True:
        query = {"limit": str(PAGE)} | ({"cursor": cursor} if cursor else {})
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        answer = lambda_handler(_event("GET", path, query), None)
        peaks.append(tracemalloc.get_traced_memory()[1] - before)
        retained.append(tracemalloc.get_traced_memory()[0] - baseline)
        if answer["statusCode"] != 200:
            raise RuntimeError(f"page {len(peaks)}: {answer['statusCode']} {answer['body'][:200]}")
        whole += len(answer["body"])
        page = json.loads(answer["body"])
        for signup in page["signups"]:
            in_order = in_order and signup["person"] > last
            last = signup["person"]
            seen += 1
        cursor = page["next_cursor"]
        del answer, page
        if not cursor:
            break
    tracemalloc.stop()
    return {
        "pages": len(peaks),
        "seen": seen,
        "in_order": in_order,  # strictly increasing handles: each signup once, in sign-up order
        "first_page_peak": peaks[0],
        "max_page_peak": max(peaks),
        "retained_first_page": retained[0],
        "retained_last_page": retained[-1],
        "whole_list_bytes": whole,
    }


def run(python: str, stage: Path, sdk: Path) -> dict:
    """moto's server, seeded by this venv; the walk by `python` with only `stage` and `sdk` on its path."""
    # Imported here: the walk runs this very file as a script in the function's environment, without tests/.
    from tests.support.ports import free_port

    port = free_port()
    server = _start_moto(port)
    try:
        seeded = subprocess.run([sys.executable, "-m", "tests.bench.listing", "seed", str(port)], cwd=ROOT,
                                capture_output=True, text=True)
        if seeded.returncode != 0:
            raise RuntimeError(f"seeding failed:\n{seeded.stderr[-3000:]}")
        event_id = seeded.stdout.strip().splitlines()[-1]
        walked = subprocess.run([python, "-I", "-S", __file__, "walk", str(port), event_id, str(stage), str(sdk)],
                                cwd=stage, capture_output=True, text=True)
        if walked.returncode != 0:
            raise RuntimeError(f"the walk failed:\n{walked.stderr[-3000:]}")
        return json.loads(walked.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        print(seed(int(sys.argv[2])))
    else:
        sys.path[:0] = sys.argv[4:6]
        print(json.dumps(walk(int(sys.argv[2]), sys.argv[3])))
