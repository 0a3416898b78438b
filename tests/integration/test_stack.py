"""The local stack over real HTTP: health, data across restarts and kill -9, loopback only, bodies of every kind."""
from __future__ import annotations

import json
import os
import signal
import socket
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.integration

ALEXA_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "alexa"


def test_health_is_200_once_every_component_is_ready(stack):
    health = stack.request("GET", "/health")
    assert health.status == 200
    assert health.headers["apigw-requestid"]


def test_health_answers_head_as_it_answers_get(stack):
    got, head = stack.request("GET", "/health"), stack.request("HEAD", "/health")
    assert head.status == got.status == 200
    assert head.body == b""
    assert head.headers["content-length"] == got.headers["content-length"] == str(len(got.body))
    assert head.headers["content-type"] == got.headers["content-type"]


def test_data_survives_a_clean_restart(stack):
    event = stack.new_event(name="Clean restart", capacity=2)
    assert stack.request("PUT", f"/events/{event['event_id']}/signups/melvin", {"name": "Melvin Moose"}).status == 201

    assert stack.restart() == 0  # SIGTERM ends in a clean exit

    again = stack.request("GET", f"/events/{event['event_id']}")
    assert again.status == 200
    assert (again.json()["name"], again.json()["going"]) == ("Clean restart", 1)
    assert stack.request("GET", f"/events/{event['event_id']}/signups/melvin").json()["name"] == "Melvin Moose"


def test_kill_9_loses_at_most_the_last_second_of_writes(stack):
    acknowledged: list[tuple[float, str]] = []
    until = time.monotonic() + 2.0
    while time.monotonic() < until:
        created = stack.new_event(name=f"Crash {len(acknowledged)}")
        acknowledged.append((time.monotonic(), created["event_id"]))
    killed_at = time.monotonic()
    stack.kill()
    stack.start()

    old_enough = [event_id for at, event_id in acknowledged if at <= killed_at - 1.0]
    lost = [event_id for event_id in old_enough if stack.request("GET", f"/events/{event_id}").status != 200]
    assert old_enough, "the test wrote nothing more than a second before the kill"
    assert lost == []
    # The newest writes may be gone, but never half of something: every event that is back is whole.
    for _, event_id in acknowledged[len(old_enough):]:
        answer = stack.request("GET", f"/events/{event_id}")
        assert answer.status in (200, 404)
        if answer.status == 200:
            assert (answer.json()["going"], answer.json()["waitlisted"]) == (0, 0)


def test_the_stack_killed_alone_leaves_its_dynamodb_to_save_everything_and_go(stack):
    created = [stack.new_event(name=f"Orphan {n}")["event_id"] for n in range(5)]
    (dynamodb,) = stack.children()
    stack.process.kill()
    stack.process.wait()
    deadline = time.monotonic() + 10
    while _running(dynamodb) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(dynamodb), "the DynamoDB process outlived the stack"
    stack.start()
    assert [stack.request("GET", f"/events/{event_id}").status for event_id in created] == [200] * 5


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"  # a zombie has exited; whoever adopted it may not reap it


