"""Core, beside every flow: the business metrics, declared once. Core and the edges count what happened; at the end
of each invocation the counts are written once as CloudWatch embedded metric format (EMF) on stdout, which
CloudWatch Logs turns into metrics with no API call. Outside Lambda nothing is written: the counts add up in
`totals`, which the local stack prints as one line (local/summary.py)."""
from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import orjson

from core.config import settings

# Each metric, and the one dimension it is split by (None: none). template.yaml's dashboard reads these names.
SIGN_UPS = "SignUps"  # a new signup with a seat
WAITLIST_JOINS = "WaitlistJoins"  # a new signup that waits in line
CANCELS = "Cancels"
PROMOTIONS = "Promotions"  # counted by notify/, which sees every promotion on the stream, whatever caused it
CHECK_INS = "CheckIns"
NOTICES = "Notices"  # by channel: button, email, sms
CLICKS = "Clicks"  # by click type: SINGLE, DOUBLE, LONG
REFUSALS = "Refusals"  # by the domain error's code: EventFull, NotSignedUp, ...
FAULTS = "Faults"  # what no refusal explains: an answer of 500, a record or click left to Lambda's retries
DIMENSIONS: dict[str, str | None] = {
    SIGN_UPS: None, WAITLIST_JOINS: None, CANCELS: None, PROMOTIONS: None, CHECK_INS: None,
    NOTICES: "Channel", CLICKS: "ClickType", REFUSALS: "Code", FAULTS: None,
}

_lock = threading.Lock()
_pending: Counter[tuple[str, str | None]] = Counter()
# Everything counted by this process so far, by metric and dimension value.
totals: Counter[tuple[str, str | None]] = Counter()


def count(metric: str, value: str | None = None, n: int = 1) -> None:
    """One more `metric` (of dimension value `value` when the metric has a dimension)."""
    if (DIMENSIONS[metric] is None) != (value is None):
        raise ValueError(f"{metric} is counted by {DIMENSIONS[metric] or 'nothing'}, got {value!r}")
    with _lock:
        _pending[(metric, value)] += n


def signed_up(outcome) -> None:
    """A sign-up's outcome (core.values.SignupOutcome): counted when it made a new signup, not on a replay."""
    if outcome.created and not outcome.replayed:
        count(SIGN_UPS if outcome.signup.status == "going" else WAITLIST_JOINS)


def done(metric: str, outcome) -> None:
    """A cancel or check-in's outcome (anything with `replayed`): counted unless it replays an earlier request."""
    if not outcome.replayed:
        count(metric)


def documents(counts: dict[tuple[str, str | None], int], namespace: str, at_ms: int) -> list[dict]:
    """The EMF documents for these counts: one for the metrics without a dimension, one per dimension value."""
    groups: dict[tuple[str, str | None] | None, dict[str, int]] = {}
    for (metric, value), n in sorted(counts.items(), key=lambda each: (each[0][0], each[0][1] or "")):
        dimension = DIMENSIONS[metric]
        groups.setdefault(None if dimension is None else (dimension, value), {})[metric] = n
    found = []
    for key, values in groups.items():
        names = [] if key is None else [key[0]]
        directive = {"Namespace": namespace, "Dimensions": [names],
                     "Metrics": [{"Name": name, "Unit": "Count"} for name in values]}
        found.append({"_aws": {"Timestamp": at_ms, "CloudWatchMetrics": [directive]},
                      **({} if key is None else {key[0]: key[1]}), **values})
    return found


def flush(*, write: bool | None = None) -> dict[tuple[str, str | None], int]:
    """Ends an invocation's counting: adds its counts to `totals` and, in Lambda, writes them as EMF lines."""
    with _lock:
        taken = dict(_pending)
        _pending.clear()
        totals.update(taken)
    if taken and (settings.in_lambda if write is None else write):
        lines = [orjson.dumps(each) for each in documents(taken, settings.metrics_namespace, int(time.time() * 1000))]
        sys.stdout.write(b"\n".join(lines).decode() + "\n")
        sys.stdout.flush()
    return taken


@contextmanager
def flushed() -> Iterator[None]:
    """Around one invocation: whatever it counted is flushed when it ends, however it ends."""
    try:
        yield
    finally:
        flush()


def summary(counts: Counter[tuple[str, str | None]] | None = None) -> str:
    """One line of what was counted, for a developer's terminal: the same figures the dashboard shows."""
    c = totals if counts is None else counts
    by = lambda metric: sum(n for (name, _), n in c.items() if name == metric)  # noqa: E731
    channels = ", ".join(f"{value} {n}" for (name, value), n in sorted(c.items(), key=lambda each: str(each[0]))
                         if name == NOTICES) or "none"
    return (f"sign-ups {by(SIGN_UPS)} (+{by(WAITLIST_JOINS)} waitlisted), cancels {by(CANCELS)}, promotions "
            f"{by(PROMOTIONS)}, check-ins {by(CHECK_INS)}, clicks {by(CLICKS)}, notices {by(NOTICES)} ({channels}), "
            f"refusals {by(REFUSALS)}, errors {by(FAULTS)}")
