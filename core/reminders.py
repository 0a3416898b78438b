"""Core service: reminders - the reminder of each event starting soon that has fallen due, left as word for the
table's stream, from which notify/ tells everyone going, once each. notify/schedule.py runs it on a schedule."""
from __future__ import annotations

from datetime import datetime, timedelta

from core import clock
from core import validation as valid
from core.moments import told
from core.store import reminders as store
from core.values import Event

# The run looks as far ahead as the longest reminder time an organizer may choose.
HORIZON = timedelta(minutes=valid.REMINDER_MAX)


def send_due_reminders(*, now: datetime | None = None) -> list[tuple[str, datetime]]:
    """Each event starting within the horizon whose reminder has fallen due since the last one it sent: word of
    it left once (a second run at the same moment finds it left). The (event id, due time) of each left now."""
    moment = clock.at(now)
    left = []
    for upcoming in store.starting_between(moment, moment + HORIZON):
        due = due_now(upcoming.event, upcoming.reminded_at, moment)
        if due is not None and store.mark_due(upcoming.event, due, upcoming.reminded_at):
            left.append((upcoming.event.event_id, due))
    return left


def due_now(event: Event, reminded_at: datetime | None, now: datetime) -> datetime | None:
    """The reminder to send now: the latest of the event's reminder times that has come, is not before the event
    was made, and is after the last one sent. An earlier one that was never sent (the run was down, the event was
    moved nearer) is passed over for it rather than sent as well: two reminders at once tell nothing more."""
    dues = [event.starts_at - timedelta(minutes=minutes) for minutes in event.reminders]
    pending = [due for due in dues if event.created_at <= due <= now and (reminded_at is None or due > reminded_at)]
    return max(pending) if pending else None


def going_before(event_id: str, due: datetime) -> list[str]:
    """Who is reminded: those holding a seat since before the reminder fell due. Waiting people are not (their
    promotion tells them, and a reminder of an event they may not get into would mislead), nor a late sign-up."""
    return store.going_before(event_id, due)


def text(event_name: str, starts_at: datetime, location: str | None) -> str:
    """The reminder, in one sentence a button, an SMS and the skill can all say: what, when, where, how to cancel."""
    where = f", at {location}" if location else ""
    return (f"Reminder: {event_name} starts {told(starts_at)}{where}. Can't come? Press your button twice, say "
            f"\"cancel my signup\" to Turnout, or cancel on the page.")