def _listening_sockets(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every socket the process listens on, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    listening = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:  # 0A: LISTEN
                address, port = local.split(":")
                listening.append((_address(address, width), int(port, 16)))
    return listening


def _address(hex_address: str, width: int) -> str:
    raw = bytes.fromhex(hex_address)
    # /proc prints each 32-bit word in host (little-endian) order.
    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(socket.AF_INET if width == 8 else socket.AF_INET6, raw)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
def test_nothing_listens_beyond_loopback(stack):
    listening = [each for pid in (stack.process.pid, *stack.children()) for each in _listening_sockets(pid)]
    ports = {port for _, port in listening}
    assert {stack.http_port, stack.dynamodb_port} <= ports  # the check below looks at the real sockets
    assert [(address, port) for address, port in listening if address not in ("127.0.0.1", "::1")] == []


def test_the_api_cannot_be_reached_from_another_address(stack):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # picks the outward interface; sends nothing
        except OSError:
            pytest.skip("this machine has no address beyond loopback")
        outward = probe.getsockname()[0]
    if outward.startswith("127."):
        pytest.skip("this machine has no address beyond loopback")
    with pytest.raises(OSError):
        socket.create_connection((outward, stack.http_port), timeout=2).close()


def test_a_binary_body_reaches_the_api_base64_encoded(stack):
    event = stack.new_event(name="Binary body")
    body = json.dumps({"name": "Melvin Moose", "guests": 1}).encode()
    signup = stack.request("PUT", f"/events/{event['event_id']}/signups/melvin", body,
                           headers={"Content-Type": "application/octet-stream"})
    assert signup.status == 201
    assert (signup.json()["name"], signup.json()["guests"]) == ("Melvin Moose", 1)


def test_what_curl_d_sends_is_understood_too(stack):
    # curl -d labels its body application/x-www-form-urlencoded, which API Gateway base64-encodes.
    oslo = ZoneInfo("Europe/Oslo")
    day = datetime.now(oslo).date() + timedelta(days=30)  # the stack runs on the real clock
    event = {"name": "Curl trip", "starts_at": f"{day}T07:00:00", "timezone": "Europe/Oslo", "capacity": 3}
    created = stack.request("POST", "/events", json.dumps(event).encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert created.status == 201
    assert created.json()["starts_at"] == datetime(day.year, day.month, day.day, 7, tzinfo=oslo).isoformat()


def test_a_body_over_1_mib_is_413(stack):
    too_big = stack.request("POST", "/events", b"x" * (1024 * 1024 + 1), headers={"Content-Type": "application/json"})
    assert too_big.status == 413
    assert too_big.json()["error"]["code"] == "PayloadTooLarge"
    assert stack.request("GET", "/health").status == 200  # and the stack is none the worse


def test_the_api_answers_unknown_paths_in_its_error_shape(stack):
    missing = stack.request("GET", "/events/nosuchevent")
    assert missing.status == 404
    assert set(missing.json()["error"]) >= {"code", "message"}


@pytest.mark.parametrize("body", [b"this is not json", b"[1, 2, 3]", b""])
def test_alexa_refuses_a_body_that_is_not_a_json_object(stack, body):
    refused = stack.request("POST", "/alexa", body, headers={"Content-Type": "application/json"})
    assert refused.status == 400
    assert refused.json()["error"]["code"] == "InvalidInput"


def test_alexa_requests_reach_the_real_skill(stack):
    launch = json.loads((ALEXA_FIXTURES / "launch.json").read_text())
    answer = stack.request("POST", "/alexa", launch)
    assert answer.status == 200
    assert answer.json()["response"]["outputSpeech"]["ssml"] or answer.json()["response"]["outputSpeech"]["text"]


def test_sigint_stops_as_cleanly_as_sigterm(stack):
    event = stack.new_event(name="Ctrl-C")
    stack.process.send_signal(signal.SIGINT)
    assert stack.process.wait(20) == 0
    stack.start()
    assert stack.request("GET", f"/events/{event['event_id']}").status == 200


def test_stopping_prints_one_line_of_what_the_functions_counted(stack):
    assert stack.stop() == 0
    stack.start()  # a fresh process: its counts start at nothing
    event = stack.new_event(name="Counted", capacity=1)["event_id"]
    assert stack.request("PUT", f"/events/{event}/signups/ann").status == 201
    assert stack.request("PUT", f"/events/{event}/signups/bob").status == 201  # waits
    assert stack.request("GET", "/events/nope").status == 404
    assert stack.stop() == 0
    (last,) = [line for line in stack.log().splitlines() if "metrics so far" in line][-1:]
    assert "sign-ups 1 (+1 waitlisted)" in last and "refusals 1" in last and last.endswith("errors 0"), last
    stack.start()
