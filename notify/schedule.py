"""Notify edge, the clock: EventBridge's schedule runs this every few minutes (template.yaml ReminderFunction;
locally, local/reminders.py on the same rate). Each series whose next occurrence is due makes it
(core/services/series.py); then
each reminder fallen due is left as word on the table, and its stream hands it to notify/handler.py, which tells
everyone going once, on every channel they have."""
from __future__ import annotations

from core import startup

# Before every other import: nothing the container builds is collected while it is built (core.startup).
startup.begin()

import logging
from typing import Any

from core import reminders
from core.services import series

log = logging.getLogger(__name__)
log.setLevel(logging.INFO)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A scheduled event (its time is not read: a late or repeated run asks the clock, and finds nothing left to
    send twice). A failure raises, and the next run, minutes later, does what this one did not."""
    made = series.make_due_occurrences()
    for event_id in made:
        log.info("occurrence %s of its series made", event_id)
    left = reminders.send_due_reminders()
    for event_id, due in left:
        log.info("reminder due %s for event %s left for the stream", due.isoformat(), event_id)
    return {"reminders": len(left), "occurrences": len(made)}


startup.end()
