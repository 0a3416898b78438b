"""API edge, entry: the Lambda function API Gateway invokes; it routes, serves, and maps every failure once."""
from __future__ import annotations

from core import startup

# Before every other import: nothing the container builds is collected while it is built (core.startup).
startup.begin()

import logging

from api import render, request, routes, routing
from core import logs, metrics
from core.errors import TurnoutError

log = logging.getLogger(__name__)


def lambda_handler(event: dict, context: object) -> dict:
    # API Gateway's request id: the access log's requestId too, so an access log line finds the function's lines.
    with logs.correlated(_request_id(event)), metrics.flushed():
        return render.with_common_headers(_answer(event))


def _answer(event: dict) -> dict:
    try:
        return _serve(event)
    except (TurnoutError, request.RequestRejected) as err:
        status = render.status_of(type(err))
        if status is None:
            # A typed error nobody gave a status is a bug here, not the caller's fault.
            log.error("Unmapped error %s for request %s", err.code, _request_id(event), exc_info=err)
            metrics.count(metrics.FAULTS)
            return render.internal_error()
        if status >= 500:
            log.warning("%s for request %s: %s", err.code, _request_id(event), err.message)
        metrics.count(metrics.REFUSALS, err.code)
        return render.error(err, status)
    except Exception:
        log.exception("Unhandled error for request %s", _request_id(event))
        metrics.count(metrics.FAULTS)
        return render.internal_error()


def _serve(event: dict) -> dict:
    chosen, params = routes.match(request.method_of(event), request.path_of(event))
    caller = request.caller(event)
    # Before any input is read: whoever may not call this route learns nothing from its validation.
    routing.admit(chosen, caller, params)
    query = request.query(event, chosen.query)
    body = request.json_body(event, chosen.body) if chosen.body else {}
    if chosen.origin:
        params = {**params, "origin": request.origin(event)}
    return chosen.serve(params, query, body, caller)


def _request_id(event: object) -> str | None:
    context = event.get("requestContext") if isinstance(event, dict) else None
    return context.get("requestId") if isinstance(context, dict) else None


startup.end()
