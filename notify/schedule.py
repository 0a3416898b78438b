"""Notify edge, the clock: EventBridge's schedule runs this every few minutes (template.yaml ReminderFunction;
locally, local/reminders.py on the same rate). Each reminder fallen due is left as word on the table, and its stream
hands it to notify/handler.py, which tells everyone going once, on every channel they have."""
from __future__ import annotations

from core import startup

# Before every other import: nothing the container builds is collected while it is built (core.startup).
startup.begin()

import logging
from typing import Any

from core import reminders

log = logging.getLogger(__name__)
log.setLevel(logging.INFO)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A scheduled event (its time is not read: a late or repeated run asks the clock, and finds nothing left to
    send twice). A failure raises, and the next run, minutes later, does what this one did not."""
    left = reminders.send_due_reminders()
    for event_id, due in left:
        log.info("reminder due %s for event %s left for the stream", due.isoformat(), event_id)
    return {"reminders": len(left)}


startup.end()
