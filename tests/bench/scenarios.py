"""Benchmark scenarios: each user action served once by its real handler on moto in-process, with the DynamoDB
calls it makes counted from botocore's own events and every AWS answer recorded for the probes to replay.

    .venv/bin/python -m tests.bench.scenarios OUT_DIR

Writes OUT_DIR/<scenario>.json: the handler, the request, the recorded replies in order, the calls counted.
Runs in its own process: the environment below must be set before core reads its configuration.
"""
from __future__ import annotations

import base64
import copy
import json
import os
import sys
import traceback
from datetime import datetime, timedelta, timezone
from pathlib import Path

os.environ.update(
    AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_SESSION_TOKEN="bench",
    AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1", TURNOUT_TABLE="turnout",
    TURNOUT_RESULT_PUBLISHER="iot-data",
)
for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE", "TURNOUT_IOT_DATA_ENDPOINT"):
    os.environ.pop(name, None)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
sys.path.insert(0, str(ROOT))

from tests.fixtures import alexa as alexa_fixtures  # noqa: E402

os.environ["TURNOUT_SKILL_ID"] = alexa_fixtures.SKILL_ID

import botocore.handlers  # noqa: E402

_recording: list | None = None
_calls: dict[str, int] = {}


def _record(http_response, event_name, **_) -> None:
    _, service, operation = event_name.split(".", 2)
    if _recording is not None:
        _recording.append({
            "service": service,
            "operation": operation,
            "status": http_response.status_code,
            "headers": dict(http_response.headers),
            "body": http_response.content.decode(),
        })


def _count(event_name, **_) -> None:
    _, service, operation = event_name.split(".", 2)
    if _recording is not None and service == "dynamodb":
        _calls[operation] = _calls.get(operation, 0) + 1


# botocore's own events, on every session created from here on (pynamodb builds its clients lazily).
botocore.handlers.BUILTIN_HANDLERS.extend([("after-call", _record), ("before-call", _count)])

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from tests.support.roles import unsigned_token  # noqa: E402

NOW = datetime.now(timezone.utc)


class Context:
    aws_request_id = "bench-0000"
    function_name = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 9000


# What API Gateway's JWT authorizer hands the function for a signed-in organizer (Cognito's claim names).
ORGANIZER = {"jwt": {"claims": {"username": "organizer", "cognito:groups": "[organizers]", "token_use": "access"},
                     "scopes": None}}


def person(handle: str) -> dict:
    """The same for a signed-in person who is no organizer."""
    return {"jwt": {"claims": {"username": handle, "token_use": "access"}, "scopes": None}}


def http_event(method: str, path: str, body: dict | None = None, query: dict | None = None,
               caller: dict = ORGANIZER) -> dict:
    """An API Gateway HTTP API (payload 2.0) event from a signed-in caller (an organizer unless said), from the
    fixture's shape."""
    event = json.loads((FIXTURES / "apigw" / "put_signup_base64.json").read_text())
    event["requestContext"]["authorizer"] = caller
    # The token the authorizer verified travels in the Authorization header; its group claim is read from there.
    claims = {name: value[1:-1].split() if isinstance(value, str) and value[:1] == "[" else value
              for name, value in caller["jwt"]["claims"].items()}
    event["headers"]["authorization"] = f"Bearer {unsigned_token(claims)}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in (query or {}).items())
    if query:
        event["queryStringParameters"] = query
    if body is None:
        event.pop("body")
        event["isBase64Encoded"] = False
    else:
        event["body"] = base64.b64encode(json.dumps(body).encode()).decode()
    return event


def _event(services, capacity, *people):
    event = services.create_event(name="Ski trip", starts_at=(NOW + timedelta(days=2)).isoformat(),
                                  timezone="Europe/Oslo", capacity=capacity, now=NOW)
    for person in people:
        services.sign_up(event.event_id, person, now=NOW)
    return event


