"""Core, beside every flow: what every log line carries, and what none may. The correlation id one request carries
from its edge through core to the notices it leaves is on every record made while it is set, as `correlation_id`, a
field of its own in Lambda's JSON log format (the runtime writes a record's extra attributes as fields), so one query
finds a request's every line. The wire logs of botocore and pynamodb quote items and message attributes (emails,
phones, pairing codes), so they stay quiet even when the function's log level is DEBUG."""
from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)
_make_record = logging.getLogRecordFactory()


def correlation_id() -> str | None:
    return _current.get()


@contextmanager
def correlated(correlation_id: str | None) -> Iterator[None]:
    """Everything logged inside carries this id (None: nothing to correlate by)."""
    token = _current.set(correlation_id)
    try:
        yield
    finally:
        _current.reset(token)


def _stamped(*args, **kwargs) -> logging.LogRecord:
    record = _make_record(*args, **kwargs)
    record.correlation_id = _current.get()
    return record


# A record factory, not a filter: a filter sees only its own logger's records, and botocore's and the runtime's
# lines belong to the request too.
if getattr(_make_record, "__module__", None) != __name__:
    logging.setLogRecordFactory(_stamped)

# Their DEBUG lines print request parameters and items as sent; INFO and above say what happened without them.
# A level set higher already (the local stack sets WARNING) is kept.
for _wire in map(logging.getLogger, ("botocore", "pynamodb", "urllib3")):
    if _wire.level < logging.INFO:
        _wire.setLevel(logging.INFO)
