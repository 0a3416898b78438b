"""Local stack: the reminder run on the schedule template.yaml gives ReminderFunction (EventBridge's rate), one
thread invoking the real handler; what it leaves reaches the notify function down the table's stream as in AWS."""
from __future__ import annotations

import logging
import re
import threading
from typing import Any

from local.runtime import LambdaFunction
from local.tables import load_template

log = logging.getLogger(__name__)

FUNCTION = "ReminderFunction"
UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def rate_seconds(template: dict[str, Any] | None = None) -> float:
    """The seconds between runs, from the function's Schedule event: rate(5 minutes) is 300."""
    properties = (template or load_template())["Resources"][FUNCTION]["Properties"]
    (schedule,) = [event["Properties"]["Schedule"] for event in properties["Events"].values()
                   if event["Type"] == "Schedule"]
    found = re.fullmatch(r"rate\((\d+) (\w+)\)", schedule)
    if found is None or found[2] not in UNITS:
        raise ValueError(f"{FUNCTION}'s schedule {schedule!r} is not a rate this stack runs")
    return int(found[1]) * UNITS[found[2]]


class ReminderSchedule:
    """The stack's reminder component: a run at start-up, then one every rate_seconds, until stopped."""

    name = "reminders"

    def __init__(self, function: LambdaFunction, every: float) -> None:
        self.function = function
        self.every = every
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.function.load()
        self._thread = threading.Thread(target=self._run, name="reminder-schedule", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.function.invoke({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})
            except Exception:
                log.exception("the reminder run failed; the next one tries again")
            self._stopping.wait(self.every)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def ready(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self.function.loaded()

    def describe(self) -> str:
        return f"Reminder schedule every {self.every:g} s -> {self.function.module} (template.yaml's {FUNCTION})"


def build_component() -> ReminderSchedule:
    return ReminderSchedule(LambdaFunction.from_template(FUNCTION, "notify.schedule.lambda_handler"), rate_seconds())