def scenarios():
    """(name, handler path, set-up returning the request, what its answer must be for the run to count)."""
    from core import services

    def api_sign_up():
        event = _event(services, 10, "ann", "bob")
        return http_event("PUT", f"/events/{event.event_id}/signups/melvin", {"name": "Melvin Moose"})

    def api_cancel_with_promotion():
        event = _event(services, 1, "ann", "bob")
        return http_event("DELETE", f"/events/{event.event_id}/signups/ann", caller=person("ann"))

    def api_organizer_cancels():
        event = _event(services, 1, "ann", "bob")
        return http_event("DELETE", f"/events/{event.event_id}/signups/ann")

    def api_who_is_going():
        event = _event(services, 3, "ann", "bob", "cat", "dan")
        return http_event("GET", f"/events/{event.event_id}/signups")

    def button_press_bound():
        event = _event(services, 10, "ann")
        click = json.loads((FIXTURES / "iot" / "classic_single_click_id.json").read_text())
        services.bind_device(click["serialNumber"], "melvin", event.event_id, now=NOW)
        return click

    def button_cancel_with_promotion():
        event = _event(services, 1, "melvin", "bob")
        click = json.loads((FIXTURES / "iot" / "classic_single_click_id.json").read_text())
        services.bind_device(click["serialNumber"], "melvin", event.event_id, now=NOW)
        return {**click, "clickType": "DOUBLE"}

    def voice_who_is_going():
        _event(services, 3, "ann", "bob", "cat", "dan")
        return alexa_fixtures.envelope("who_is_going", slots={"event": "the ski trip"})

    def reminder_run():
        # The two-hour reminder of an event made yesterday fell due a minute ago; two people hold seats since.
        event = services.create_event(name="Ski trip", starts_at=(NOW + timedelta(minutes=119)).isoformat(),
                                      timezone="Europe/Oslo", now=NOW - timedelta(days=1))
        for each in ("ann", "bob"):
            services.sign_up(event.event_id, each, now=NOW - timedelta(hours=3))
        return {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}

    def series_run():
        # A weekly series made an hour ago: its eighth occurrence fell due (eight weeks ahead) half an hour ago, and
        # its first starts within the week the reminder run looks at, with no reminder due yet.
        from core.services import series

        series.create_series(name="Ski club", starts_at=(NOW + timedelta(days=7, minutes=-30)).isoformat(),
                             timezone="Europe/Oslo", repeat={"every": "week", "count": 20},
                             now=NOW - timedelta(hours=1))
        return {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}

    def feed_read():
        from core import feeds

        for day in (2, 3, 4):
            event = services.create_event(name=f"Night {day}", starts_at=(NOW + timedelta(days=day)).isoformat(),
                                          timezone="Europe/Oslo", now=NOW)
            services.sign_up(event.event_id, "ann", now=NOW)
        return http_event("GET", f"/feeds/{feeds.renew_feed('ann', now=NOW).token}.ics", caller=person("ann"))

    def status(code):
        return lambda answer: answer.get("statusCode") == code

    return [
        ("api_sign_up", "api.handler.lambda_handler", api_sign_up, status(201)),
        ("api_cancel_with_promotion", "api.handler.lambda_handler", api_cancel_with_promotion,
         lambda answer: answer.get("statusCode") == 200 and json.loads(answer["body"])["promoted"]["person"] == "bob"),
        ("api_organizer_cancels", "api.handler.lambda_handler", api_organizer_cancels,
         lambda answer: answer.get("statusCode") == 200 and json.loads(answer["body"])["promoted"]["person"] == "bob"),
        ("api_who_is_going", "api.handler.lambda_handler", api_who_is_going, status(200)),
        ("button_press_bound", "iot.handler.lambda_handler", button_press_bound,
         lambda answer: answer.get("outcome") == "signed_up"),
        ("button_cancel_with_promotion", "iot.handler.lambda_handler", button_cancel_with_promotion,
         lambda answer: answer.get("outcome") == "cancelled"),
        ("reminder_run", "notify.schedule.lambda_handler", reminder_run,
         lambda answer: answer == {"reminders": 1, "occurrences": 0}),
        ("series_run", "notify.schedule.lambda_handler", series_run,
         lambda answer: answer == {"reminders": 0, "occurrences": 1}),
        ("feed_read", "api.handler.lambda_handler", feed_read,
         lambda answer: answer.get("statusCode") == 200 and answer["body"].count("BEGIN:VEVENT") == 3),
        ("voice_who_is_going", "skills.handler.lambda_handler", voice_who_is_going,
         lambda answer: "are going to Ski trip" in answer["response"]["outputSpeech"]["ssml"]),
    ]


def _empty(client) -> None:
    from local.tables import create_table

    try:
        client.delete_table(TableName="turnout")
    except client.exceptions.ResourceNotFoundException:
        pass
    create_table(client, "turnout")


def main(out: Path) -> int:
    global _recording
    import importlib

    out.mkdir(parents=True, exist_ok=True)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for name, handler_path, setup, expected in scenarios():
            target = out / f"{name}.json"
            target.unlink(missing_ok=True)
            try:
                _empty(client)
                request = setup()
                module, attr = handler_path.rsplit(".", 1)
                handle = getattr(importlib.import_module(module), attr)
                _calls.clear()
                _recording = []
                answer = handle(copy.deepcopy(request), Context())
                replies, _recording = _recording, None
                if answer is None or not expected(answer):
                    raise RuntimeError(f"not the answer this action should get: {str(answer)[:300]}")
                target.write_text(json.dumps({
                    "name": name,
                    "handler": handler_path,
                    "request": request,
                    "replies": replies,
                    "calls": dict(_calls),
                    "answer": json.loads(json.dumps(answer, default=str)),
                }, indent=1))
            except Exception:
                _recording = None
                (out / f"{name}.error").write_text(traceback.format_exc())
            else:
                (out / f"{name}.error").unlink(missing_ok=True)
    # A scenario that fails leaves its traceback in <name>.error; the table reports it.
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
