"""Least privilege, measured: each handler runs a story that uses every feature of its edge on moto, every
DynamoDB call it makes is recorded as the IAM action AWS would check, and the set must equal what its role
in the transformed template grants - nothing used is missing, nothing granted is unused."""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from core import services
from core.errors import NotSignedUp
from tests.fixtures.alexa import SKILL_ID, envelope
from tests.support.api import call
from tests.support.dynamodb_calls import hooked
from tests.support.template import granted, transformed

IOT_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "iot"
# TransactWriteItems is authorised item by item, as the action each part would be on its own.
TRANSACT_PARTS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@contextlib.contextmanager
def recording(monkeypatch) -> Iterator[set[tuple[str, str]]]:
    """Collects (IAM action, 'table' | 'index') for every DynamoDB call made inside the block."""
    seen: set[tuple[str, str]] = set()

    def record(operation, params):
        if operation == "TransactWriteItems":
            for item in params["TransactItems"]:
                (part,) = item
                seen.add((TRANSACT_PARTS[part], "table"))
        else:
            seen.add((operation, "index" if params.get("IndexName") else "table"))

    with hooked(before=record):
        yield seen


def soon(**delta) -> str:
    return (datetime.now(timezone.utc) + timedelta(**delta)).isoformat(timespec="seconds")


def test_the_api_uses_exactly_what_its_role_grants(table, monkeypatch):
    with recording(monkeypatch) as seen:
        event_id = call("POST", "/events", {"name": "Ski trip", "starts_at": soon(minutes=30), "capacity": 1}).json[
            "event_id"
        ]
        signups = f"/events/{event_id}/signups"
        assert call("PUT", f"{signups}/ann").json["status"] == "going"
        assert call("PUT", f"{signups}/bob").json["status"] == "waitlisted"
        assert call("GET", f"{signups}/bob").json["position"] == 1
        assert call("DELETE", f"{signups}/ann").json["promoted"]["person"] == "bob"
        assert call("POST", f"{signups}/bob/check-in").json["checked_in_at"] is not None
        assert call("PATCH", f"/events/{event_id}", {"capacity": 5}).json["capacity"] == 5
        assert call("GET", signups).json["going"] == 1
        assert [e["event_id"] for e in call("GET", "/events").json["events"]] == [event_id]
        assert call("PUT", "/devices/BTN-1", {"person": "bob", "event_id": event_id}).status == 200
        assert call("GET", "/devices/BTN-1").json["person"] == "bob"
        assert call("DELETE", "/devices/BTN-1").status < 300
        assert call("POST", "/people/bob/alexa-code").status == 201
        assert call("DELETE", f"/events/{event_id}").status == 204
    assert seen == granted(transformed(), "ApiFunction")


def test_the_skill_uses_exactly_what_its_role_grants(table, monkeypatch):
    from skills import handler, speech

    monkeypatch.setattr(handler.skill_builder, "skill_id", SKILL_ID)
    event = services.create_event(name="Ski trip", starts_at=soon(days=2), capacity=10)
    code = services.issue_pairing_code("melvin").code
    wrong = "000000" if code != "000000" else "111111"

    def said(name: str, **kwargs) -> str:
        return handler.lambda_handler(envelope(name, **kwargs), SimpleNamespace(aws_request_id="r"))["response"][
            "outputSpeech"
        ]["ssml"]

    with recording(monkeypatch) as seen:
        said("link_account", slots={"code": wrong})
        assert speech.linked("melvin") in said("link_account", slots={"code": code})
        said("sign_up")
        assert services.get_signup(event.event_id, "melvin").source == "alexa"
        said("who_is_going")
        said("cancel_signup")
        said("cancel_signup_confirmed")
    with pytest.raises(NotSignedUp):
        services.get_signup(event.event_id, "melvin")
    assert seen == granted(transformed(), "SkillFunction")


def test_the_button_uses_exactly_what_its_role_grants(table, monkeypatch):
    from iot import handler

    serial = "G030JF055364XVRB"
    event = services.create_event(name="Lodge night", starts_at=soon(minutes=30))
    services.bind_device(serial, "melvin", event.event_id)

    def press(name: str, click_id: str) -> dict:
        message = {**json.loads((IOT_FIXTURES / name).read_text()), "topicSerial": serial, "clickId": click_id}
        return handler.lambda_handler(message, SimpleNamespace(aws_request_id=f"lambda-{click_id}"))

    with recording(monkeypatch) as seen:
        assert press("classic_single.json", "c-1")["outcome"] == "signed_up"
        assert press("classic_double.json", "c-2")["outcome"] == "cancelled"
        assert press("classic_single.json", "c-3")["outcome"] == "signed_up"
        assert press("classic_long.json", "c-4")["outcome"] == "checked_in"
    assert seen == granted(transformed(), "ButtonFunction")


def test_notify_uses_exactly_what_its_role_grants(table, monkeypatch):
    from notify.handler import lambda_handler

    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "dynamodb"
    starts = (datetime.now(timezone.utc) + timedelta(days=5)).replace(microsecond=0)  # the clock may be moved
    from core.store import events
    from core.values import Event
    events.put_event(Event("skitrip26", "Ski trip", starts, None, "UTC", None, None, 2, 0, 0, 2, 0, starts))
    services.sign_up("skitrip26", "ann")
    services.bind_device("BTN-MELVIN", "melvin", "skitrip26")
    with recording(monkeypatch) as seen:
        for name in ("stream_promotion", "stream_event_moved", "stream_event_deleted", "stream_organizer_cancel"):
            batch = json.loads((fixtures / f"{name}.json").read_text())
            assert lambda_handler(batch, SimpleNamespace(aws_request_id=name)) == {"batchItemFailures": []}
        lambda_handler(
            json.loads((fixtures / "stream_promotion.json").read_text()), SimpleNamespace(aws_request_id="again")
        )
    assert seen == granted(transformed(), "NotifyFunction")


def test_the_reminder_run_uses_exactly_what_its_role_grants(table, monkeypatch):
    from notify.schedule import lambda_handler

    now = datetime.now(timezone.utc)  # the clock may be moved
    event = services.create_event(name="Ski trip", starts_at=soon(hours=3), now=now - timedelta(days=1))
    services.sign_up(event.event_id, "ann", now=now - timedelta(hours=1))
    # A weekly series made a week ago has its next occurrence due now (eight weeks ahead, an hour ago).
    from core.services import series
    series.create_series(name="Ski club", starts_at=soon(weeks=-1, hours=-1), timezone="UTC",
                         repeat={"every": "week", "count": 20}, now=now - timedelta(weeks=1, hours=2))
    with recording(monkeypatch) as seen:
        assert lambda_handler({"source": "aws.events"}, SimpleNamespace(aws_request_id="r")) == {
            "reminders": 1, "occurrences": 2}  # the ninth and tenth: eight weeks ahead since two hours and an hour
        assert lambda_handler({"source": "aws.events"}, SimpleNamespace(aws_request_id="r")) == {
            "reminders": 0, "occurrences": 0}
    assert seen == granted(transformed(), "ReminderFunction")
