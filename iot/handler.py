"""IoT edge, entry: the Lambda behind the iotbutton/+ rule — parse the click, press it in core, answer the button."""
from __future__ import annotations

from core import startup

# Before every other import: nothing the container builds is collected while it is built (core.startup).
startup.begin()

import logging
import os
from typing import Any

from core import logs, metrics, presses
from core.errors import InvalidInput
from iot import clicks, results

log = logging.getLogger(__name__)
# Lambda's root logger passes only warnings by default; refusals and repeated deliveries belong in the log.
log.setLevel(logging.INFO)


def lambda_handler(event: Any, context: Any) -> dict[str, Any] | None:
    """Returns the result the button was sent, or None when this delivery does not answer.

    Exactly one result per click: core stores each click's outcome once, with the click's effect, and the
    delivery that stored it answers - or Lambda's own retry of it (same request id), when it failed before
    answering. Any other delivery of the same click stays silent. Never raises for what a retry cannot
    change (a bad payload, an unknown button, a domain refusal); raises for infrastructure failures (core's
    Busy, botocore/pynamodb errors, the result transport) so that Lambda retries the delivery and, after its
    retries, hands it to the on-failure queue."""
    invocation = getattr(context, "aws_request_id", None)
    # Correlated by the click's own id when it has one (every delivery of a click shares it), else the invocation's.
    with logs.correlated(_click_id(event) or invocation), metrics.flushed():
        try:
            return _press(event, invocation)
        except Exception:
            metrics.count(metrics.FAULTS)
            raise


def _press(event: Any, invocation: str | None) -> dict[str, Any] | None:
    try:
        click = clicks.parse(event, invocation)
    except clicks.BadClick as bad:
        # The message as received is not logged: a button sends only its serial and click, and anything else
        # in it is not ours to keep.
        log.warning("unusable button message: %s", bad.message)
        if bad.serial is None:
            return None
        press = presses.refuse_click(bad.click_type, InvalidInput(bad.message), invocation=invocation,
                                      request_id=bad.request_id or _unidentified(bad.serial), serial=bad.serial)
        return _answer(bad.serial, bad.click_id, press)
    press = presses.press_button(click.serial, click.click_type, invocation=invocation,
                                  request_id=click.request_id or _unidentified(click.serial))
    return _answer(click.serial, click.click_id, press)


def _click_id(event: Any) -> str | None:
    found = event.get("clickId") if isinstance(event, dict) else None
    return found if isinstance(found, str) and len(found) <= 200 else None


def _unidentified(serial: str) -> str:
    log.warning("a click from %s with nothing to identify it: a repeated delivery would be answered again", serial)
    return f"iot:{serial}:unidentified:{os.urandom(8).hex()}"


def _answer(serial: str, click_id: str | None, press) -> dict[str, Any] | None:
    if not press.answer:
        log.info("repeated delivery of a click of %s: answered by the delivery that stored it", serial)
        return None
    result = results.of(serial, click_id, press)
    results.publish(result)
    metrics.count(metrics.CLICKS, press.click if press.click in presses.CLICKS else "unknown")
    if press.error:
        metrics.count(metrics.REFUSALS, press.error[0])
    # Refusals are worth a line each; what every click came to is stored with it (its request item).
    (log.info if press.error else log.debug)("button %s %s -> %s", serial, press.click, press.outcome)
    return result


startup.end()
