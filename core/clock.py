"""Core: the one clock. Every rule that depends on "now" - sign-ups closing, check-in opening, pairing codes
expiring, what is coming up, a button's next event - reads it here, through the services' `now` argument."""
from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    """The current instant, aware, in UTC. Tests pin it by freezing time (time-machine), never by patching this."""
    return datetime.now(timezone.utc)
