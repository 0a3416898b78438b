"""Core services: the one entry every edge calls. Plain arguments in, domain values or typed errors out."""
from __future__ import annotations

from datetime import datetime

from core.values import Cancellation, Device, Event, Page, PairingCode, Signup, SignupOutcome, SignupPage


def create_event(*, name: str, starts_at: str, ends_at: str | None = None, timezone: str = "UTC",
                 location: str | None = None, description: str | None = None, capacity: int | None = None,
                 now: datetime | None = None) -> Event:
    """starts_at / ends_at are ISO 8601 text (no offset = the event's own time zone). Raises InvalidInput."""
    raise NotImplementedError


def list_events(*, limit: int | str | None = None, cursor: str | None = None, now: datetime | None = None) -> Page[Event]:
    """Events not yet over, soonest first. Raises InvalidInput / InvalidCursor."""
    raise NotImplementedError


def next_event(*, now: datetime | None = None) -> Event:
    """The soonest event not yet over. Raises NoUpcomingEvent."""
    raise NotImplementedError


def get_event(event_id: str) -> Event:
    """Raises EventNotFound."""
    raise NotImplementedError


def update_event(event_id: str, changes: dict, *, now: datetime | None = None) -> Event:
    """changes: any of the create_event fields (None clears an optional one). Raises InvalidInput,
    EventNotFound, CapacityBelowTaken. Raising capacity promotes from the waitlist."""
    raise NotImplementedError


def delete_event(event_id: str) -> None:
    """Removes the event and its signups. Raises EventNotFound."""
    raise NotImplementedError


def sign_up(event_id: str, person: str, *, name: str | None = None, guests: int | None = 0, source: str = "api",
            waitlist: bool = True, request_id: str | None = None, now: datetime | None = None) -> SignupOutcome:
    """Idempotent: signing up again returns the existing signup with created=False. request_id makes a
    retried delivery return the first outcome. Raises InvalidInput, EventNotFound, EventOver, EventFull."""
    raise NotImplementedError


def cancel_signup(event_id: str, person: str, *, request_id: str | None = None,
                  now: datetime | None = None) -> Cancellation:
    """Cancels and, in the same transaction, promotes the first waitlisted person. Raises NotSignedUp."""
    raise NotImplementedError


def check_in(event_id: str, person: str, *, request_id: str | None = None, now: datetime | None = None) -> Signup:
    """Idempotent. Raises NotSignedUp, NotGoing, CheckInNotOpen, EventOver."""
    raise NotImplementedError


def get_signup(event_id: str, person: str) -> Signup:
    """Raises NotSignedUp."""
    raise NotImplementedError


def list_signups(event_id: str, *, status: str | None = None, limit: int | str | None = None,
                 cursor: str | None = None) -> SignupPage:
    """Going first, then the waitlist in order. Raises EventNotFound, InvalidInput, InvalidCursor."""
    raise NotImplementedError


def bind_device(serial: str, person: str, event_id: str | None = None, *, now: datetime | None = None) -> Device:
    """Binds a button to a person and optionally one event (which must exist)."""
    raise NotImplementedError


def get_device(serial: str) -> Device:
    """Raises DeviceNotFound."""
    raise NotImplementedError


def unbind_device(serial: str) -> None:
    """Raises DeviceNotFound."""
    raise NotImplementedError


def issue_pairing_code(person: str, *, now: datetime | None = None) -> PairingCode:
    """A six-digit single-use code, valid for a few minutes."""
    raise NotImplementedError


def redeem_pairing_code(alexa_user_id: str, code: str, *, now: datetime | None = None) -> str:
    """Links the Alexa user to the code's person and returns the handle. Raises PairingCodeInvalid,
    PairingLocked (after repeated misses, per Alexa user and per person)."""
    raise NotImplementedError


def linked_person(alexa_user_id: str) -> str:
    """Raises NotLinked."""
    raise NotImplementedError
