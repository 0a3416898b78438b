"""Local stack: the business metrics the functions count (core/metrics.py), printed as one line every minute and once
more on stop - what the deployed stack's dashboard would show, in the terminal `make run` runs in."""
from __future__ import annotations

import threading
from collections.abc import Callable

EVERY_SECONDS = 60.0


class MetricsSummary:
    """The stack's last component: started after every function can run, stopped first, so its last line counts all."""

    name = "metrics"

    def __init__(self, *, every_seconds: float = EVERY_SECONDS, say: Callable[[str], None] | None = None) -> None:
        self.every_seconds = every_seconds
        self.say = say or (lambda line: print(line, flush=True))
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def line(self) -> str:
        from core import metrics  # imports core: only once the stack has pointed it at the local endpoint

        return f"turnout: metrics so far: {metrics.summary()}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="metrics-summary", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(self.every_seconds):
            self.say(self.line())

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stopping.set()
        self._thread.join(timeout=5)
        self._thread = None
        self.say(self.line())

    def ready(self) -> bool:
        return self._thread is not None

    def describe(self) -> str:
        return f"Metrics           one line every {self.every_seconds:g} s and on stop (sign-ups, notices, errors)"
