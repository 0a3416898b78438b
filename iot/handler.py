"""IoT edge: the Lambda behind the topic rule on iotbutton/+ — parse the click, call one core service, answer the button."""
from __future__ import annotations

import logging
from typing import Any, Callable

from core import services
from core.errors import Busy, InvalidInput, TurnoutError
from core.values import Event, Signup
from iot import clicks, results

log = logging.getLogger(__name__)
# Lambda's root logger passes only warnings by default; every click's fate belongs in the log.
log.setLevel(logging.INFO)


# With no Lambda context to size it, a hold on a click's answer outlasts the function's own timeout (10 s in
# template.yaml) yet lapses before Lambda's first retry, a minute after a failure.
HOLD_SECONDS = 30.0


def lambda_handler(event: Any, context: Any) -> dict[str, Any] | None:
    return _handle(event, context)


def _handle(event: Any, context: Any) -> dict[str, Any] | None:
    """Returns the result the button was sent, or None when it was not answered.

    Never raises for what a retry cannot change (a bad payload, an unknown button, a domain refusal);
    raises for infrastructure failures (core's Busy, botocore/pynamodb errors, the result transport)
    so that Lambda retries the delivery and, after its retries, hands it to the on-failure queue."""
    try:
        click = clicks.parse(event, getattr(context, "aws_request_id", None))
    except clicks.BadClick as bad:
        log.warning("unusable button message: %s (event=%.500r)", bad.message, event)
        if bad.serial is None:
            return None
        return _answer(bad.request_id, context, lambda: results.refused(
            bad.serial, bad.click_type, bad.click_id, InvalidInput(bad.message)))
    return _answer(click.request_id, context, lambda: _act(click))


def _answer(request_id: str | None, context: Any, outcome: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """Exactly one result per click. One delivery claims the click's answer; it stores the outcome (core
    de-duplicates that by request id) and publishes it, then settles the claim. Deliveries arriving
    meanwhile or afterwards stay silent. One that fails releases its claim and raises, so Lambda's retry
    answers - with the outcome stored the first time."""
    if request_id is None:
        log.warning("a click with nothing to identify it: a repeated delivery would be answered again")
        result = outcome()
        results.publish(result)
        return result
    if not services.claim_answer(request_id, hold_seconds=_hold_seconds(context)):
        log.info("repeated delivery of %s: answered already, or being answered", request_id)
        return None
    try:
        result = outcome()
        results.publish(result)
    except BaseException:
        _release(request_id)
        raise
    try:
        services.settle_answer(request_id, answered=True)
    except Exception:
        # The answer is out; a retry now would only send it twice. The hold lapses on its own.
        log.exception("could not record that %s was answered", request_id)
    log.info("button %s %s -> %s", result["serial"], result["click"], result["outcome"])
    return result


def _release(request_id: str) -> None:
    try:
        services.settle_answer(request_id, answered=False)
    except Exception:
        # The failure being raised matters more; the hold lapses on its own before Lambda retries.
        log.exception("could not release the answer to %s", request_id)


def _hold_seconds(context: Any) -> float:
    """As long as this invocation may still run: after that it is dead, and a retry may answer instead."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return min(900.0, remaining() / 1000 + 1) if callable(remaining) else HOLD_SECONDS


def _act(click: clicks.Click) -> dict[str, Any]:
    try:
        device = services.get_device(click.serial)
        event = services.get_event(device.event_id) if device.event_id else services.next_event()
        if click.click_type == "SINGLE":
            outcome = services.sign_up(event.event_id, device.person, source="iot", request_id=click.request_id)
            event = _event_of(outcome.signup, event)
            return results.signed_up(click.serial, click.click_type, click.click_id, event, outcome)
        if click.click_type == "DOUBLE":
            cancellation = services.cancel_signup(event.event_id, device.person, request_id=click.request_id)
            event = _event_of(cancellation.cancelled, event)
            return results.cancelled(click.serial, click.click_type, click.click_id, event, cancellation)
        signup = services.check_in(event.event_id, device.person, request_id=click.request_id)
        return results.checked_in(click.serial, click.click_type, click.click_id, event, signup)
    except Busy:
        raise
    except TurnoutError as refusal:
        log.info("button %s %s refused: %s %s", click.serial, click.click_type, refusal.code, refusal.message)
        return results.refused(click.serial, click.click_type, click.click_id, refusal)


def _event_of(signup: Signup, guess: Event) -> Event:
    """A replayed outcome may belong to an event that was 'next' at the first delivery but no longer is."""
    return guess if signup.event_id == guess.event_id else services.get_event(signup.event_id)
