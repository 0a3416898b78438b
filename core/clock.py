"""Core: the one clock. Every rule that depends on "now" - sign-ups closing, check-in opening, pairing codes
expiring, what is coming up, a button's next event - reads it here, through the services' `now` argument."""
from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    """The current instant, aware, in UTC. Tests pin it by freezing time (time-machine), never by patching this."""
    return datetime.now(timezone.utc)


def at(given: datetime | None) -> datetime:
    """The moment a caller gives when it has one (a test, a moment already read for this action), else now()."""
    return given if given is not None else now()
