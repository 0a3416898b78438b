"""Deploy check: `python -m deploy.smoke URL` (make smoke) runs the README's story against any Turnout - create an
event, sign up, the waitlist, a promotion, a check-in, the notice - with the tokens it is given, and cleans up after
itself."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

NOTICE_WAIT_SECONDS = 30


class SmokeFailed(Exception):
    pass


class Turnout:
    """The JSON API at `url`, called as one person (a bearer token, or none in open mode)."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url = url.rstrip("/")
        self.token = token

    def __call__(self, method: str, path: str, body: Any = None, *, expect: tuple[int, ...] = (200,)) -> Any:
        headers = {"accept": "application/json"}
        if body is not None:
            headers["content-type"] = "application/json"
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url + path, method=method, headers=headers,
                                         data=json.dumps(body).encode() if body is not None else None)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, text = answer.status, answer.read().decode()
        except urllib.error.HTTPError as err:
            status, text = err.code, err.read().decode()
        if status not in expect:
            raise SmokeFailed(f"{method} {path}: {status} {text[:300]} (expected {' or '.join(map(str, expect))})")
        return json.loads(text) if text else None


def person_of(token: str | None, fallback: str) -> str:
    """The handle a token speaks for (its username claim), read without verifying: the API verifies it."""
    if not token:
        return fallback
    import base64
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims.get("username") or fallback


def run(url: str, organizer_token: str | None, person_token: str | None, say=print) -> None:
    organizer, person = Turnout(url, organizer_token), Turnout(url, person_token)
    me = person_of(person_token, "smoke-melvin")
    waiting = f"smoke-{uuid.uuid4().hex[:8]}"  # someone the organizer signs up, and who is promoted
    assert organizer("GET", "/health")["status"] == "ok"
    say(f"ok   {url}/health")
    starts = (datetime.now(timezone.utc) + timedelta(minutes=45)).replace(microsecond=0)
    event = organizer("POST", "/events", {"name": f"Smoke test {waiting}", "starts_at": starts.isoformat(),
                                          "timezone": "UTC", "capacity": 1}, expect=(201,))
    event_id = event["event_id"]
    say(f"ok   created event {event_id} (one seat, starts in 45 minutes)")
    try:
        going = person("PUT", f"/events/{event_id}/signups/{me}", {"guests": 0}, expect=(201,))
        if going["status"] != "going":
            raise SmokeFailed(f"{me} should be going, is {going['status']}")
        say(f"ok   {me} signed up: going")
        line = organizer("PUT", f"/events/{event_id}/signups/{waiting}", expect=(201,))
        if (line["status"], line["position"]) != ("waitlisted", 1):
            raise SmokeFailed(f"{waiting} should be first on the waitlist, is {line['status']} {line['position']}")
        say(f"ok   {waiting} signed up by the organizer: waitlisted, first in line")
        cancelled = person("DELETE", f"/events/{event_id}/signups/{me}")
        if (cancelled["promoted"] or {}).get("person") != waiting:
            raise SmokeFailed(f"cancelling should have promoted {waiting}: {cancelled}")
        say(f"ok   {me} cancelled; {waiting} promoted in the same step")
        checked = organizer("POST", f"/events/{event_id}/signups/{waiting}/check-in")
        if not checked["checked_in_at"]:
            raise SmokeFailed(f"{waiting} was not checked in: {checked}")
        say(f"ok   {waiting} checked in")
        deadline = time.monotonic() + NOTICE_WAIT_SECONDS
        while True:
            told = organizer("GET", f"/people/{waiting}/notices")["notices"]
            if any(notice["event_id"] == event_id and notice["what"] == "promoted" for notice in told):
                break
            if time.monotonic() > deadline:
                raise SmokeFailed(f"no notice of the promotion reached {waiting} within {NOTICE_WAIT_SECONDS} s")
            time.sleep(0.5)
        say(f"ok   {waiting} was told of the promotion")
    finally:
        organizer("DELETE", f"/events/{event_id}", expect=(204, 404))
        say(f"ok   removed event {event_id}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.smoke", description=(
        "Run the README's story against a Turnout: an organizer creates a one-seat event, a person signs up, the "
        "organizer signs someone up after them (waitlisted), the person cancels (the other is promoted), the "
        "organizer checks them in, and the promotion's notice arrives. Leaves nothing behind."))
    parser.add_argument("url", help="the API's URL, e.g. the stack's ApiUrl output or http://127.0.0.1:3000")
    parser.add_argument("--organizer-token", default=os.environ.get("ORGANIZER_TOKEN"),
                        help="an access token of an organizer (default $ORGANIZER_TOKEN; none in open mode)")
    parser.add_argument("--person-token", default=os.environ.get("PERSON_TOKEN"),
                        help="an access token of another person (default $PERSON_TOKEN; none in open mode)")
    args = parser.parse_args(argv)
    try:
        run(args.url, args.organizer_token, args.person_token)
    except (SmokeFailed, OSError) as err:
        print(f"FAIL {err}", file=sys.stderr)
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
