"""Core: items in DynamoDB's own wire format <-> domain values, for the requests every user action makes.

core.table's pynamodb models define the table and write the rare items (events, pairing codes); this module
reads every item and writes the ones a sign-up or a button press writes. Decoding an item through a model
costs 50-77 µs (an attribute object per field, then the model's own checks) where these functions cost 2-5;
a page of 50 signups would spend 3 ms there. tests/unit/test_core_items.py keeps the two in step: whatever
one writes, the other reads back the same.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from core import keys
from core.values import Device, Event, Signup

Raw = dict[str, dict[str, Any]]

# Attribute names as stored (the models' attr_name), and the discriminator values the models write.
PK, SK, KIND, STATUS_ORDER, EXPIRES = "pk", "sk", "kind", "lsi1sk", "expires_at_epoch"
EVENT, SIGNUP, DEVICE, REQUEST = "event", "signup", "device", "request"


def kind(raw: Raw) -> str | None:
    value = raw.get(KIND)
    return value["S"] if value else None


def _text(raw: Raw, name: str) -> str | None:
    value = raw.get(name)
    return value["S"] if value else None


def _local(raw: Raw, name: str, tz: ZoneInfo) -> datetime | None:
    value = raw.get(name)
    return datetime.fromisoformat(value["S"]).astimezone(tz) if value else None


def event(raw: Raw) -> Event:
    tz = ZoneInfo(raw["timezone"]["S"])
    capacity = raw.get("capacity")
    return Event(
        event_id=raw["event_id"]["S"],
        name=raw["name"]["S"],
        starts_at=datetime.fromisoformat(raw["starts_at"]["S"]).astimezone(tz),
        ends_at=_local(raw, "ends_at", tz),
        timezone=raw["timezone"]["S"],
        location=_text(raw, "location"),
        description=_text(raw, "description"),
        capacity=int(capacity["N"]) if capacity else None,
        going=int(raw["going"]["N"]),
        waitlisted=int(raw["waitlisted"]["N"]),
        spots_left=int(raw["seats_left"]["N"]) if capacity else None,
        created_at=datetime.fromisoformat(raw["created_at"]["S"]).astimezone(tz),
    )


def signup(raw: Raw, position: int | None = None) -> Signup:
    status = raw["status"]["S"]
    checked_in = raw.get("checked_in_at")
    return Signup(
        event_id=raw["event_id"]["S"],
        person=raw["person"]["S"],
        name=_text(raw, "name"),
        guests=int(raw["guests"]["N"]),
        status=status,  # type: ignore[arg-type]
        position=position if status == "waitlisted" else None,
        source=raw["source"]["S"],  # type: ignore[arg-type]
        signed_up_at=datetime.fromisoformat(raw["signed_up_at"]["S"]),
        checked_in_at=datetime.fromisoformat(checked_in["S"]) if checked_in else None,
    )


def signup_item(value: Signup, order: str, stamp: str | None = None) -> Raw:
    """A new signup as SignupItem would save it (not checked in yet); stamp: keys.utc(value.signed_up_at)."""
    pk, sk = keys.signup(value.event_id, value.person)
    raw: Raw = {
        PK: {"S": pk},
        SK: {"S": sk},
        KIND: {"S": SIGNUP},
        STATUS_ORDER: {"S": order},
        "event_id": {"S": value.event_id},
        "person": {"S": value.person},
        "guests": {"N": str(value.guests)},
        "status": {"S": value.status},
        "source": {"S": value.source},
        "signed_up_at": {"S": stamp or keys.utc(value.signed_up_at)},
    }
    if value.name is not None:
        raw["name"] = {"S": value.name}
    return raw


def device(raw: Raw) -> Device:
    starts = raw.get("event_starts_at")
    tz = raw.get("event_timezone")
    return Device(
        serial=raw["serial"]["S"],
        person=raw["person"]["S"],
        event_id=_text(raw, "event_id"),
        bound_at=datetime.fromisoformat(raw["bound_at"]["S"]),
        event_name=_text(raw, "event_name"),
        event_starts_at=datetime.fromisoformat(starts["S"]).astimezone(ZoneInfo(tz["S"])) if starts and tz else None,
    )
