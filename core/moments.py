"""Core, words: a moment as people read it in a sentence ("Fri 11 Dec 07:00"), in the zone it is given in (an
event's own). Every sentence a person reads or hears from core, and the button's screen, says times through it."""
from __future__ import annotations

from datetime import datetime

# Written out, not strftime's %A and %B (nor the calendar module's names), which follow the process's locale.
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December")
DAYS = tuple(name[:3] for name in DAY_NAMES)
MONTHS = tuple(name[:3] for name in MONTH_NAMES)


def told(moment: datetime) -> str:
    """ "Fri 11 Dec 07:00": a day people recognise and a 24-hour clock, in the moment's own zone."""
    return f"{DAYS[moment.weekday()]} {moment.day:02d} {MONTHS[moment.month - 1]} {moment:%H:%M}"
