"""Whole flows - the API, the skill's pairing, a button, the notices they cause - with every log record and every
metrics line captured as Lambda would keep them: each record carries its request's correlation id, the notice an
organizer's cancel causes carries that request's id, and no line holds an email, a phone number, a token or a
pairing code, even with the log level at DEBUG."""
from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import boto3
import pytest

from core import config, metrics
from iot import handler as button
from notify import channels
from notify import handler as notifier
from skills import handler as skill
from tests.fixtures.alexa import SKILL_ID, envelope
from tests.support import stream
from tests.support.api import gateway_event, invoke
from tests.support.roles import unsigned_token

EMAIL = "pat.private@example.com"
PHONE = "+4798765432"
# The token in each request's header, holding the groups as an array as the verified token does (api.request
# reads them from there when API Gateway flattens them); no log line may quote either.
TOKENS = {by: unsigned_token({"username": by, "cognito:groups": [group]})
          for by, group in (("olga", "organizers"), ("ann", "skiers"), ("pat", "skiers"))}
CONTEXT = SimpleNamespace(function_name="turnout-test", aws_request_id="privacy-invocation")
STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


@pytest.fixture
def notice_topic(monkeypatch):
    arn = boto3.client("sns", region_name="us-east-1").create_topic(Name="turnout-notices-privacy")["TopicArn"]
    monkeypatch.setattr(channels, "settings", channels.settings._replace(notice_topic_arn=arn))


def _api(method: str, target: str, body: object = None, *, by: str = "olga") -> tuple[str, object]:
    """With a token (olga is an organizer): its claims as API Gateway verified them, the token itself in its header."""
    event = gateway_event(method, target, body, fixture_name="jwt_get_events.json",
                          headers={"authorization": f"Bearer {TOKENS[by]}"})
    groups = "[organizers]" if by == "olga" else "[skiers]"
    event["requestContext"]["authorizer"]["jwt"]["claims"].update(username=by, **{"cognito:groups": groups})
    answer = invoke(event)
    assert answer.status < 300, answer.text
    return event["requestContext"]["requestId"], (answer.json if answer.text else None)


def _lines(records: list[logging.LogRecord]) -> list[str]:
    """Each record as Lambda's JSON log format writes it: its message, its traceback, and every extra field."""
    lines = []
    for record in records:
        fields = {key: value for key, value in vars(record).items() if key not in STANDARD}
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        lines.append(json.dumps({"message": text, **fields}, default=str))
    return lines


def test_flows_log_no_personal_data_and_correlate_each_request(table, pinned_clock, caplog, capsys, monkeypatch,
                                                               notice_topic):
    monkeypatch.setattr(skill.skill_builder, "skill_id", SKILL_ID)
    monkeypatch.setattr(config, "settings", config.settings._replace(auth_open=False))
    monkeypatch.setattr(metrics, "settings", metrics.settings._replace(in_lambda=True))  # EMF lines written too
    caplog.set_level(logging.DEBUG)

    _, trip = _api("POST", "/events", {"name": "Ski trip", "starts_at": "2030-12-06T07:00:00",
                                       "timezone": "Europe/Oslo", "capacity": 1})
    event_id = trip["event_id"]
    _api("PUT", "/people/pat", {"name": "Pat", "email": EMAIL, "phone": PHONE}, by="pat")
    _api("PUT", "/people/ann", {"name": "Ann", "email": "ann.private@example.com"}, by="ann")
    signed, _ = _api("PUT", f"/events/{event_id}/signups/ann", by="ann")
    _api("PUT", f"/events/{event_id}/signups/pat", by="pat")  # waits
    _, issued = _api("POST", "/people/pat/alexa-code", by="pat")
    code = issued["code"]
    wrong = "000000" if code != "000000" else "111111"
    for guess in (wrong, code):
        skill.lambda_handler(envelope("link_account", slots={"code": guess}), CONTEXT)
    _api("PUT", "/devices/BTN-PAT", {"person": "pat", "event_id": event_id})
    button.lambda_handler({"serialNumber": "BTN-PAT", "clickType": EMAIL, "topicSerial": "BTN-PAT",
                           "deliveryId": "d-1"}, CONTEXT)
    cancelled, _ = _api("DELETE", f"/events/{event_id}/signups/ann")  # the organizer cancels ann: pat is promoted
    answer = notifier.lambda_handler({"Records": stream.delivered()}, CONTEXT)
    assert answer == {"batchItemFailures": []}

    # moto stands in for AWS here: its own debug lines are not the functions' logs.
    ours = [r for r in caplog.records if not r.name.startswith("moto")]
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert {"SignUps", "WaitlistJoins", "Cancels", "Promotions", "Clicks", "Refusals", "Notices"} <= {
        key for document in emf for key in document}  # the metrics lines are among what is checked
    # A metrics line's timestamp is no one's data, and under the pinned clock its milliseconds (1796040000007) hold
    # a run of zeros as long as a pairing code: it is left out of what is searched.
    written = _lines(ours) + [json.dumps({**document, "_aws": {**document["_aws"], "Timestamp": None}})
                              for document in emf]
    for secret in (EMAIL, PHONE, "98765432", *TOKENS.values(), code, wrong, "ann.private@example.com"):
        leaked = [line for line in written if secret in line]
        assert leaked == [], f"{secret!r} was logged: {leaked[:3]}"

    by_request = {r.correlation_id for r in caplog.records if r.name.startswith("api")}
    assert None not in by_request
    told = [r for r in caplog.records if r.name == "notify.handler" and r.getMessage().startswith("told")]
    assert {(r.person, r.correlation_id) for r in told if "cancelled" in r.getMessage()} == {("ann", cancelled)}
    assert {r.person for r in told if "promoted" in r.getMessage()} == {"pat"}
    assert signed != cancelled
