"""Core service, an organizer's hand on the waitlist: move a waiting party up now, ahead of the rule that seats the
first in line who fits. The person is told as at any promotion (the stream sees waitlisted become going)."""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from core import clock
from core import validation as valid
from core.store import move_up as store
from core.values import Signup


class MovedUp(NamedTuple):
    signup: Signup
    places_added: int  # how far the capacity was raised so the party fits (0: there was room)


def move_up(event_id: str, person: str, *, now: datetime | None = None) -> MovedUp:
    """Seats a waitlisted party now, raising the capacity by the places it lacks. Going already: unchanged.
    Raises EventNotFound, NotSignedUp, EventOver, NotWithSeatBlocks."""
    signup, added = store.move_up(valid.event_id(event_id), valid.handle(person), clock.at(now))
    return MovedUp(signup, added)
