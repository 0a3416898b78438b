"""Test set-up: the one instant that tests needing a fixed date are pinned to (tests/conftest.py's pinned_clock)."""
from __future__ import annotations

from datetime import datetime, timezone

# A Monday: the fixtures' events (a Friday ski trip, 2030's dates) lie ahead of it.
PINNED_AT = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
