"""A tenth of DynamoDB calls fail at random, before or after they reach the table: no signup is lost or doubled."""
from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from tests.support.api import call
from tests.support.dynamodb_calls import hooked

PEOPLE = [f"p{n:02d}" for n in range(24)]
FAULTS = ["ThrottlingException", "InternalServerError", "ProvisionedThroughputExceededException", "timeout"]


class Faults:
    """Fails DynamoDB calls with probability `rate`: half before the table sees them, half after it did."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate = rate
        self.rng = random.Random(seed)
        self.on = False
        self.calls = 0
        self.injected: Counter[str] = Counter()
        self.after: str | None = None  # the fault to raise once the call in flight has reached the table

    def before(self, operation: str, params: dict) -> None:
        if not self.on:
            return
        self.calls += 1
        if self.rng.random() >= self.rate:
            return
        fault = self.rng.choice(FAULTS)
        applied = self.rng.random() < 0.5
        self.injected[f"{fault} {'after' if applied else 'before'}"] += 1
        if applied:
            self.after = fault  # the table changes; the answer is lost on the way back
        else:
            self.fail(fault, operation)

    def answered(self, operation: str) -> None:
        fault, self.after = self.after, None
        if fault is not None:
            self.fail(fault, operation)

    @staticmethod
    def fail(fault: str, operation: str) -> None:
        if fault == "timeout":
            raise ReadTimeoutError(endpoint_url="http://dynamodb")
        raise ClientError({"Error": {"Code": fault, "Message": "injected"}}, operation)


@pytest.fixture
def faults(table):
    injector = Faults(rate=0.1, seed=20261129)
    with hooked(before=injector.before, after=injector.answered):
        yield injector


def test_random_faults_lose_and_double_nothing(faults):
    starts = datetime.now(timezone.utc) + timedelta(hours=1)  # check-in is open
    created = call("POST", "/events", {"name": "Ski trip", "starts_at": starts.isoformat(), "capacity": 8})
    assert created.status == 201
    event_id = created.json["event_id"]
    base = f"/events/{event_id}/signups"
    rng = random.Random(7)
    # What we know of each person: "in", "out", or None when a failure left it open.
    known: dict[str, str | None] = {person: "out" for person in PEOPLE}
    statuses: Counter[int] = Counter()

    faults.on = True
    for _ in range(160):
        person = rng.choice(PEOPLE)
        action = rng.choices(["sign_up", "cancel", "check_in"], weights=[5, 3, 2])[0]
        if action == "sign_up":
            answer = call("PUT", f"{base}/{person}")
            if answer.status in (200, 201):
                known[person] = "in"
        elif action == "cancel":
            answer = call("DELETE", f"{base}/{person}")
            if answer.status == 200 or (answer.status == 404 and answer.error["code"] == "NotSignedUp"):
                known[person] = "out"
        else:
            answer = call("POST", f"{base}/{person}/check-in")
            if answer.status == 200:
                known[person] = "in"
            elif answer.status == 404 and answer.error["code"] == "NotSignedUp":
                known[person] = "out"
        statuses[answer.status] += 1
        gave_up = (answer.status, answer.json["error"]["code"] if answer.status >= 400 else None)
        if gave_up in ((503, "Busy"), (429, "Throttled")):
            # Retries ran out: the caller is told to come back, and cannot know whether it happened.
            known[person] = None if action != "check_in" else known[person]
            assert answer.headers.get("retry-after")
        assert answer.status < 500 or answer.status == 503, (action, answer.status, answer.text)
    faults.on = False

    assert faults.calls >= 200 and sum(faults.injected.values()) >= 15, (faults.calls, faults.injected)
    assert statuses[503] + statuses[429] > 0, "the faults should have shown at least once"

    listing = call("GET", f"{base}?limit=100").json
    event = call("GET", f"/events/{event_id}").json
    persons = [s["person"] for s in listing["signups"]]
    assert len(persons) == len(set(persons)), "a person signed up twice"
    going = [s for s in listing["signups"] if s["status"] == "going"]
    waiting = [s for s in listing["signups"] if s["status"] == "waitlisted"]
    assert (
        (event["going"], event["waitlisted"]) == (len(going), len(waiting)) == (listing["going"], listing["waitlisted"])
    )
    assert sum(1 + s["guests"] for s in going) + event["spots_left"] == event["capacity"]
    assert [s["position"] for s in waiting] == list(range(1, len(waiting) + 1))
    assert not waiting or event["spots_left"] == 0, "someone waits while a seat is free"
    for person, state in known.items():
        if state == "in":
            assert person in persons, f"{person} was told they were signed up, and the signup is gone"
        elif state == "out":
            assert person not in persons, f"{person} was told they were out, and a signup is there"
